/**
 * Safe bulk reads out of PostgreSQL without postgres.js's `COPY … TO STDOUT`.
 *
 * postgres.js 3.4.9's COPY readable pauses the connection's socket whenever
 * the reader is behind and resumes it only from the next `read()`. When the
 * last data and the end of the copy arrive in the same packet while the
 * reader is behind, the stream ends with the socket still paused: the
 * connection goes back to the pool and never answers its next query
 * (porsager/postgres#499). {@linkcode copyQueryToCsv} reads the query with a
 * cursor instead (`.raw().cursor(n)`: pages of rows in PostgreSQL's text
 * format, no socket pausing) and writes the same CSV as `COPY … (FORMAT csv,
 * HEADER true)`: NULL as an empty field, the empty string as `""`, fields
 * holding a comma, quote, CR or LF quoted with quotes doubled.
 *
 * @example
 * ```ts ignore
 * import { connectPostgres, copyQueryToCsv } from "@mercury/core/services/postgres";
 *
 * await using pg = await connectPostgres();
 * const { rows, columns } = await copyQueryToCsv(pg.sql, "select * from t", "/tmp/t.csv");
 * ```
 *
 * @module
 */
import type { Sql } from "./postgres.ts";
import { withTimeout } from "./health.ts";

/** Options of {@linkcode copyQueryToCsv}. */
export interface CopyOutOptions {
  /** Rows per cursor page (default 10,000). */
  pageRows?: number;
  /** Longest wait for one page from the server (default 60,000 ms). */
  pageTimeoutMs?: number;
}

/** A column of the query: its name and PostgreSQL type OID. */
export interface CopyColumn {
  name: string;
  type: number;
}

const COMMA = 44, QUOTE = 34, LF = 10, CR = 13;

/** Appends one raw text value as a CSV field to `out` starting at `at`; returns the new end. */
function field(v: Uint8Array, out: Uint8Array, at: number): number {
  let special = v.length === 0;
  for (let i = 0; i < v.length && !special; i++) {
    const c = v[i]!;
    special = c === COMMA || c === QUOTE || c === LF || c === CR;
  }
  if (!special) {
    out.set(v, at);
    return at + v.length;
  }
  out[at++] = QUOTE;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === QUOTE) out[at++] = QUOTE;
    out[at++] = c;
  }
  out[at++] = QUOTE;
  return at;
}

/** Encodes a page of raw rows (arrays of `Uint8Array | null`) as CSV lines. */
function encodePage(rows: readonly (readonly (Uint8Array | null)[])[]): Uint8Array {
  let size = 0;
  for (const r of rows) {
    size += r.length + 1;
    for (const v of r) if (v) size += 2 * v.length + 2;
  }
  const out = new Uint8Array(size + 2 * rows.length);
  let at = 0;
  for (const r of rows) {
    for (let j = 0; j < r.length; j++) {
      if (j) out[at++] = COMMA;
      const v = r[j];
      if (v) at = field(v, out, at); // NULL: an empty field
    }
    out[at++] = LF;
  }
  return out.subarray(0, at);
}

/**
 * Writes the rows of `query` (a SELECT, trusted SQL text) to the file at
 * `path` as CSV with a header line, atomically (a temporary file renamed into
 * place); returns the row count and the columns. A failed query leaves no
 * file behind and the connection usable.
 */
export async function copyQueryToCsv(
  sql: Sql,
  query: string,
  path: string,
  options: CopyOutOptions = {},
): Promise<{ rows: number; columns: CopyColumn[] }> {
  const pageRows = options.pageRows ?? 10_000;
  const timeoutMs = options.pageTimeoutMs ?? 60_000;
  const described = await withTimeout(
    sql.unsafe(`select * from (${query}) as mercury_copy limit 0`),
    timeoutMs,
    "describing a PostgreSQL query",
  );
  const columns = described.columns.map((c) => ({ name: c.name, type: c.type }));
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  let rows = 0;
  try {
    const enc = new TextEncoder();
    await writer.write(encodePage([columns.map((c) => enc.encode(c.name))]));
    // The callback form: postgres.js awaits each page's callback before asking for the next one, and a thrown
    // error (the file write failing) closes the portal and rejects the query.
    // On a reserved connection: after a cursor fails, postgres.js 3.4.9 hands the rows counted so far to that
    // connection's next query as empty leading items (`Result(100) [ <99 empty items>, { one: 1 } ]`); one
    // throwaway statement absorbs them before the connection goes back to the pool.
    const conn = await withTimeout(sql.reserve(), timeoutMs, "reserving a PostgreSQL connection");
    let last = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Armed only once the connection is ours, and never left unhandled: a rejection nobody awaits would end the process.
    const stalled = new Promise<never>((_, reject) => {
      const check = () => {
        if (performance.now() - last > timeoutMs) {
          reject(new Error(`reading a PostgreSQL query page timed out after ${timeoutMs} ms`));
        } else timer = setTimeout(check, Math.min(1000, timeoutMs));
      };
      timer = setTimeout(check, Math.min(1000, timeoutMs));
    });
    stalled.catch(() => {});
    try {
      await Promise.race([
        conn.unsafe(query).raw().cursor(pageRows, async (page) => {
          rows += page.length;
          await writer.write(encodePage(page as unknown as (Uint8Array | null)[][]));
          last = performance.now();
        }),
        stalled,
      ]);
    } catch (err) {
      await withTimeout(conn`select 1`, timeoutMs, "resetting the PostgreSQL connection").catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
      conn.release();
    }
    await writer.close();
    await Deno.rename(tmp, path);
  } catch (err) {
    await writer.abort().catch(() => {});
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  return { rows, columns };
}
