/**
 * Compiles a suite into as few DuckDB queries as the expectations allow:
 * one aggregate scan holding the row count, every column-map expectation's
 * missing/unexpected counts (`count(*) filter (where …)`) and every
 * aggregate expectation's aggregates; plus one query per expectation that
 * needs a window (compound uniqueness, ordering) or its own grouping
 * (distinct sets, modes, quantiles).
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import { closest, getDefinition } from "../expectations/registry.ts";
import type { ColumnInfo, CompileContext, ExpectationDefinition, MapDefinition } from "../expectations/definition.ts";
import type { ExpectationConfig } from "../types.ts";

/** A SQL literal for a JSON value from a suite. */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  return quoteLiteral(String(v));
}

function near(word: string, names: string[]): string | undefined {
  const lw = word.toLowerCase();
  return names.find((n) => n.toLowerCase() === lw) ?? closest(word, names) ??
    names.find((n) => n.toLowerCase().includes(lw) || lw.includes(n.toLowerCase()));
}

/** A compile context over a relation and its columns; `where` names the expectation in errors. */
export function compileContext(rel: string, columns: ColumnInfo[], e: ExpectationConfig): CompileContext {
  const names = columns.map((c) => c.name);
  return {
    rel,
    columns,
    col(name: unknown, arg = "column") {
      const n = String(name);
      if (!names.includes(n)) {
        const guess = near(n, names);
        throw new MercuryError("input", `column "${n}" does not exist (${e.type}, argument ${arg})`, {
          where: e.where,
          hint: guess ? `did you mean "${guess}"?` : `columns: ${names.slice(0, 20).join(", ")}`,
        });
      }
      return quoteIdent(n);
    },
    typeOf: (n) => columns.find((c) => c.name === n)?.type ?? "",
    lit: sqlLiteral,
  };
}

/** One expectation as the engine runs it. */
export interface Planned {
  index: number;
  config: ExpectationConfig;
  def: ExpectationDefinition;
  ctx: CompileContext;
  /** Map: considered-rows filter (`null`: all rows, no missing counts). */
  filter?: string | null;
  predicate?: string;
  /** Map: the value shown in unexpected lists. */
  value?: string;
  /** Map: window expression (runs in its own query). */
  window?: string;
  /** Where the row_condition restricts the rows. */
  rowCondition?: string;
  /** Aggregate: alias → SQL in the main scan. */
  aggregates?: Record<string, string>;
}

/** The relation with a row number, for order-dependent expectations. */
export const NUMBERED = (rel: string) => `(select *, row_number() over () as __rn from ${rel})`;

/** Builds the per-expectation plan; throws on a missing column before any query runs. */
export function plan(rel: string, columns: ColumnInfo[], expectations: ExpectationConfig[]): Planned[] {
  return expectations.map((config, index) => {
    const def = getDefinition(config.type, config.where);
    const ctx = compileContext(rel, columns, config);
    const p: Planned = { index, config, def, ctx };
    const rc = config.kwargs.row_condition;
    if (typeof rc === "string" && rc.trim()) p.rowCondition = rc;
    if (def.kind === "map") {
      const m = def as MapDefinition;
      const colFilter = config.kwargs.column !== undefined ? `${ctx.col(config.kwargs.column)} is not null` : "true";
      p.filter = m.filter ? m.filter(config.kwargs, ctx) : colFilter;
      p.window = m.window?.(config.kwargs, ctx);
      p.value = m.value
        ? m.value(config.kwargs, ctx)
        : config.kwargs.column !== undefined
        ? ctx.col(config.kwargs.column)
        : "null";
      if (!m.prepare) p.predicate = m.predicate(config.kwargs, ctx);
    } else if (def.kind === "aggregate") {
      p.aggregates = def.aggregates(config.kwargs, ctx);
    }
    return p;
  });
}

/** The considered-rows condition of a map expectation, row_condition included. */
export function considered(p: Planned): string {
  const parts = [p.rowCondition ? `(${p.rowCondition})` : "", p.filter ? `(${p.filter})` : ""].filter(Boolean);
  return parts.length ? parts.join(" and ") : "true";
}

/** The derived relation a windowed map expectation counts over (its considered rows with `__w` and `__v`). */
export function windowed(rel: string, p: Planned): string {
  const v = p.config.kwargs.column !== undefined ? p.ctx.col(p.config.kwargs.column) : "null";
  return `(select *, ${p.window} as __w, ${v} as __v from ${NUMBERED(rel)} where ${considered(p)})`;
}

/** Is the map expectation counted in the main scan? */
export const inMainScan = (p: Planned) =>
  p.def.kind === "map" && !p.window && p.def.type !== "expect_column_values_to_be_of_type" &&
  p.def.type !== "expect_column_values_to_be_in_type_list";

/** The single aggregate scan. */
export function mainScan(rel: string, planned: Planned[]): string {
  const cols = ["count(*) as __n"];
  for (const p of planned) {
    if (inMainScan(p)) {
      const c = considered(p);
      if (p.rowCondition) cols.push(`count(*) filter (where ${p.rowCondition}) as e${p.index}`);
      cols.push(`count(*) filter (where ${c}) as n${p.index}`);
      cols.push(`count(*) filter (where ${c} and (${p.predicate})) as u${p.index}`);
    } else if (p.aggregates) {
      for (const [k, sql] of Object.entries(p.aggregates)) cols.push(`${sql} as ${quoteIdent(`a${p.index}_${k}`)}`);
    }
  }
  return `select ${cols.join(",\n  ")}\nfrom ${rel}`;
}

/** Counts of a windowed map expectation. */
export function windowScan(rel: string, p: Planned): string {
  return `select count(*) as n, count(*) filter (where ${p.predicate}) as u from ${windowed(rel, p)}`;
}

/** Unexpected rows of one failing map expectation as a relation of `v` values. */
export function unexpectedRelation(rel: string, p: Planned): string {
  return p.window
    ? `(select ${p.value} as v, __rn from ${windowed(rel, p)} where ${p.predicate})`
    : `(select ${p.value} as v from ${rel} where ${considered(p)} and (${p.predicate}))`;
}

/**
 * Every failing row once, with the list of expectations it failed
 * (`__failed_expectations`), for the failing-rows Parquet.
 */
export function failingRowsQuery(rel: string, failing: Planned[]): string {
  const needRn = failing.some((p) => p.window);
  const base = needRn ? NUMBERED(rel) : rel;
  const conds = failing.map((p) => {
    if (p.window) return `__rn in (select __rn from ${windowed(rel, p)} where ${p.predicate})`;
    return `(${considered(p)} and (${p.predicate}))`;
  });
  const label = (p: Planned) =>
    quoteLiteral(`${p.config.type}${p.config.kwargs.column ? `(${p.config.kwargs.column})` : ""}#${p.index}`);
  const list = failing.map((p, i) => `case when ${conds[i]} then ${label(p)} end`);
  const exclude = needRn ? " exclude (__rn)" : "";
  return `select *${exclude}, list_filter([${
    list.join(", ")
  }], x -> x is not null) as __failed_expectations\nfrom ${base} as b\nwhere ${conds.join("\n   or ")}`;
}
