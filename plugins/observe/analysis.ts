/**
 * The prediction log in DuckDB: the rows of `observe.predictions` left-joined
 * with their labels are copied out of PostgreSQL (pages of JSON lines, keyset
 * paged by id, written to a temporary file) and read with DuckDB's JSON reader
 * into a table, so windows, segments and versions can be analysed with DuckDB
 * SQL. DuckDB's postgres extension is not bundled with the npm package and
 * cannot be downloaded here, hence the copy.
 *
 * Not `COPY … TO STDOUT`: postgres.js 3.4.9's COPY readable can leave the
 * connection's socket paused when the last data and the end of the copy
 * arrive together while the reader is behind (porsager/postgres#499, fix
 * proposed in #1016); the connection then goes back to the pool and the next
 * query on it never answers. That hung the observe server's `/labels` in CI.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { withTimeout } from "@mercury/core";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import type { Sql } from "@mercury/core/services/postgres";

/** Which rows to copy. */
export interface CopyOptions {
  model?: string;
  /** Only predictions at or after this time. */
  since?: Date;
  /** DuckDB table name (default `predictions`). */
  table?: string;
  /** Rows per page read from PostgreSQL (default 50,000). */
  pageRows?: number;
  /** Longest wait for one page (default 60,000 ms). */
  pageTimeoutMs?: number;
}

/**
 * Copies predictions ⋈ labels into a DuckDB table with columns id, model,
 * version, ts, features (JSON text), output, latency_ms, segment, label
 * (NULL until labelled); returns the row count.
 */
export async function predictionsToDuckDB(
  sql: Sql,
  duck: DuckDBConnection,
  options: CopyOptions = {},
): Promise<number> {
  const where: string[] = [];
  if (options.model !== undefined) where.push(`p.model = ${quoteLiteral(options.model)}`);
  if (options.since) where.push(`p.ts >= ${quoteLiteral(options.since.toISOString())}::timestamptz`);
  const page = options.pageRows ?? 50_000;
  const query = `select p.id, json_build_object('id', p.id, 'model', p.model, 'version', p.version, 'ts', p.ts,
      'features', p.features, 'output', p.output, 'latency_ms', p.latency_ms, 'segment', p.segment,
      'label', l.label)::text as line
    from observe.predictions p left join observe.labels l using (id)
    where p.id > $1 ${where.map((w) => `and ${w}`).join(" ")} order by p.id limit ${page}`;
  const tmp = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    const file = await Deno.open(tmp, { write: true, truncate: true });
    const writer = file.writable.getWriter();
    const enc = new TextEncoder();
    let last = "";
    try {
      for (;;) {
        const rows = await withTimeout(
          sql.unsafe<{ id: string; line: string }[]>(query, [last]),
          options.pageTimeoutMs ?? 60_000,
          "reading observe.predictions for DuckDB",
        );
        if (rows.length === 0) break;
        let text = "";
        for (const r of rows) text += r.line + "\n";
        await writer.write(enc.encode(text));
        last = rows[rows.length - 1]!.id;
        if (rows.length < page) break;
      }
    } finally {
      await writer.close();
    }
    const table = quoteIdent(options.table ?? "predictions");
    await duck.run(`create or replace table ${table} as select * from read_json(${quoteLiteral(tmp)},
      format = 'newline_delimited', columns = {'id': 'VARCHAR', 'model': 'VARCHAR', 'version': 'VARCHAR',
      'ts': 'TIMESTAMPTZ', 'features': 'JSON', 'output': 'DOUBLE', 'latency_ms': 'FLOAT', 'segment': 'VARCHAR', 'label': 'DOUBLE'})`);
    const r = await duck.runAndReadAll(`select count(*)::int from ${table}`);
    return Number(r.getRows()[0]![0]);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
