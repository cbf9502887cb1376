/**
 * `@mercury/olap`: an analytics service on DuckDB and Arrow: a
 * catalog of versioned, partitioned Parquet tables; an HTTP query API answering
 * JSON, NDJSON, CSV, Parquet, Arrow IPC and xlsx; plans and profiles; a result
 * cache keyed by table versions; rollups; time-series helpers; a web UI.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "olap");
 * assert.ok("serve" in manifest.commands);
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export {
  type ColumnInfo,
  DuckDBExecutor,
  type DuckDBExecutorOptions,
  type Executor,
  type Params,
  type QueryStream,
  type RunOptions,
  type Scalar,
  toValues,
} from "./executor.ts";
export { classifyError, errorPosition, OlapError, type SqlPosition } from "./errors.ts";
export {
  Catalog,
  type CatalogFile,
  DEFAULT_STORAGE,
  type IngestOptions,
  parsePartition,
  type Storage,
  type TableMeta,
} from "./catalog.ts";
export { detectFormat, type FileFormat, parseSource, prepareSource, sandboxSource, type Source } from "./sources.ts";
export { resolveToken, TokenCheck } from "./access.ts";
export {
  CHART_MARKS,
  chartBody,
  chartRequest,
  checkSqlLength,
  explainBody,
  explainRequest,
  ingestBody,
  ingestRequest,
  MAX_SQL_CHARS,
  parseInput,
  queryBody,
  rollupBody,
  rollupRequest,
} from "./http_input.ts";
export { LOG_SQL_CHARS, logText, type LogTextOptions, redactLiterals } from "./query_log.ts";
export { arrowSchema, chunksToArrow, typeIdOf } from "./arrow.ts";
export {
  closePipes,
  CONTENT_TYPES,
  COPY_FORMATS,
  copyStream,
  encode,
  EXTENSIONS,
  type Format,
  jsonCopyStream,
  jsonExpr,
  jsonRowsSql,
  jsonValue,
  parseFormat,
} from "./formats.ts";
export { cacheKey, MemoryCache, RedisCache, type ResultCache } from "./cache.ts";
export { analyse, type Analysis, lit } from "./sql_ast.ts";
export {
  checkRollup,
  type LoggedQuery,
  type Measure,
  rewriteForRollup,
  rollupSelect,
  type RollupSpec,
  type RollupSuggestion,
  suggestRollups,
} from "./rollups.ts";
export { explainQuery, type Explanation, type PlanNode, renderTree } from "./explain.ts";
export { estimateNativeRowGroups, estimateRowGroups, type RowGroupEstimate } from "./row_groups.ts";
export {
  asofJoin,
  type AsofJoinOptions,
  funnel,
  type FunnelOptions,
  GAP_FILL_MAX_POINTS,
  gapFill,
  type GapFillOptions,
  movingAggregate,
  type MovingOptions,
  retention,
  type RetentionOptions,
  sessionize,
  type SessionOptions,
  TIME_SERIES_MACROS,
} from "./timeseries.ts";
export { type LogEntry, Olap, type OlapOptions, type QueryAnswer, type QueryOptions, rollupTable } from "./engine.ts";
export { apiApp, type OlapServer, serve, type ServeOptions } from "./server.ts";
export type { ApiEnv, ApiState } from "./http/context.ts";
export { generateEvents } from "./sample_data.ts";
