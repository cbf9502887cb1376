/**
 * The prediction log in DuckDB: the rows of `observe.predictions` left-joined
 * with their labels are copied out of PostgreSQL (`COPY … TO STDOUT` as CSV,
 * streamed to a temporary file) and read with DuckDB's CSV reader into a
 * table, so windows, segments and versions can be analysed with DuckDB SQL.
 * DuckDB's postgres extension is not bundled with the npm package and cannot
 * be downloaded here, hence the copy.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import type { Sql } from "@mercury/core/services/postgres";

/** Which rows to copy. */
export interface CopyOptions {
  model?: string;
  /** Only predictions at or after this time. */
  since?: Date;
  /** DuckDB table name (default `predictions`). */
  table?: string;
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
  const query = `copy (select p.id, p.model, p.version, p.ts, p.features::text as features, p.output, p.latency_ms,
    p.segment, l.label from observe.predictions p left join observe.labels l using (id)
    ${where.length ? "where " + where.join(" and ") : ""}) to stdout with (format csv, header true)`;
  const tmp = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    const file = await Deno.open(tmp, { write: true, truncate: true });
    const readable = await sql.unsafe(query).readable();
    const writer = file.writable.getWriter();
    for await (const chunk of readable) await writer.write(chunk as Uint8Array);
    await writer.close();
    const table = quoteIdent(options.table ?? "predictions");
    await duck.run(`create or replace table ${table} as select * from read_csv(${quoteLiteral(tmp)}, header = true,
      columns = {'id': 'VARCHAR', 'model': 'VARCHAR', 'version': 'VARCHAR', 'ts': 'TIMESTAMPTZ', 'features': 'JSON',
      'output': 'DOUBLE', 'latency_ms': 'FLOAT', 'segment': 'VARCHAR', 'label': 'DOUBLE'})`);
    const r = await duck.runAndReadAll(`select count(*)::int from ${table}`);
    return Number(r.getRows()[0]![0]);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
