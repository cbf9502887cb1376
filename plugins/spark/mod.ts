/**
 * `@mercury/spark`: Apache Spark from Deno. A Spark Connect client
 * ({@linkcode SparkSession}, DataFrames built as Spark Connect relations,
 * Arrow results), the seed's partitioned ETL job, and an analyser of finished
 * jobs (time split, skew, heuristics, what-if, cost).
 *
 * @example
 * ```ts
 * import { col, fn, manifest } from "@mercury/spark";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "spark");
 * assert.equal(fn.sum(col("x")).expr.unresolved_function?.function_name, "sum");
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { call, col, Column, expr, fn, lit, Window, WindowSpec } from "./connect/column.ts";
export { DataFrame, DataFrameReader, DataFrameWriter, GroupedData } from "./connect/dataframe.ts";
export { type ConnectOptions, type ExecOptions, SparkSession } from "./connect/session.ts";
export { errorClassOf, SparkError } from "./connect/errors.ts";
export { tableRows } from "./connect/arrow.ts";
export {
  aggregate,
  atomicWrite,
  cleanAndEnrich,
  downstreamQuery,
  fileStats,
  generateEvents,
  processEvents,
} from "./jobs/events.ts";
export { type Experiment, tuningExperiments, type Variant } from "./jobs/tuning.ts";
export {
  compact,
  type CompactOptions,
  type ExpireOptions,
  expireSnapshots,
  fileCount,
  type LakeFormat,
  type LakeTable,
  lakeTable,
  mergeInto,
  type MergeOptions,
  readAsOf,
  type Snapshot,
  snapshots,
} from "./jobs/lake.ts";
export { applyInPandas, type GroupedMapUdf, robustZScore, udfPython, type ZScoreOptions } from "./jobs/udf.ts";
