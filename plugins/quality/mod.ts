/**
 * `@mercury/quality`: data-quality validation. The engine compiles a suite of
 * Great Expectations Core 1.x expectations to as few DuckDB queries as
 * possible over any source (files, PostgreSQL, Kafka samples) and returns
 * GX-shaped results.
 *
 * @example
 * ```ts
 * import { manifest, validate } from "@mercury/quality";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "quality");
 * assert.equal(typeof validate, "function");
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export type * from "./types.ts";
export { validate, validateOpened } from "./validate.ts";
export {
  asSourceError,
  type OpenedSource,
  openSource,
  type OpenSourceOptions,
  redactUri,
  sourceKind,
} from "./sources/open_source.ts";
export { checkSuite, loadSuite, parseSuite } from "./suite/load_suite.ts";
export { parseShorthand } from "./suite/shorthand.ts";
export { closestType, expectationTypes, getDefinition, registerExpectation } from "./expectations/registry.ts";
export type {
  AggregateDefinition,
  ArgSpec,
  CompileContext,
  ExpectationDefinition,
  MapDefinition,
  QueryDefinition,
  TableDefinition,
  Verdict,
} from "./expectations/definition.ts";
export { actionTypes, registerAction, runActions, ValidationFailed, writeAtomic } from "./actions.ts";
import "./checkpoint_actions.ts";
export { defineSchema, type FieldSpec, type RowSchema } from "./row_schema.ts";
export { checkMaterialization, type RecordCheck, validateRecords } from "./hooks.ts";
export {
  type ColumnProfile,
  type Profile,
  type ProfileOptions,
  profileRelation,
  profileSource,
  profileText,
} from "./profile/mod.ts";
export { ordersSql, writeOrdersParquet } from "./profile/sample_data.ts";
export { type SuggestOptions, suggestSuite } from "./suggest.ts";
export { type Change, changeLines, diffProfiles, diffSuites } from "./diff.ts";
export { type Dimension, dimensionOf, DIMENSIONS, type QualityScore, SCORE_FORMULA, scoreRun } from "./score.ts";
export { type AnomalyStrategy, type AnomalyVerdict, checkAnomaly, checkMetrics } from "./anomaly.ts";
export { type AuditVerdict, QualityStore, runMetrics, type SuiteVersion, withStore } from "./store/store.ts";
export { buildReport, type ReportFormat, writeReport } from "./report/build.ts";
export { renderHtml, type ReportInput } from "./report/html.ts";
export { renderJson, renderJunit } from "./report/formats.ts";
