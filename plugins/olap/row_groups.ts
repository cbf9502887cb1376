/**
 * Row groups a Parquet scan can skip: DuckDB's profile says how many files a
 * scan kept, not how many row groups inside them its min/max statistics let it
 * skip. This estimates that from the files' own statistics
 * (`parquet_metadata`) and the filters DuckDB pushed into the scan (the
 * profile's `Filters`): a row group is skipped when one comparison
 * `column <op> constant` cannot hold anywhere between its min and max. Filters
 * of other shapes (functions, OR, IN, LIKE) never skip a row group here, so the
 * figure errs towards scanning; Hive partition columns are read from each
 * file's path.
 *
 * @example A sorted key prunes all but one row group
 * ```ts
 * import { estimateRowGroups } from "@mercury/olap";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import assert from "node:assert/strict";
 *
 * const c = await (await DuckDBInstance.create()).connect();
 * const file = `${await Deno.makeTempDir()}/t.parquet`;
 * await c.run(`copy (select range as id from range(100000)) to '${file}' (row_group_size 10240)`);
 * const r = await estimateRowGroups(c, `'${file}'`, ["id>=20000 AND id<=20100"]);
 * assert.deepEqual(r, { total: 10, scannedEstimate: 1, prunedEstimate: 9 });
 * c.closeSync();
 * ```
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent as ident } from "@mercury/core/sql";
import { lit } from "./sql_ast.ts";

/** The estimate, as `Explanation.profile.rowGroups`. */
export interface RowGroupEstimate {
  total: number;
  scannedEstimate: number;
  prunedEstimate: number;
}

const COMPARISON = /^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|<>|!=|=|>|<)\s*(.+)$/;

/** `coalesce(<can hold>, true)` per comparison of `filters` on a usable column, and the columns they use. */
function conditionsOf(
  filters: readonly string[],
  types: ReadonlyMap<string, string>,
  usable: (column: string, type: string) => boolean,
): { conditions: string[]; used: Set<string> } {
  const conditions: string[] = [];
  const used = new Set<string>();
  for (const f of filters.flatMap((x) => x.split(" AND "))) {
    const m = COMPARISON.exec(f.trim().replace(/^\((.*)\)$/, "$1")); // File Filters come as "(day = …)"
    if (!m) continue;
    const column = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!;
    const type = types.get(column);
    if (!type || /\[\]|STRUCT|MAP|UNION/.test(type) || !usable(column, type)) continue;
    used.add(column);
    const [lo, hi] = [
      `try_cast(${ident(`${column}#min`)} as ${type})`,
      `try_cast(${ident(`${column}#max`)} as ${type})`,
    ];
    const v = m[3]!;
    const can = m[2] === ">="
      ? `${hi} >= ${v}`
      : m[2] === ">"
      ? `${hi} > ${v}`
      : m[2] === "<="
      ? `${lo} <= ${v}`
      : m[2] === "<"
      ? `${lo} < ${v}`
      : m[2] === "="
      ? `${lo} <= ${v} and ${hi} >= ${v}`
      : `not (${lo} = ${v} and ${hi} = ${v})`;
    // Unknown statistics (null) never prune.
    conditions.push(`coalesce(${can}, true)`);
  }
  return { conditions, used };
}

/**
 * Estimates the row groups of the Parquet files `source` (a SQL string literal
 * or list, as `read_parquet` takes) that the scan filters `filters` (DuckDB's
 * text, conjuncts joined by ` AND `) leave to read.
 */
export async function estimateRowGroups(
  conn: DuckDBConnection,
  source: string,
  filters: readonly string[],
  options: { hivePartitioning?: boolean } = {},
): Promise<RowGroupEstimate> {
  const hive = options.hivePartitioning ?? false;
  const types = new Map<string, string>();
  const described = await conn.runAndReadAll(
    `describe select * from read_parquet(${source}, hive_partitioning = ${hive})`,
  );
  for (const r of described.getRowObjectsJson()) types.set(String(r.column_name), String(r.column_type));
  const fileColumns = new Set<string>();
  const meta = await conn.runAndReadAll(`select distinct path_in_schema from parquet_metadata(${source})`);
  for (const r of meta.getRowObjectsJson()) fileColumns.add(String(r.path_in_schema));

  const { conditions, used } = conditionsOf(filters, types, (column) => fileColumns.has(column) || hive);
  const columns = [...used].map((c) => {
    const inFile = fileColumns.has(c);
    const fromPath = `regexp_extract(file_name, '(?:^|/)${c.replace(/[^A-Za-z0-9_]/g, ".")}=([^/]+)/', 1)`;
    const min = inFile ? `min(stats_min_value) filter (where path_in_schema = ${lit(c)})` : `any_value(${fromPath})`;
    const max = inFile ? `max(stats_max_value) filter (where path_in_schema = ${lit(c)})` : `any_value(${fromPath})`;
    return `${min} as ${ident(`${c}#min`)}, ${max} as ${ident(`${c}#max`)}`;
  });
  const sql = `with rg as (
      select file_name, row_group_id${columns.length ? ", " + columns.join(", ") : ""}
      from parquet_metadata(${source}) group by file_name, row_group_id)
    select count(*) as total, count(*) filter (where ${conditions.length ? conditions.join(" and ") : "true"}) as kept
    from rg`;
  const [row] = (await conn.runAndReadAll(sql)).getRowObjectsJson();
  const total = Number(row?.total ?? 0);
  const kept = Number(row?.kept ?? 0);
  return { total, scannedEstimate: kept, prunedEstimate: total - kept };
}

/**
 * Estimates the row groups of a DuckDB table (`table`, a qualified name such as `db.main.data`) that the scan
 * filters `filters` leave to read, from the table's zone maps as `pragma_storage_info` shows them (`[Min: …, Max:
 * …]` per column segment). VARCHAR columns never count as pruning: DuckDB keeps only a prefix of their min/max.
 */
export async function estimateNativeRowGroups(
  conn: DuckDBConnection,
  table: string,
  filters: readonly string[],
): Promise<RowGroupEstimate> {
  const types = new Map<string, string>();
  for (const r of (await conn.runAndReadAll(`describe select * from ${table}`)).getRowObjectsJson()) {
    types.set(String(r.column_name), String(r.column_type));
  }
  const { conditions, used } = conditionsOf(filters, types, (_c, type) => !/VARCHAR|BLOB|BIT/.test(type));
  const columns = [...used].map((c) => {
    const has = `column_name = ${lit(c)} and stats like '[Min: %'`;
    const part = (i: number) => `regexp_extract(stats, '^\\[Min: (.*), Max: (.*)\\]\\[Has', ${i})`;
    return `min(try_cast(${part(1)} as ${types.get(c)})) filter (where ${has}) as ${ident(`${c}#min`)}, ` +
      `max(try_cast(${part(2)} as ${types.get(c)})) filter (where ${has}) as ${ident(`${c}#max`)}`;
  });
  const sql = `with rg as (
      select row_group_id${columns.length ? ", " + columns.join(", ") : ""}
      from pragma_storage_info(${lit(table)}) group by row_group_id)
    select count(*) as total, count(*) filter (where ${conditions.length ? conditions.join(" and ") : "true"}) as kept
    from rg`;
  const [row] = (await conn.runAndReadAll(sql)).getRowObjectsJson();
  const total = Number(row?.total ?? 0);
  const kept = Number(row?.kept ?? 0);
  return { total, scannedEstimate: kept, prunedEstimate: total - kept };
}
