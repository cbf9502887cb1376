/**
 * The Spark job analyser: read an application from Spark's REST API or its
 * event log, analyse it, and write the report.
 *
 * @example
 * ```ts
 * import { makespan } from "@mercury/spark/analyze";
 * import assert from "node:assert/strict";
 * assert.equal(makespan([5, 1, 1, 1], 4), 5);
 * ```
 *
 * @module
 */
export {
  type Analysis,
  analyze,
  cost,
  DEFAULT_PRICES,
  type Finding,
  heuristics,
  makespan,
  median,
  type Prices,
  type Severity,
  severityOf,
  summarizeStage,
  whatIf,
} from "./analysis.ts";
export { type EventLogEntry, findEventLog, listEventLogs, parseEventLines, readEventLog } from "./event_log.ts";
export {
  type AppFilter,
  type AppRecord,
  fetchApplication,
  listApplications,
  type StageRecord,
  type StageTotals,
  stageTotals,
  type TaskRecord,
} from "./rest.ts";
export {
  executorsFor,
  extrapolate,
  fitScale,
  fitSingleNode,
  type ScaleEstimate,
  type ScaleModel,
  type ScaleSample,
  type ScaleTarget,
  singleNodeCapacityGB,
  type SingleNodeModel,
} from "./scale.ts";
export { reportHtml, summaryLines } from "./report.ts";
