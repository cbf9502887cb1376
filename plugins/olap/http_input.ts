/**
 * What the HTTP API accepts, checked at the edge (bodies themselves are read
 * with a byte limit by `@mercury/core/http_body`): SQL of at most
 * `maxSqlChars` characters (413 `sql_too_long`), and each route's fields, a
 * wrong one refused with a 400 naming it.
 *
 * @example A rollup spec with a bad measure names the field
 * ```ts
 * import { rollupRequest, sqlField } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const err = (f: () => unknown) => { try { f(); } catch (e) { return e as { status: number; message: string }; } };
 * const bad = err(() => rollupRequest({ name: "r", table: "t", dimensions: ["a"], measures: [{ agg: "median" }] }));
 * assert.equal(bad?.status, 400);
 * assert.match(bad!.message, /^measures\[0\]\.agg must be one of/);
 * assert.equal(err(() => sqlField({ sql: "select 1" + " ".repeat(100) }, 50))?.status, 413);
 * ```
 *
 * @module
 */
import { OlapError } from "./errors.ts";
import type { Params } from "./executor.ts";
import type { IngestOptions } from "./catalog.ts";
import type { Measure, RollupSpec } from "./rollups.ts";

/** Default longest SQL text (256 Ki characters). */
export const MAX_SQL_CHARS = 256 * 1024;

const bad = (field: string, what: string, hint?: string) =>
  new OlapError(400, "bad_request", `${field} ${what}`, { where: field, ...(hint ? { hint } : {}) });

/** `q[field]` as a string (required) no longer than `max` characters. */
export function sqlField(q: Record<string, unknown>, maxChars: number, field = "sql"): string {
  const v = q[field];
  if (typeof v !== "string") throw bad(field, "must be a string", `send {"${field}": "select …"}`);
  checkSqlLength(v, maxChars);
  return v;
}

/** Throws a 413 `sql_too_long` when `sql` is longer than `maxChars`. */
export function checkSqlLength(sql: string, maxChars: number): void {
  if (sql.length > maxChars) {
    throw new OlapError(413, "sql_too_long", `the SQL text has ${sql.length} characters, more than ${maxChars}`, {
      hint: "shorten the query (pass values as params), or start the server with a larger --max-sql-chars",
    });
  }
}

/** An optional string field. */
export function optString(q: Record<string, unknown>, field: string): string | undefined {
  const v = q[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw bad(field, "must be a string");
  return v;
}

/** An optional field that must be one of `allowed`. */
export function optOneOf<T extends string>(
  q: Record<string, unknown>,
  field: string,
  allowed: readonly T[],
): T | undefined {
  const v = optString(q, field);
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw bad(field, `must be one of ${allowed.join(", ")} (got "${v.slice(0, 40)}")`);
  return v as T;
}

/** An optional non-empty list of strings. */
export function optStringList(q: Record<string, unknown>, field: string): string[] | undefined {
  const v = q[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw bad(field, "must be a list of strings");
  return v as string[];
}

/** An optional non-negative number. */
export function optNumber(q: Record<string, unknown>, field: string): number | undefined {
  const v = q[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw bad(field, "must be a non-negative number");
  return v;
}

/** An optional boolean. */
export function optBoolean(q: Record<string, unknown>, field: string): boolean | undefined {
  const v = q[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw bad(field, "must be true or false");
  return v;
}

/** Optional query parameters: a list or an object. */
export function optParams(q: Record<string, unknown>, field = "params"): Params | undefined {
  const v = q[field];
  if (v === undefined) return undefined;
  if (v === null || typeof v !== "object") {
    throw new OlapError(400, "bad_params", `${field} must be a list or an object`, { where: field });
  }
  return v as Params;
}

/** The body of `POST /tables/:name/ingest`. */
export function ingestRequest(q: Record<string, unknown>): { source: string; format?: string; options: IngestOptions } {
  const source = q.source;
  if (typeof source !== "string" || !source) {
    throw bad("source", "must be a path or postgres:schema.table", 'send {"source": "/data/in/events.csv"}');
  }
  return {
    source,
    format: optString(q, "format"),
    options: {
      partitionBy: optString(q, "partitionBy"),
      sortBy: optStringList(q, "sortBy"),
      mode: optOneOf(q, "mode", ["replace", "append"] as const),
      storage: optOneOf(q, "storage", ["parquet", "duckdb"] as const),
    },
  };
}

const AGGS = ["sum", "count", "min", "max", "avg"] as const;

/** The body of `POST /rollups`: a rollup spec with every field checked. */
export function rollupRequest(q: Record<string, unknown>): RollupSpec {
  const name = q.name;
  if (typeof name !== "string" || !/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw bad("name", "must be an identifier (lower case letters, digits, _)");
  }
  if (typeof q.table !== "string" || !q.table) throw bad("table", "must be a table name");
  const dimensions = optStringList(q, "dimensions");
  if (!dimensions?.length) throw bad("dimensions", "must be a non-empty list of column names");
  const list = q.measures ?? [];
  if (!Array.isArray(list)) throw bad("measures", 'must be a list of {"agg", "column"}');
  const measures = list.map((m, i): Measure => {
    const at = `measures[${i}]`;
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw bad(at, 'must be {"agg", "column"}');
    const agg = (m as Record<string, unknown>).agg;
    if (!AGGS.includes(agg as (typeof AGGS)[number])) throw bad(`${at}.agg`, `must be one of ${AGGS.join(", ")}`);
    const column = (m as Record<string, unknown>).column;
    if (typeof column !== "string" || !column) throw bad(`${at}.column`, "must be a column name");
    return { agg, column } as Measure;
  });
  return { name, table: q.table, dimensions, measures };
}

/** Marks `POST /chart` draws. */
export const CHART_MARKS = ["bar", "line", "point", "area", "tick", "rect", "circle", "square"] as const;

/** The body of `POST /chart`. */
export function chartRequest(q: Record<string, unknown>, maxSqlChars: number): {
  sql: string;
  params?: Params;
  mark: (typeof CHART_MARKS)[number];
  x?: string;
  y?: string;
  color?: string;
  width?: number;
} {
  const sql = sqlField(q, maxSqlChars);
  const mark = q.mark === undefined ? "bar" : optOneOf(q, "mark", CHART_MARKS);
  return {
    sql,
    params: optParams(q),
    mark: mark ?? "bar",
    x: optString(q, "x"),
    y: optString(q, "y"),
    color: optString(q, "color"),
    width: optNumber(q, "width"),
  };
}

/** The body of `POST /explain`. */
export function explainRequest(
  q: Record<string, unknown>,
  maxSqlChars: number,
): { sql: string; params?: Params; analyze: boolean; timeoutMs?: number } {
  return {
    sql: sqlField(q, maxSqlChars),
    params: optParams(q),
    analyze: optBoolean(q, "analyze") ?? false,
    timeoutMs: optNumber(q, "timeoutMs"),
  };
}
