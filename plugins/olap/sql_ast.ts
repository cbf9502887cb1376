/**
 * What the service needs to know about a statement before running it, read
 * from DuckDB's own parser (`json_serialize_sql`): is it one read-only
 * `SELECT`, which tables it reads, whether it calls volatile functions, and a
 * normalised text (parse → print) so that spacing and keyword case do not
 * split cache entries.
 *
 * @example
 * ```ts
 * import { analyse } from "@mercury/olap";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import assert from "node:assert/strict";
 *
 * const c = await (await DuckDBInstance.create()).connect();
 * const a = await analyse(c, "WITH x AS (SELECT * FROM sales) select  region, SUM(amount) from x join regions using (region) group by 1");
 * assert.equal(a.kind, "select");
 * assert.deepEqual(a.tables, ["regions", "sales"]);
 * assert.equal(a.volatile, false);
 * const b = await analyse(c, "with x as (select * from sales) SELECT region, sum(amount) FROM x JOIN regions USING (region) GROUP BY 1");
 * assert.equal(a.normalised, b.normalised);
 * c.closeSync();
 * ```
 *
 * @module
 */
import { quoteLiteral } from "@mercury/core/sql";
import { type DuckDBConnection, StatementType } from "@duckdb/node-api";
import { classifyError, OlapError } from "./errors.ts";

/** A parsed statement. */
export interface Analysis {
  kind: "select" | "write";
  /** Parse-then-print text (SELECT only; otherwise the text as given). */
  normalised: string;
  /** Base tables read (CTE names excluded), sorted. */
  tables: string[];
  /** Calls a function whose answer changes between runs (random, now…): never cached. */
  volatile: boolean;
  /** DuckDB's JSON AST of the one SELECT statement. */
  // deno-lint-ignore no-explicit-any
  ast?: any;
}

const VOLATILE = new Set([
  "random",
  "now",
  "current_timestamp",
  "get_current_timestamp",
  "current_date",
  "current_time",
  "today",
  "gen_random_uuid",
  "uuid",
  "uuidv4",
  "uuidv7",
  "setseed",
  "nextval",
  "currval",
  "transaction_timestamp",
  "epoch_ms_now",
]);

/** SQL string literal. */
export const lit: (s: string) => string = quoteLiteral;

/**
 * Parses `json_serialize_sql` output without losing a number: a number whose
 * JavaScript text differs from its JSON lexeme (integers past 2^53, `1000.0`,
 * which DuckDB reads back as a DOUBLE where `1000` would be an integer; the
 * "no location" UINT64_MAX) is kept as its lexeme (`JSON.rawJSON`), so
 * `JSON.stringify` gives the tree back to `json_deserialize_sql` exactly as
 * DuckDB wrote it. Other numbers stay plain numbers.
 *
 * @example
 * ```ts
 * import { parseAst } from "./sql_ast.ts";
 * import assert from "node:assert/strict";
 *
 * const text = '{"a":1234567890123456789,"b":1000.0,"c":0.1,"d":7}';
 * const j = parseAst(text);
 * assert.equal(j.d, 7);
 * assert.equal(JSON.stringify(j), text);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function parseAst(text: string): any {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value !== "number" || context?.source === undefined || String(value) === context.source) return value;
    return rawJSON(context.source);
  });
}

/** `JSON.rawJSON` (V8, not yet in TypeScript's lib). */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** Parses one statement with DuckDB and reports what it is. */
export async function analyse(conn: DuckDBConnection, sql: string): Promise<Analysis> {
  if (typeof sql !== "string" || sql.trim() === "") {
    throw new OlapError(400, "bad_request", "sql is empty", { hint: 'send {"sql": "select …"}' });
  }
  const r = await conn.runAndReadAll(`select json_serialize_sql(${lit(sql)}) as j`);
  const j = parseAst(String(r.getRows()[0]![0]));
  if (j.error) {
    // Not a SELECT, or not valid: DuckDB's statement API tells which, with the error position.
    let extracted;
    try {
      extracted = await conn.extractStatements(sql);
    } catch (err) {
      throw classifyError(err);
    }
    if (extracted.count !== 1) {
      throw new OlapError(400, "multiple_statements", `send one statement per request (got ${extracted.count})`);
    }
    let type: StatementType;
    try {
      const p = await extracted.prepare(0);
      type = p.statementType;
      p.destroySync?.();
    } catch (err) {
      throw classifyError(err);
    }
    if (type === StatementType.SELECT) {
      throw new OlapError(400, "invalid_query", String(j.error_message ?? "cannot parse the query"));
    }
    return { kind: "write", normalised: sql.trim(), tables: [], volatile: true };
  }
  if (j.statements.length !== 1) {
    throw new OlapError(400, "multiple_statements", `send one statement per request (got ${j.statements.length})`);
  }
  const ast = j.statements[0];
  const tables = new Set<string>();
  const ctes = new Set<string>();
  let volatile = false;
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n === null || typeof n !== "object") return;
    const o = n as Record<string, unknown>;
    if (o.type === "BASE_TABLE" && typeof o.table_name === "string") {
      tables.add(o.schema_name ? `${o.schema_name}.${o.table_name}` : o.table_name);
    }
    if (o.class === "FUNCTION" && typeof o.function_name === "string" && VOLATILE.has(o.function_name)) volatile = true;
    if (o.cte_map && typeof o.cte_map === "object") {
      for (const e of ((o.cte_map as { map: { key: string }[] }).map ?? [])) ctes.add(e.key);
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(ast);
  for (const c of ctes) tables.delete(c);
  const back = await conn.runAndReadAll(`select json_deserialize_sql(${lit(JSON.stringify(j))}) as s`);
  return {
    kind: "select",
    normalised: String(back.getRows()[0]![0]),
    tables: [...tables].sort(),
    volatile,
    ast,
  };
}
