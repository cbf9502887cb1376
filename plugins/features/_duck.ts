/** Private DuckDB helpers: rows as plain JS values, temp NDJSON loading (quoting is core's `@mercury/core/sql`). */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent as ident, quoteLiteral as lit } from "@mercury/core/sql";
import type { ValueType } from "./definitions.ts";

/** The DuckDB type of a value type. */
export const DUCK_TYPES: Record<ValueType, string> = {
  int64: "BIGINT",
  float64: "DOUBLE",
  string: "VARCHAR",
  bool: "BOOLEAN",
  timestamp: "TIMESTAMP",
};

/** A JS value from DuckDB, with bigints as numbers when safe. */
export function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

/** Runs a query and returns rows as plain objects. */
export async function rows(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const r = await c.runAndReadAll(sql);
  const out = r.getRowObjectsJS() as Record<string, unknown>[];
  for (const row of out) for (const k in row) row[k] = plain(row[k]);
  return out;
}

/**
 * Loads JS rows into a DuckDB table through a temp NDJSON file (with explicit column types); `replace` maps a
 * column to the SQL expression stored in its place (e.g. text turned into an instant).
 */
export async function loadRows(
  c: DuckDBConnection,
  table: string,
  data: Record<string, unknown>[],
  columns: Record<string, string>,
  replace: Record<string, string> = {},
): Promise<void> {
  const tmp = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    const enc = new TextEncoder();
    const f = await Deno.open(tmp, { write: true, truncate: true });
    try {
      let buf: string[] = [];
      const flush = async () => {
        if (buf.length) await f.write(enc.encode(buf.join("")));
        buf = [];
      };
      for (const r of data) {
        buf.push(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v)) + "\n");
        if (buf.length >= 10_000) await flush();
      }
      await flush();
    } finally {
      f.close();
    }
    const cols = Object.entries(columns).map(([k, t]) => `${lit(k)}: ${lit(t)}`).join(", ");
    const rep = Object.entries(replace).map(([k, e]) => `${e} as ${ident(k)}`).join(", ");
    await c.run(
      `create or replace temp table ${ident(table)} as select * ${rep ? `replace (${rep}) ` : ""}from read_json(${
        lit(tmp)
      }, format = 'newline_delimited', columns = {${cols}})`,
    );
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
