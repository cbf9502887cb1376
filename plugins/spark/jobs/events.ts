/**
 * The seed's `process_data.py`, through Spark Connect: raw events (JSON lines)
 * are generated on the cluster, then ingested, cleaned (trimmed and
 * lower-cased regions, amounts cast with bad ones dropped, duplicates by
 * `event_id` removed), enriched with a broadcast join against the products
 * dimension, written partitioned by `date`, `region` and `category`, and
 * aggregated per day, region and category. A failed job leaves the old
 * output whole: Parquet goes to a staging folder that replaces the output when
 * the job has succeeded (`lake_fs.ts`: renames on local paths and HDFS, a
 * server-side copy on S3), Delta commits through its transaction log. `--udf zscore` adds a robust
 * z-score of the amount per category, computed by a pandas UDF (`udf.ts`).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { col, fn } from "../connect/column.ts";
import type { DataFrame } from "../connect/dataframe.ts";
import type { ExecOptions, SparkSession } from "../connect/session.ts";
import { isLocal, lakeFs, localPath, stagingPath } from "./lake_fs.ts";
import { robustZScore } from "./udf.ts";

/** Options of {@linkcode generateEvents}. */
export interface GenerateOptions {
  /** Folder of the raw events (JSON lines). */
  output: string;
  /** Folder of the products dimension (Parquet); default `<output>-products`. */
  productsOutput?: string;
  rows: number;
  days?: number;
  products?: number;
  /** Files to write (default 8). */
  files?: number;
}

/**
 * Writes `rows` raw events as JSON lines and a products dimension, computed on
 * the cluster with SQL over `range()` (deterministic: the same rows every run).
 * About 1 % of amounts are unparsable or negative and 0.5 % of events repeat.
 */
export async function generateEvents(
  spark: SparkSession,
  o: GenerateOptions,
): Promise<{ events: string; products: string }> {
  const days = o.days ?? 30;
  const products = o.products ?? 1000;
  const productsOut = o.productsOutput ?? `${o.output}-products`;
  // A replayed event (1 in 200) repeats the row before it exactly, so de-duplication is deterministic.
  const events = await spark.sql(`
    SELECT
      CAST(src AS STRING) AS event_id,
      date_format(timestamp_seconds(1767225600 + (src * 7919) % (${days} * 86400)), "yyyy-MM-dd HH:mm:ss") AS ts,
      CAST(abs(hash(src, 1)) % 50000 AS BIGINT) AS user_id,
      CAST(abs(hash(src, 2)) % ${products} AS INT) AS product_id,
      CASE
        WHEN src % 97 = 3 THEN 'n/a'
        WHEN src % 101 = 5 THEN '-12.50'
        ELSE format_string('%.2f', CAST(abs(hash(src, 3)) % 100000 AS DOUBLE) / 100)
      END AS amount,
      CASE abs(hash(src, 4)) % 6
        WHEN 0 THEN ' EU ' WHEN 1 THEN 'eu' WHEN 2 THEN 'US' WHEN 3 THEN 'us '
        WHEN 4 THEN 'apac' ELSE 'LatAm' END AS region,
      element_at(array('view', 'cart', 'purchase'), CAST(abs(hash(src, 5)) % 3 + 1 AS INT)) AS event_type
    FROM (SELECT CASE WHEN id % 200 = 7 THEN id - 1 ELSE id END AS src FROM range(${o.rows}))`);
  await events.repartition(o.files ?? 8).write.mode("overwrite").format("json").save(o.output);
  const dims = await spark.sql(`
    SELECT CAST(id AS INT) AS product_id,
           element_at(array('books', 'games', 'garden', 'kitchen', 'music', 'sports', 'toys', 'tools'),
                      CAST(id % 8 + 1 AS INT)) AS category,
           concat('brand-', CAST(id % 37 AS STRING)) AS brand
    FROM range(${products})`);
  await dims.coalesce(1).write.mode("overwrite").parquet(productsOut);
  return { events: o.output, products: productsOut };
}

/** How the lake table's files are laid out. */
export type Strategy = "none" | "by-columns" | "fixed";

/** Options of {@linkcode processEvents}. */
export interface ProcessOptions {
  input: string;
  products: string;
  output: string;
  /** Shuffle partitions of the job (`--partitions`, the seed's 500). */
  partitions: number;
  format?: "parquet" | "delta";
  /**
   * `none`: write as the job's partitions fall (each task writes into every
   * folder it has rows for); `by-columns`: repartition by the partition columns
   * first (one file per folder); `fixed`: repartition to `partitions` by hash of
   * the columns (what `--partitions` asks).
   */
  strategy?: Strategy;
  /** Broadcast the dimension (default true); false forces a sort-merge join. */
  broadcast?: boolean;
  /**
   * An opt-in vectorised Python UDF step: `zscore` appends `amount_robust_z`,
   * the robust z-score of the amount per category (a pandas UDF on the
   * executors, {@linkcode robustZScore}).
   */
  udf?: "zscore";
  exec?: ExecOptions;
}

/** What {@linkcode processEvents} did. */
export interface ProcessResult {
  output: string;
  aggregateOutput: string;
  rawRows: number;
  cleanRows: number;
  aggregateRows: number;
  seconds: number;
  files?: FileStats;
}

/** Files under a folder. */
export interface FileStats {
  files: number;
  bytes: number;
  folders: number;
  minBytes: number;
  medianBytes: number;
  maxBytes: number;
}

const PARTITION_COLUMNS = ["date", "region", "category"];

/** The cleaned, enriched events (lazy). */
export function cleanAndEnrich(raw: DataFrame, products: DataFrame, broadcast = true): DataFrame {
  const cleaned = raw
    .withColumns({
      region: fn.lower(fn.trim(col("region"))),
      amount: "try_cast(amount AS DOUBLE)",
      ts: "try_to_timestamp(ts)",
    })
    .filter("amount IS NOT NULL AND amount >= 0 AND ts IS NOT NULL AND event_id IS NOT NULL")
    .dropDuplicates("event_id")
    .withColumn("date", "to_date(ts)");
  const dims = broadcast ? products.hint("broadcast") : products.hint("merge");
  return cleaned.join(dims, "product_id", "left").withColumn("category", "coalesce(category, 'unknown')");
}

/** Daily totals per region and category. */
export function aggregate(enriched: DataFrame): DataFrame {
  return enriched.groupBy("date", "region", "category").agg(
    fn.count().alias("events"),
    fn.sum("amount").alias("revenue"),
    fn.countDistinct("user_id").alias("users"),
    fn.avg("amount").alias("avg_amount"),
  );
}

export { isLocal } from "./lake_fs.ts";

/**
 * Writes `df` to `output` atomically for a failed job: Parquet goes to a
 * staging folder next to the output and replaces it only when the job has
 * succeeded ({@linkcode lakeFs}: two renames on local paths and HDFS, a
 * server-side copy on S3); a Delta table commits through its log (readers see
 * the old or the new version, never half).
 */
export async function atomicWrite(
  df: DataFrame,
  output: string,
  format: "parquet" | "delta",
  partitionBy: string[],
  exec: ExecOptions = {},
): Promise<void> {
  if (format === "delta") {
    await df.write.format(format).mode("overwrite").option("overwriteSchema", "true").partitionBy(...partitionBy)
      .save(output, exec);
    return;
  }
  const fs = lakeFs(output);
  const staging = stagingPath(output);
  try {
    await df.write.format(format).mode("error").partitionBy(...partitionBy).save(staging, exec);
  } catch (err) {
    await fs.remove(staging).catch(() => {});
    throw err;
  }
  await fs.publish(staging, output);
}

/** Runs the whole job; returns row counts, time and the output's file statistics. */
export async function processEvents(spark: SparkSession, o: ProcessOptions): Promise<ProcessResult> {
  if (!Number.isInteger(o.partitions) || o.partitions < 1) {
    throw new MercuryError("usage", `--partitions must be a whole number ≥ 1, got ${o.partitions}`, {
      where: "--partitions",
    });
  }
  const format = o.format ?? "parquet";
  const t0 = performance.now();
  await spark.setConf({ "spark.sql.shuffle.partitions": o.partitions });
  const raw = spark.read.format("json")
    .schema(
      "event_id STRING, ts STRING, user_id BIGINT, product_id INT, amount STRING, region STRING, event_type STRING",
    )
    .load(o.input);
  const products = spark.read.parquet(o.products);
  const rawRows = await raw.count(o.exec);
  let enriched = cleanAndEnrich(raw, products, o.broadcast ?? true);
  if (o.udf === "zscore") enriched = await robustZScore(enriched, { groupBy: ["category"], column: "amount" });
  const strategy = o.strategy ?? "by-columns";
  if (strategy === "by-columns") enriched = enriched.repartition(o.partitions, ...PARTITION_COLUMNS);
  else if (strategy === "fixed") enriched = enriched.repartition(o.partitions);
  await atomicWrite(enriched, o.output, format, PARTITION_COLUMNS, o.exec);
  const written = spark.read.format(format).load(o.output);
  const cleanRows = await written.count(o.exec);
  const aggregateOutput = `${o.output.replace(/\/$/, "")}-daily`;
  await atomicWrite(aggregate(written).coalesce(1), aggregateOutput, format, [], o.exec);
  const aggregateRows = await spark.read.format(format).load(aggregateOutput).count(o.exec);
  const seconds = (performance.now() - t0) / 1000;
  const files = isLocal(o.output) ? await fileStats(localPath(o.output)) : undefined;
  return { output: o.output, aggregateOutput, rawRows, cleanRows, aggregateRows, seconds, files };
}

/** Counts data files (Parquet), their sizes and the partition folders under `dir`. */
export async function fileStats(dir: string): Promise<FileStats> {
  const sizes: number[] = [];
  const folders = new Set<string>();
  async function walk(d: string): Promise<void> {
    for await (const e of Deno.readDir(d)) {
      if (e.name.startsWith("_") || e.name.startsWith(".")) continue;
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".parquet")) {
        sizes.push((await Deno.stat(p)).size);
        folders.add(d);
      }
    }
  }
  await walk(dir);
  sizes.sort((a, b) => a - b);
  return {
    files: sizes.length,
    bytes: sizes.reduce((s, x) => s + x, 0),
    folders: folders.size,
    minBytes: sizes[0] ?? 0,
    medianBytes: sizes[Math.floor(sizes.length / 2)] ?? 0,
    maxBytes: sizes[sizes.length - 1] ?? 0,
  };
}

/** A downstream query on the lake table: one region, one week, revenue per category. Returns its ms. */
export async function downstreamQuery(spark: SparkSession, path: string, format = "parquet"): Promise<number> {
  const t0 = performance.now();
  await spark.read.format(format).load(path)
    .filter("region = 'eu' AND date BETWEEN DATE'2026-01-03' AND DATE'2026-01-09'")
    .groupBy("category").agg(fn.sum("amount").alias("revenue"))
    .toArrow();
  return performance.now() - t0;
}
