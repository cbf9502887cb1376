/**
 * Lake-table maintenance for Delta and Iceberg behind one set of functions:
 * MERGE (upsert), compaction (Delta `OPTIMIZE [ZORDER BY]`, Iceberg
 * `rewrite_data_files`), snapshot expiry (Delta `VACUUM`, Iceberg
 * `expire_snapshots`), the table's snapshots (Delta `DESCRIBE HISTORY`,
 * Iceberg's `.snapshots` metadata table), file counts, and time travel that
 * names an expired snapshot in one clear line instead of Spark's stack.
 *
 * Iceberg tables live in the cluster's `lake` catalog (Hadoop type); Delta
 * tables are named by path (`delta.\`/lake/t\``) or by name. The two formats
 * differ in what expiry means: Iceberg drops the snapshots themselves (time
 * travel to them fails at once), Delta keeps its history and deletes the data
 * files only older versions referenced (time travel to them fails on read).
 *
 * @example
 * ```ts
 * import { lakeTable } from "@mercury/spark";
 * import assert from "node:assert/strict";
 *
 * assert.equal(lakeTable("lake.sales.orders").format, "iceberg");
 * assert.equal(lakeTable("/lake/orders", "delta").name, "delta.`/lake/orders`");
 * assert.throws(() => lakeTable("lake.x; DROP TABLE y"), /not a table name/);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { tableRows } from "../connect/arrow.ts";
import type { DataFrame } from "../connect/dataframe.ts";
import type { ExecOptions, SparkSession } from "../connect/session.ts";

/** A lake table format. */
export type LakeFormat = "delta" | "iceberg";

/** A table to maintain: its SQL name and format. */
export interface LakeTable {
  /** As used in SQL: `lake.db.t`, `db.t` or `delta.\`/path\``. */
  name: string;
  format: LakeFormat;
  /** Iceberg: the catalog (`lake`) and the name inside it (`db.t`), for procedures. */
  catalog?: string;
  inCatalog?: string;
}

const PART = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A validated table: `name` is dotted identifiers (Iceberg when the first is
 * `lake` or `format` says so), or, for Delta, a path (a `/`, `hdfs://` or
 * `s3a://` location) that becomes `delta.\`path\``.
 */
export function lakeTable(name: string, format?: LakeFormat): LakeTable {
  if (format === "delta" && /^(\/|[a-z0-9]+:\/\/)/.test(name)) {
    if (name.includes("`")) {
      throw new MercuryError("usage", `"${name}" is not a table path (a backtick in it)`, { where: "table" });
    }
    return { name: `delta.\`${name}\``, format: "delta" };
  }
  const parts = name.split(".");
  if (!parts.every((p) => PART.test(p)) || parts.length > 3) {
    throw new MercuryError("usage", `"${name}" is not a table name`, {
      where: "table",
      hint: "use catalog.db.table (e.g. lake.sales.orders) or, for Delta, a path",
    });
  }
  const f: LakeFormat = format ?? (parts[0] === "lake" ? "iceberg" : "delta");
  if (f === "iceberg") {
    if (parts.length !== 3) {
      throw new MercuryError("usage", `"${name}" is not catalog.db.table`, {
        where: "table",
        hint: "Iceberg tables live in the lake catalog: lake.db.table",
      });
    }
    return { name, format: f, catalog: parts[0], inCatalog: parts.slice(1).join(".") };
  }
  return { name, format: f };
}

async function rows(spark: SparkSession, sql: string, o: ExecOptions = {}): Promise<Record<string, unknown>[]> {
  return tableRows(await (await spark.sql(sql, undefined, o)).toArrow(o));
}

/** Options of {@linkcode mergeInto}. */
export interface MergeOptions extends ExecOptions {
  /** What a matched target row gets: updated from the source (default), deleted, or left alone. */
  whenMatched?: "update" | "delete" | "ignore";
  /** What an unmatched source row does: inserted (default) or nothing. */
  whenNotMatched?: "insert" | "ignore";
}

/**
 * Upserts `source` into `table` on equality of the `on` columns (MERGE INTO;
 * the source must have the table's columns). Returns the table's newest
 * snapshot (Iceberg snapshot id, Delta version) after the commit.
 */
export async function mergeInto(
  spark: SparkSession,
  table: LakeTable,
  source: DataFrame,
  on: string[],
  o: MergeOptions = {},
): Promise<{ snapshot: string }> {
  if (on.length === 0 || !on.every((c) => PART.test(c))) {
    throw new MercuryError("usage", `merge keys ${JSON.stringify(on)} are not column names`, {
      where: "on",
      hint: 'e.g. ["id"]',
    });
  }
  const view = `mercury_merge_src_${crypto.randomUUID().replaceAll("-", "")}`;
  await source.createOrReplaceTempView(view);
  const matched = o.whenMatched ?? "update";
  const clauses = [
    matched === "update" ? "WHEN MATCHED THEN UPDATE SET *" : matched === "delete" ? "WHEN MATCHED THEN DELETE" : "",
    (o.whenNotMatched ?? "insert") === "insert" ? "WHEN NOT MATCHED THEN INSERT *" : "",
  ].filter((c) => c !== "");
  if (clauses.length === 0) {
    throw new MercuryError("usage", "a merge that neither updates, deletes nor inserts does nothing", {
      where: "mergeInto",
    });
  }
  try {
    await rows(
      spark,
      `MERGE INTO ${table.name} AS t USING ${view} AS s ON ${on.map((c) => `t.${c} = s.${c}`).join(" AND ")} ${
        clauses.join(" ")
      }`,
      o,
    );
  } finally {
    await spark.sql(`DROP VIEW IF EXISTS ${view}`);
  }
  const snaps = await snapshots(spark, table, o);
  return { snapshot: snaps.at(-1)?.id ?? "" };
}

/** One snapshot (Iceberg) or version (Delta), oldest first. */
export interface Snapshot {
  id: string;
  committedAtMs: number;
  operation: string;
}

/** The table's snapshots (Iceberg) or history versions (Delta), oldest first. */
export async function snapshots(spark: SparkSession, table: LakeTable, o: ExecOptions = {}): Promise<Snapshot[]> {
  const rs = table.format === "iceberg"
    ? await rows(spark, `SELECT snapshot_id AS id, committed_at AS at, operation FROM ${table.name}.snapshots`, o)
    : (await rows(spark, `DESCRIBE HISTORY ${table.name}`, o)).map((r): Record<string, unknown> => ({
      ...r,
      id: r.version,
      at: r.timestamp,
    }));
  return rs.map((r) => ({ id: String(r.id), committedAtMs: Number(r.at), operation: String(r.operation) }))
    .sort((a, b) => a.committedAtMs - b.committedAtMs || Number(BigInt(a.id) - BigInt(b.id)));
}

/** Data files in the table's current snapshot. */
export async function fileCount(spark: SparkSession, table: LakeTable, o: ExecOptions = {}): Promise<number> {
  const r = table.format === "iceberg"
    ? await rows(spark, `SELECT count(*) AS n FROM ${table.name}.files`, o)
    : (await rows(spark, `DESCRIBE DETAIL ${table.name}`, o)).map((d): Record<string, unknown> => ({ n: d.numFiles }));
  return Number(r[0]?.n ?? 0);
}

/** Options of {@linkcode compact}. */
export interface CompactOptions extends ExecOptions {
  /** Delta: `ZORDER BY` these columns; Iceberg: the z-order sort strategy on them. */
  zorderBy?: string[];
  /** Iceberg: rewrite a file group once it has this many files (default 2: any two small files). */
  minInputFiles?: number;
}

/** Compacts small files (Delta OPTIMIZE, Iceberg rewrite_data_files); file counts before and after. */
export async function compact(
  spark: SparkSession,
  table: LakeTable,
  o: CompactOptions = {},
): Promise<{ filesBefore: number; filesAfter: number }> {
  const z = o.zorderBy ?? [];
  if (!z.every((c) => PART.test(c))) {
    throw new MercuryError("usage", `z-order columns ${JSON.stringify(z)} are not column names`, { where: "zorderBy" });
  }
  const filesBefore = await fileCount(spark, table, o);
  if (table.format === "iceberg") {
    const sort = z.length ? `, strategy => 'sort', sort_order => 'zorder(${z.join(",")})'` : "";
    await rows(
      spark,
      `CALL ${table.catalog}.system.rewrite_data_files(table => '${table.inCatalog}'${sort}, ` +
        `options => map('min-input-files', '${Math.max(1, Math.floor(o.minInputFiles ?? 2))}'))`,
      o,
    );
  } else {
    await rows(spark, `OPTIMIZE ${table.name}${z.length ? ` ZORDER BY (${z.join(", ")})` : ""}`, o);
  }
  return { filesBefore, filesAfter: await fileCount(spark, table, o) };
}

/** Options of {@linkcode expireSnapshots}. */
export interface ExpireOptions extends ExecOptions {
  /** Expire snapshots committed before this time (default now). */
  olderThan?: Date;
  /** Iceberg: keep at least this many newest snapshots (default 1). */
  retainLast?: number;
}

/**
 * Expires old snapshots: Iceberg `expire_snapshots` (snapshots and the files
 * only they referenced are deleted), Delta `VACUUM … RETAIN h HOURS` (files
 * not referenced by the versions newer than the retention are deleted; the
 * history stays). Returns the snapshots left and, for Iceberg, the data
 * files deleted.
 */
export async function expireSnapshots(
  spark: SparkSession,
  table: LakeTable,
  o: ExpireOptions = {},
): Promise<{ kept: Snapshot[]; deletedDataFiles?: number }> {
  const olderThan = o.olderThan ?? new Date();
  let deleted: number | undefined;
  if (table.format === "iceberg") {
    const r = await rows(
      spark,
      `CALL ${table.catalog}.system.expire_snapshots(table => '${table.inCatalog}', ` +
        `older_than => TIMESTAMP '${olderThan.toISOString()}', retain_last => ${
          Math.max(1, Math.floor(o.retainLast ?? 1))
        })`,
      o,
    );
    deleted = Number(r[0]?.deleted_data_files_count ?? 0);
  } else {
    const hours = Math.max(0, (Date.now() - olderThan.getTime()) / 3_600_000);
    await rows(spark, `VACUUM ${table.name} RETAIN ${hours.toFixed(6)} HOURS`, o);
  }
  return { kept: await snapshots(spark, table, o), deletedDataFiles: deleted };
}

/**
 * The table as of a snapshot (Iceberg id) or version (Delta). A snapshot the
 * table no longer has (expired, or never there) is a `not_found` error naming
 * the snapshots it does have.
 */
export async function readAsOf(
  spark: SparkSession,
  table: LakeTable,
  snapshot: string | number | bigint,
  o: ExecOptions = {},
): Promise<DataFrame> {
  const id = String(snapshot);
  if (!/^\d+$/.test(id)) {
    throw new MercuryError("usage", `"${id}" is not a snapshot id or version`, { where: "snapshot" });
  }
  const have = await snapshots(spark, table, o);
  if (!have.some((s) => s.id === id)) {
    const list = have.map((s) => s.id);
    throw new MercuryError(
      "not_found",
      `${table.name} has no snapshot ${id}: it was expired or never existed`,
      {
        where: table.name,
        hint: `time travel to one it has: ${list.slice(-5).join(", ")}${list.length > 5 ? ", …" : ""}`,
      },
    );
  }
  return await spark.sql(`SELECT * FROM ${table.name} VERSION AS OF ${id}`, undefined, o);
}
