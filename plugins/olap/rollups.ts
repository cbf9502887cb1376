/**
 * Rollups (pre-aggregations, as in Cube): a table grouped by some dimension
 * columns with partial aggregates (`count(*)`, `sum`, `count`, `min`, `max` per
 * measure). A query over the source table whose filters and groups use only
 * those dimensions and whose aggregates re-aggregate exactly (sum of sums,
 * min of mins, count as a sum of counts, avg as sum/count) is rewritten to read
 * the rollup instead. Matching and rewriting work on DuckDB's own AST
 * (`json_serialize_sql` / `json_deserialize_sql`), so any SQL DuckDB parses is
 * handled or left alone — never half-understood.
 *
 * @example A query the rollup answers
 * ```ts
 * import { rewriteForRollup, rollupSelect } from "@mercury/olap";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import assert from "node:assert/strict";
 *
 * const c = await (await DuckDBInstance.create()).connect();
 * await c.run("create table sales (region varchar, user_id int, amount double)");
 * const spec = { name: "by_region", table: "sales", dimensions: ["region"], measures: [{ agg: "sum", column: "amount" }] } as const;
 * assert.match(rollupSelect(spec, '"sales"'), /sum\("amount"\) as "sum__amount"/);
 * const sql = await rewriteForRollup(c, "select region, sum(amount) from sales where region <> 'x' group by region", spec, "rollup_by_region");
 * assert.match(sql!, /FROM rollup_by_region/);
 * assert.equal(await rewriteForRollup(c, "select user_id, sum(amount) from sales group by 1", spec, "r"), undefined);
 * c.closeSync();
 * ```
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { OlapError } from "./errors.ts";
import { lit, parseAst } from "./sql_ast.ts";
import { quoteIdent as ident } from "@mercury/core/sql";

/** An aggregate a rollup keeps. `count` without a column is `count(*)` (always kept). */
export interface Measure {
  agg: "sum" | "count" | "min" | "max" | "avg";
  column?: string;
}

/** A declared rollup. */
export interface RollupSpec {
  name: string;
  /** The source table. */
  table: string;
  dimensions: readonly string[];
  measures: readonly Measure[];
}

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

/** Columns a rollup stores for a measure. Integer sums are kept as BIGINT: Parquet has no 128-bit integer. */
function storedFor(m: Measure, types: Record<string, string> = {}): { col: string; expr: string }[] {
  if (!m.column) return [];
  const c = ident(m.column);
  const sum = INTEGER_TYPES.test(types[m.column] ?? "") ? `cast(sum(${c}) as bigint)` : `sum(${c})`;
  switch (m.agg) {
    case "sum":
      return [{ col: `sum__${m.column}`, expr: sum }];
    case "count":
      return [{ col: `cnt__${m.column}`, expr: `count(${c})` }];
    case "min":
      return [{ col: `min__${m.column}`, expr: `min(${c})` }];
    case "max":
      return [{ col: `max__${m.column}`, expr: `max(${c})` }];
    case "avg":
      return [{ col: `sum__${m.column}`, expr: sum }, { col: `cnt__${m.column}`, expr: `count(${c})` }];
  }
}

/** Checks a spec from a request or file. */
export function checkRollup(spec: RollupSpec): RollupSpec {
  const bad = (m: string) => new OlapError(400, "bad_rollup", `rollup "${spec?.name}": ${m}`);
  if (!spec || typeof spec.name !== "string" || !/^[a-z_][a-z0-9_]*$/.test(spec.name)) {
    throw bad("name must be an identifier");
  }
  if (typeof spec.table !== "string") throw bad("table is missing");
  if (!Array.isArray(spec.dimensions) || spec.dimensions.length === 0) throw bad("needs at least one dimension");
  if (!Array.isArray(spec.measures)) throw bad("measures must be a list");
  for (const m of spec.measures) {
    if (!["sum", "count", "min", "max", "avg"].includes(m.agg)) throw bad(`unknown aggregate "${m.agg}"`);
  }
  return spec;
}

/** The `SELECT` that materialises a rollup from `source` (a relation); `types` are the source's column types. */
export function rollupSelect(spec: RollupSpec, source: string, types: Record<string, string> = {}): string {
  const dims = spec.dimensions.map(ident);
  const stored = new Map<string, string>();
  for (const m of spec.measures) for (const s of storedFor(m, types)) stored.set(s.col, s.expr);
  const cols = [...dims, `count(*) as "cnt"`, ...[...stored].map(([c, e]) => `${e} as ${ident(c)}`)];
  return `select ${cols.join(", ")} from ${source} group by ${dims.join(", ")}`;
}

// deno-lint-ignore no-explicit-any
type Node = any;

/** The AST of one expression, parsed by DuckDB. */
async function exprAst(conn: DuckDBConnection, expr: string): Promise<Node> {
  const r = await conn.runAndReadAll(`select json_serialize_sql(${lit(`select ${expr}`)}) as j`);
  return parseAst(String(r.getRows()[0]![0])).statements[0].node.select_list[0];
}

const lastName = (n: Node): string => n.column_names[n.column_names.length - 1];

/**
 * Rewrites `sql` to read `rollupTable` when `spec` can answer it exactly;
 * `undefined` otherwise. The rewritten query keeps the original's output
 * column names and types.
 */
export async function rewriteForRollup(
  conn: DuckDBConnection,
  sql: string,
  spec: RollupSpec,
  rollupTable: string,
): Promise<string | undefined> {
  const r = await conn.runAndReadAll(`select json_serialize_sql(${lit(sql)}) as j`);
  const j = parseAst(String(r.getRows()[0]![0]));
  if (j.error || j.statements.length !== 1) return undefined;
  const node = j.statements[0].node;
  if (node.type !== "SELECT_NODE" || node.cte_map?.map?.length) return undefined;
  const from = node.from_table;
  if (from?.type !== "BASE_TABLE" || from.table_name !== spec.table || from.schema_name || from.sample) {
    return undefined;
  }
  if (node.qualify || node.sample) return undefined;
  if (node.aggregate_handling !== "STANDARD_HANDLING" && node.aggregate_handling !== "FORCE_AGGREGATES") {
    return undefined;
  }
  if (!node.group_expressions?.length && !node.select_list.some(hasAggregate)) return undefined;
  const dims = new Set(spec.dimensions);
  const has = new Set<string>(["cnt"]);
  for (const m of spec.measures) for (const s of storedFor(m)) has.add(s.col);

  // Replacement expressions, parsed by DuckDB, so the AST we splice in is one it wrote.
  const replacements: { at: Node; by: string; original: string }[] = [];
  let ok = true;
  const visit = (n: Node, inAgg: boolean): void => {
    if (!ok || n === null || typeof n !== "object") return;
    if (Array.isArray(n)) return n.forEach((x) => visit(x, inAgg));
    if (n.class === "COLUMN_REF") {
      if (!dims.has(lastName(n))) ok = false;
      else n.column_names = [lastName(n)];
      return;
    }
    if (n.class === "STAR" || n.class === "SUBQUERY" || n.class === "WINDOW" || n.class === "LAMBDA") {
      ok = false;
      return;
    }
    if (n.class === "FUNCTION" && isAgg(n.function_name)) {
      if (inAgg || n.distinct || n.filter || n.order_bys?.orders?.length) {
        ok = false;
        return;
      }
      const by = aggReplacement(n, has);
      if (!by) ok = false;
      else {
        const col = n.children?.[0] ? ident(lastName(n.children[0])) : "*";
        const fn = n.function_name === "count_star" ? "count" : n.function_name;
        replacements.push({ at: n, by, original: `${fn}(${col})` });
      }
      return;
    }
    for (const [k, v] of Object.entries(n)) if (k !== "cte_map") visit(v, inAgg);
  };
  visit(node.select_list, false);
  visit(node.where_clause, false);
  visit(node.group_expressions, false);
  visit(node.having, false);
  for (const m of node.modifiers ?? []) {
    if (m.type !== "ORDER_MODIFIER") continue;
    // ORDER BY ALL is a STAR over the output columns.
    for (const o of m.orders) if (o.expression?.class !== "STAR") visit(o.expression, false);
  }
  if (!ok) return undefined;
  // Keep output names: unaliased items get the name DuckDB gives the original.
  const prep = await conn.prepare(sql).catch(() => undefined);
  if (!prep) return undefined;
  node.select_list.forEach((item: Node, i: number) => {
    if (!item.alias) item.alias = prep.columnName(i);
  });
  for (const { at, by, original } of replacements) {
    // Cast back to the type the aggregate has over the source, so answers are identical to the byte.
    const p = await conn.prepare(`select ${original} from ${ident(spec.table)}`).catch(() => undefined);
    if (!p) return undefined;
    const repl = await exprAst(conn, `CAST(${by} AS ${p.columnType(0).toString()})`);
    const alias = at.alias ?? "";
    for (const k of Object.keys(at)) delete at[k];
    Object.assign(at, repl, { alias });
  }
  // Aliases on nested replacements are cleared; top-level aliases were set above.
  node.select_list.forEach((item: Node, i: number) => {
    if (!item.alias) item.alias = prep.columnName(i);
  });
  from.table_name = rollupTable;
  from.alias = from.alias || "";
  const back = await conn.runAndReadAll(`select json_deserialize_sql(${lit(JSON.stringify(j))}) as s`);
  return String(back.getRows()[0]![0]);
}

function isAgg(name: string): boolean {
  return ["sum", "count", "count_star", "min", "max", "avg", "mean"].includes(name);
}

function hasAggregate(n: Node): boolean {
  if (n === null || typeof n !== "object") return false;
  if (Array.isArray(n)) return n.some(hasAggregate);
  if (n.class === "FUNCTION" && isAgg(n.function_name)) return true;
  return Object.values(n).some(hasAggregate);
}

function aggReplacement(n: Node, has: Set<string>): string | undefined {
  const name = n.function_name as string;
  if (name === "count_star") return `CAST(sum("cnt") AS BIGINT)`;
  if (n.children?.length !== 1 || n.children[0].class !== "COLUMN_REF") return undefined;
  const col = lastName(n.children[0]);
  const need = (c: string) => (has.has(c) ? ident(c) : undefined);
  switch (name) {
    case "sum": {
      const s = need(`sum__${col}`);
      return s && `sum(${s})`;
    }
    case "min": {
      const s = need(`min__${col}`);
      return s && `min(${s})`;
    }
    case "max": {
      const s = need(`max__${col}`);
      return s && `max(${s})`;
    }
    case "count": {
      const s = need(`cnt__${col}`);
      return s && `CAST(sum(${s}) AS BIGINT)`;
    }
    case "avg":
    case "mean": {
      const s = need(`sum__${col}`), c = need(`cnt__${col}`);
      return s && c && `(sum(${s}) / sum(${c}))`;
    }
  }
  return undefined;
}

/** A logged query's shape, for suggestions. */
export interface LoggedQuery {
  sql: string;
  ms: number;
}

/** A rollup the query log suggests, with the queries it would answer. */
export interface RollupSuggestion {
  spec: RollupSpec;
  queries: number;
  totalMs: number;
}

/**
 * Suggests rollups from a query log: single-table aggregate queries grouped by
 * (table, columns used in WHERE/GROUP BY); those seen at least `minQueries`
 * times, heaviest total time first.
 */
export async function suggestRollups(
  conn: DuckDBConnection,
  log: readonly LoggedQuery[],
  minQueries = 2,
): Promise<RollupSuggestion[]> {
  const groups = new Map<string, RollupSuggestion & { measureKeys: Set<string> }>();
  for (const q of log) {
    const r = await conn.runAndReadAll(`select json_serialize_sql(${lit(q.sql)}) as j`).catch(() => undefined);
    if (!r) continue;
    const j = parseAst(String(r.getRows()[0]![0]));
    if (j.error || j.statements.length !== 1) continue;
    const node = j.statements[0].node;
    if (node.type !== "SELECT_NODE" || node.from_table?.type !== "BASE_TABLE") continue;
    if (!node.group_expressions?.length && !node.select_list.some(hasAggregate)) continue;
    const dims = new Set<string>();
    const measures = new Map<string, Measure>();
    let ok = true;
    const visit = (n: Node): void => {
      if (!ok || n === null || typeof n !== "object") return;
      if (Array.isArray(n)) return n.forEach(visit);
      if (n.class === "FUNCTION" && isAgg(n.function_name)) {
        if (n.function_name === "count_star") return;
        if (n.children?.[0]?.class !== "COLUMN_REF" || n.distinct) {
          ok = false;
          return;
        }
        const column = lastName(n.children[0]);
        const agg = n.function_name === "mean" ? "avg" : n.function_name;
        measures.set(`${agg}:${column}`, { agg, column });
        return;
      }
      if (n.class === "COLUMN_REF") dims.add(lastName(n));
      if (n.class === "SUBQUERY" || n.class === "WINDOW") ok = false;
      for (const v of Object.values(n)) visit(v);
    };
    visit(node.select_list);
    visit(node.where_clause);
    visit(node.group_expressions);
    visit(node.having);
    if (!ok || dims.size === 0) continue;
    const table = node.from_table.table_name as string;
    const key = `${table}|${[...dims].sort().join(",")}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        spec: {
          name: `${table}_by_${[...dims].sort().join("_")}`.slice(0, 60),
          table,
          dimensions: [...dims].sort(),
          measures: [],
        },
        queries: 0,
        totalMs: 0,
        measureKeys: new Set(),
      };
      groups.set(key, g);
    }
    g.queries++;
    g.totalMs += q.ms;
    for (const [k, m] of measures) {
      if (!g.measureKeys.has(k)) {
        g.measureKeys.add(k);
        (g.spec.measures as Measure[]).push(m);
      }
    }
  }
  return [...groups.values()]
    .filter((g) => g.queries >= minQueries)
    .sort((a, b) => b.totalMs - a.totalMs)
    .map(({ spec, queries, totalMs }) => ({ spec, queries, totalMs }));
}
