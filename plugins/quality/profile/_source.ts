/**
 * The source the profiler reads: a DuckDB relation (SQL text usable after
 * `from`) over an open connection. Files are read by DuckDB directly; other
 * URIs go through the engine's `openSource` once it exists.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core/plugin";
import { quoteLiteral } from "@mercury/core/sql";

/** SQL for a relation DuckDB reads `uri` with, by the file's extension. */
export function fileRelation(uri: string): string {
  const path = uri.replace(/^file:\/\//, "");
  const lower = path.toLowerCase();
  const lit = quoteLiteral(path);
  if (/\.parquet$|\.pq$/.test(lower) || lower.endsWith("/")) return `read_parquet(${lit}, hive_partitioning = true)`;
  if (/\.(csv|tsv|txt)(\.gz)?$/.test(lower)) return `read_csv(${lit}, auto_detect = true)`;
  if (/\.(json|ndjson|jsonl)(\.gz)?$/.test(lower)) return `read_json_auto(${lit})`;
  throw new MercuryError("usage", `cannot tell how to read ${uri}`, {
    where: "--source",
    hint: "use a .parquet, .csv, .tsv, .json or .ndjson file",
  });
}

/** Checks that DuckDB can read the relation; a failure is one `input` error naming the source. */
export async function checkRelation(conn: DuckDBConnection, relation: string, uri: string): Promise<void> {
  try {
    await conn.run(`select * from ${relation} limit 0`);
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0];
    const missing = /No files found|does not exist|No such file/i.test(msg ?? "");
    throw new MercuryError(missing ? "not_found" : "input", `cannot read ${uri}: ${msg}`, {
      where: uri,
      hint: missing ? "check the path" : "check the file's format and extension",
      cause: err,
    });
  }
}
