/**
 * What the HTTP API accepts, as zod schemas checked at the edge (bodies
 * themselves are read with a byte limit by `@mercury/core/http_body`): each
 * route's fields, a wrong one refused with a 400 whose message starts with the
 * field's path (`measures[0].agg must be one of …`, `where` set to the path),
 * and SQL of at most `maxSqlChars` characters (413 `sql_too_long`).
 *
 * @example A rollup spec with a bad measure names the field
 * ```ts
 * import { checkSqlLength, rollupRequest } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const err = (f: () => unknown) => { try { f(); } catch (e) { return e as { status: number; message: string }; } };
 * const bad = err(() => rollupRequest({ name: "r", table: "t", dimensions: ["a"], measures: [{ agg: "median" }] }));
 * assert.equal(bad?.status, 400);
 * assert.match(bad!.message, /^measures\[0\]\.agg must be one of/);
 * assert.equal(err(() => checkSqlLength("select 1" + " ".repeat(100), 50))?.status, 413);
 * ```
 *
 * @module
 */
import { z } from "zod";
import { OlapError } from "./errors.ts";
import type { Params } from "./executor.ts";
import type { Measure, RollupSpec } from "./rollups.ts";

/** Default longest SQL text (256 Ki characters). */
export const MAX_SQL_CHARS = 256 * 1024;

/** Throws a 413 `sql_too_long` when `sql` is longer than `maxChars`. */
export function checkSqlLength(sql: string, maxChars: number): void {
  if (sql.length > maxChars) {
    throw new OlapError(413, "sql_too_long", `the SQL text has ${sql.length} characters, more than ${maxChars}`, {
      hint: "shorten the query (pass values as params), or start the server with a larger --max-sql-chars",
    });
  }
}

/** `a.b[0].c` for a zod issue path. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`).join("");
}

const HINTS: Record<string, string> = {
  sql: 'send {"sql": "select …"}',
  source: 'send {"source": "/data/in/events.csv"}',
};

/**
 * `input` parsed by `schema`, or an {@linkcode OlapError} 400 for its first problem: the message starts with the
 * field's path (`bad_params` for `params`, else `bad_request`), `where` is the path. A strict schema's unknown
 * field is named the same way (`bogus is not a field of this request`, the known fields in the hint).
 *
 * @example
 * ```ts
 * import { parseInput, queryBody } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseInput(queryBody, { sql: "select 1", limit: "5" }).limit, 5);
 * assert.throws(() => parseInput(queryBody, { sql: 1 }), { status: 400, message: /^sql must be a string/ });
 * ```
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const where = fieldPath([...issue.path, issue.keys[0]!]);
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape).join(", ") : "";
    throw new OlapError(400, "bad_request", `${where} is not a field of this request`, {
      where,
      ...(known ? { hint: `the fields are ${known}` } : {}),
    });
  }
  const where = fieldPath(issue.path) || "body";
  const kind = issue.path[0] === "params" ? "bad_params" : "bad_request";
  const hint = HINTS[where];
  throw new OlapError(400, kind, `${where} ${issue.message}`, { where, ...(hint ? { hint } : {}) });
}

const err = (message: string) => ({ error: message });
/** null and absent are the same: no value. */
const optional = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);
const str = () => z.string(err("must be a string"));
const optStr = () => optional(str());
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  optional(z.enum(values, {
    error: (iss) =>
      typeof iss.input === "string"
        ? `must be one of ${values.join(", ")} (got "${iss.input.slice(0, 40)}")`
        : `must be one of ${values.join(", ")}`,
  }));
const stringList = () => z.array(z.string(), err("must be a list of strings"));
const nonNegative = () => z.number(err("must be a non-negative number")).min(0, err("must be a non-negative number"));
/** A list or an object (absent is fine, null is not). */
const params = () =>
  z.custom<Params>((v) => v !== null && typeof v === "object", err("must be a list or an object")).optional();
/** A non-negative number, also given as text (query-string values); "" and null are absent. */
const numberOrText = () =>
  z.preprocess(
    (v) => v === null || v === "" ? undefined : typeof v === "string" ? Number(v) : v,
    nonNegative().optional(),
  );

/** The body of `POST /query` (and the parameters of `GET /query`); `format` is checked by `parseFormat`. */
export const queryBody = z.object({
  sql: str(),
  params: params(),
  format: z.unknown().optional(),
  limit: numberOrText(),
  offset: numberOrText(),
  timeoutMs: numberOrText(),
  noCache: z.unknown().optional().transform((v) => v === true || v === "1"),
  queryId: optStr(),
  download: z.unknown().optional().transform((v) => Boolean(v)),
});

/** The body of `POST /explain`. */
export const explainBody = z.object({
  sql: str(),
  params: params(),
  analyze: optional(z.boolean(err("must be true or false"))).transform((v) => v ?? false),
  timeoutMs: optional(nonNegative()),
});

/** The body of `POST /tables/:name/ingest`. */
export const ingestBody = z.object({
  source: z.string(err("must be a path or postgres:schema.table")).min(
    1,
    err("must be a path or postgres:schema.table"),
  ),
  format: optStr(),
  partitionBy: optStr(),
  sortBy: optional(stringList()),
  mode: oneOf(["replace", "append"]),
  storage: oneOf(["duckdb+parquet", "parquet", "duckdb"]),
});

const AGGS = ["sum", "count", "min", "max", "avg"] as const;

/** The body of `POST /rollups`. */
export const rollupBody = z.object({
  name: z.string(err("must be an identifier (lower case letters, digits, _)"))
    .regex(/^[a-z_][a-z0-9_]*$/, err("must be an identifier (lower case letters, digits, _)")),
  table: z.string(err("must be a table name")).min(1, err("must be a table name")),
  dimensions: z.array(z.string(), err("must be a non-empty list of column names"))
    .min(1, err("must be a non-empty list of column names")),
  measures: optional(z.array(
    z.object({
      agg: z.enum(AGGS, err(`must be one of ${AGGS.join(", ")}`)),
      column: z.string(err("must be a column name")).min(1, err("must be a column name")),
    }, err('must be {"agg", "column"}')),
    err('must be a list of {"agg", "column"}'),
  )).transform((v) => v ?? []),
});

/** Marks `POST /chart` draws. */
export const CHART_MARKS = ["bar", "line", "point", "area", "tick", "rect", "circle", "square"] as const;

/** The body of `POST /chart`. */
export const chartBody = z.object({
  sql: str(),
  params: params(),
  mark: oneOf(CHART_MARKS).transform((v) => v ?? "bar"),
  x: optStr(),
  y: optStr(),
  color: optStr(),
  width: optional(nonNegative()),
});

/** The body of `POST /tables/:name/ingest`, checked: the source, its format and the ingest options. */
export function ingestRequest(q: Record<string, unknown>) {
  const { source, format, ...options } = parseInput(ingestBody, q);
  return { source, format, options };
}

/** The body of `POST /rollups` as a checked rollup spec. */
export function rollupRequest(q: Record<string, unknown>): RollupSpec {
  const r = parseInput(rollupBody, q);
  return { ...r, measures: r.measures as Measure[] };
}

/** The body of `POST /chart`, checked, its SQL no longer than `maxSqlChars`. */
export function chartRequest(q: Record<string, unknown>, maxSqlChars: number): z.output<typeof chartBody> {
  const r = parseInput(chartBody, q);
  checkSqlLength(r.sql, maxSqlChars);
  return r;
}

/** The body of `POST /explain`, checked, its SQL no longer than `maxSqlChars`. */
export function explainRequest(q: Record<string, unknown>, maxSqlChars: number): z.output<typeof explainBody> {
  const r = parseInput(explainBody, q);
  checkSqlLength(r.sql, maxSqlChars);
  return r;
}
