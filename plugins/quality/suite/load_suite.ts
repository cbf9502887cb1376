/**
 * Suites from YAML or JSON: GX's `ExpectationSuite` JSON shape
 * (`{name, expectations: [{type, kwargs, meta}]}`, also GX 0.x's
 * `expectation_suite_name`/`expectation_type`), a short YAML form
 * (`- expect_column_values_to_not_be_null: {column: id}`), custom SQL
 * (`- sql: "amount >= 0"`), and SodaCL-like `checks:` lines
 * (`- missing_count(email) = 0`, `- row_count between 10 and 100`).
 * Every expectation is checked against its type's arguments here, once;
 * errors name the file, line and column.
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { getDefinition } from "../expectations/registry.ts";
import type { ExpectationConfig, ExpectationSuite } from "../types.ts";
import { parseShorthand } from "./shorthand.ts";

const COMMON_KWARGS = new Set([
  "result_format",
  "catch_exceptions",
  "meta",
  "row_condition",
  "condition_parser",
  "mostly",
]);

/** Checks one expectation's type and arguments; returns it with `type` normalised. */
export function checkExpectation(e: ExpectationConfig): ExpectationConfig {
  const def = getDefinition(e.type, e.where);
  const kw = e.kwargs ?? {};
  const name = `${e.type}`;
  for (const [arg, spec] of Object.entries(def.args)) {
    const v = kw[arg];
    if (v === undefined || v === null) {
      if (spec.required) {
        throw new MercuryError("usage", `${name} needs the argument ${arg}`, {
          where: e.where,
          hint: `add ${arg}: … to its kwargs`,
        });
      }
      continue;
    }
    const bad = (want: string) =>
      new MercuryError("usage", `${name}: argument ${arg} must be ${want}, got ${JSON.stringify(v)}`, {
        where: e.where,
        hint: `fix ${arg} of ${name}`,
      });
    switch (spec.type) {
      case "string":
        if (typeof v !== "string") throw bad("a string");
        break;
      case "number":
        if (typeof v !== "number" || !Number.isFinite(v)) throw bad("a number");
        break;
      case "integer":
        if (typeof v !== "number" || !Number.isInteger(v)) throw bad("an integer");
        break;
      case "boolean":
        if (typeof v !== "boolean") throw bad("true or false");
        break;
      case "array":
        if (!Array.isArray(v)) throw bad("a list");
        break;
      case "string[]":
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw bad("a list of strings");
        break;
      case "object":
        if (typeof v !== "object" || Array.isArray(v)) throw bad("a mapping");
        break;
    }
  }
  for (const arg of Object.keys(kw)) {
    if (!(arg in def.args) && !COMMON_KWARGS.has(arg) && !arg.startsWith("__")) {
      throw new MercuryError("usage", `${name} has no argument ${arg}`, {
        where: e.where,
        hint: `its arguments: ${Object.keys(def.args).join(", ")}`,
      });
    }
  }
  const mostly = kw.mostly;
  if (mostly !== undefined && (typeof mostly !== "number" || mostly < 0 || mostly > 1)) {
    throw new MercuryError("usage", `${name}: mostly must be a number from 0 to 1, got ${JSON.stringify(mostly)}`, {
      where: e.where,
    });
  }
  const extra = def.check?.(kw);
  if (extra) throw new MercuryError("usage", `${name}: ${extra}`, { where: e.where });
  return e;
}

function toExpectation(item: unknown, where: string): ExpectationConfig {
  if (typeof item === "string") return parseShorthand(item, where);
  if (!item || typeof item !== "object" || Array.isArray(item)) {
    throw new MercuryError("usage", `an expectation must be a mapping, got ${JSON.stringify(item)}`, { where });
  }
  const o = item as Record<string, unknown>;
  if (typeof o.sql === "string") {
    return {
      type: "expect_rows_to_satisfy_sql",
      kwargs: { predicate: o.sql, ...(typeof o.mostly === "number" ? { mostly: o.mostly } : {}) },
      meta: { ...(o.meta as object ?? {}), ...(o.name ? { name: o.name } : {}) },
      where,
    };
  }
  if (typeof o.sql_aggregate === "string") {
    const { sql_aggregate, name, meta, ...bounds } = o;
    return {
      type: "expect_sql_aggregate_to_be_between",
      kwargs: { expression: sql_aggregate, ...bounds },
      meta: { ...(meta as object ?? {}), ...(name ? { name } : {}) },
      where,
    };
  }
  const type = (o.type ?? o.expectation_type) as string | undefined;
  if (typeof type === "string") {
    return {
      type,
      kwargs: (o.kwargs as Record<string, unknown>) ?? {},
      ...(o.meta ? { meta: o.meta as Record<string, unknown> } : {}),
      ...(o.id ? { id: String(o.id) } : {}),
      ...(o.notes ? { notes: String(o.notes) } : {}),
      where,
    };
  }
  const keys = Object.keys(o);
  if (keys.length === 1 || (keys.length === 2 && "meta" in o)) {
    const t = keys.find((k) => k !== "meta")!;
    const kw = o[t];
    return {
      type: t,
      kwargs: (kw && typeof kw === "object" ? kw : {}) as Record<string, unknown>,
      ...(o.meta ? { meta: o.meta as Record<string, unknown> } : {}),
      where,
    };
  }
  throw new MercuryError("usage", `cannot tell the expectation type of ${JSON.stringify(item)}`, {
    where,
    hint: "write `- type: expect_…` with kwargs, or `- expect_…: {column: …}`",
  });
}

/**
 * Parses a suite from text; `file` names it in errors.
 *
 * @example
 * ```ts
 * import { parseSuite } from "@mercury/quality";
 * import assert from "node:assert/strict";
 *
 * const suite = parseSuite(`
 * name: orders
 * expectations:
 *   - expect_column_values_to_not_be_null: {column: id}
 * checks:
 *   - row_count between 1 and 100
 * `, "orders.yaml");
 * assert.deepEqual(suite.expectations.map((e) => e.type), [
 *   "expect_column_values_to_not_be_null",
 *   "expect_table_row_count_to_be_between",
 * ]);
 * ```
 */
export function parseSuite(text: string, file = "suite"): ExpectationSuite {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0] ?? (err.pos?.[0] !== undefined ? lc.linePos(err.pos[0]) : undefined);
    throw new MercuryError("usage", `cannot parse ${file}: ${err.message.split("\n")[0]}`, {
      where: pos ? `${file}:${pos.line}:${pos.col}` : file,
      hint: "fix the YAML syntax there",
    });
  }
  const root = doc.toJS() as Record<string, unknown> | null;
  if (!root || typeof root !== "object" || Array.isArray(root)) {
    throw new MercuryError("usage", `${file} must be a mapping with expectations:`, { where: `${file}:1:1` });
  }
  const at = (path: (string | number)[]) => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const off = node?.range?.[0];
    if (off === undefined) return file;
    const p = lc.linePos(off);
    return `${file}:${p.line}:${p.col}`;
  };
  const expectations: ExpectationConfig[] = [];
  for (const key of ["expectations", "checks"] as const) {
    const list = root[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new MercuryError("usage", `${key} must be a list`, { where: at([key]) });
    const node = doc.get(key, true);
    void isSeq(node);
    list.forEach((item, i) => {
      const where = at([key, i]);
      const shorthandKey = key === "checks" && item && typeof item === "object" && !Array.isArray(item) &&
          Object.keys(item).length === 1 && !Object.keys(item)[0]!.startsWith("expect_")
        ? Object.keys(item)[0]!
        : undefined;
      const e = shorthandKey !== undefined
        ? parseShorthand(shorthandKey, where, (item as Record<string, Record<string, unknown>>)[shorthandKey])
        : toExpectation(item, where);
      expectations.push(checkExpectation(e));
    });
    void isMap;
  }
  const name = String(root.name ?? root.expectation_suite_name ?? file.replace(/^.*\//, "").replace(/\.[^.]*$/, ""));
  return {
    name,
    expectations,
    ...(root.meta ? { meta: root.meta as Record<string, unknown> } : {}),
    ...(root.result_format ? { result_format: root.result_format as ExpectationSuite["result_format"] } : {}),
    ...(root.weights ? { weights: root.weights as Record<string, number> } : {}),
  };
}

/** Reads and parses a suite file (YAML or JSON). */
export async function loadSuite(path: string): Promise<ExpectationSuite> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new MercuryError("not_found", `cannot read suite ${path}: ${(err as Error).message}`, {
      where: "--config",
      hint: "check the path of the expectations file",
      cause: err,
    });
  }
  return parseSuite(text, path);
}

/** Checks an in-memory suite (from the library API) as a file would be. */
export function checkSuite(suite: ExpectationSuite): ExpectationSuite {
  if (!suite || !Array.isArray(suite.expectations)) {
    throw new MercuryError("usage", "a suite needs an expectations list");
  }
  return {
    ...suite,
    // Kwargs are copied: the engine keeps per-run state (temp table names) in them.
    expectations: suite.expectations.map((e, i) =>
      checkExpectation({
        ...e,
        kwargs: Object.fromEntries(
          Object.entries(e.kwargs ?? {}).filter(([k]) => k !== "__dup_table" && k !== "__bad_table"),
        ),
        where: e.where ?? `${suite.name}#${i}`,
      })
    ),
  };
}
