/**
 * `@mercury/features`: a feature store in the spirit of Feast — typed
 * definitions in TypeScript, a versioned registry in PostgreSQL with
 * plan/apply/promote and lineage, an offline store on DuckDB + Parquet,
 * point-in-time correct training sets (ASOF joins), materialisation into
 * Redis, and HTTP online serving with Prometheus metrics.
 *
 * The heavy clients live on subpaths, so importing this module loads neither:
 * the gRPC server and client are `@mercury/features/grpc` (`@grpc/grpc-js`),
 * Kafka push ingestion is `@mercury/features/push` (kafkajs). The CLI's
 * manifest alone is `@mercury/features/manifest`.
 *
 * @example
 * ```ts
 * import { entity, featureView, fileSource, manifest, validateRepo } from "@mercury/features";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "features");
 * const repo = {
 *   project: "demo",
 *   entities: [entity({ name: "card", joinKey: "card_id", valueType: "int64" })],
 *   views: [featureView({
 *     name: "card_stats", entities: ["card"], ttlSeconds: 86_400,
 *     source: fileSource({ name: "tx", format: "parquet", path: "tx.parquet", timestampField: "ts" }),
 *     features: [{ name: "amount_7d", type: "float64" }],
 *   })],
 * };
 * validateRepo(repo); // throws on a bad reference or type
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export {
  type DataSource,
  type Definition,
  type Entity,
  entity,
  type Feature,
  type FeatureRepo,
  type FeatureService,
  featureService,
  type FeatureView,
  featureView,
  type FileSource,
  fileSource,
  type KafkaPushSource,
  kafkaSource,
  type Model,
  model,
  type OnDemandFeatureView,
  onDemandFeatureView,
  parseRef,
  type PostgresSource,
  postgresSource,
  type RequestField,
  type RowTransform,
  VALUE_TYPES,
  type ValueType,
} from "./definitions.ts";
export { expandRefs, type GroupedRefs, groupRefsByView, validateRepo } from "./validate.ts";
export { type ObjectKind, repoObjects, type StoredObject, toStored } from "./spec.ts";
export {
  type Environment,
  ENVIRONMENTS,
  FeatureRegistry,
  type FeatureStats,
  type MaterializationRun,
  parseEnvironment,
  type RegistryObject,
  type Release,
  type StatsRow,
} from "./registry.ts";
export {
  apply,
  type ApplyOptions,
  type Change,
  checkViewSchemas,
  diffObjects,
  formatPlan,
  type Plan,
  plan,
  type PlanOptions,
  promote,
  rollback,
  type SchemaProblem,
  type SchemaUnchecked,
  type ViewSchemaSource,
} from "./plan.ts";
export { typeCompatible } from "./schema_check.ts";
export { OfflineStore, type OfflineStoreOptions } from "./offline_store.ts";
export { type EntityInput, getHistoricalFeatures, type HistoricalOptions, historicalSql } from "./historical.ts";
export {
  checkTrainingSetRequest,
  entityFile,
  type TrainingSetFile,
  trainingSetFormat,
  trainingSetHandler,
  type TrainingSetHandlerOptions,
  type TrainingSetReport,
  type TrainingSetRequest,
  writeTrainingSet,
} from "./training_set.ts";
export {
  type OnlineHit,
  onlinePrefix,
  type OnlineRow,
  type OnlineStore,
  RedisOnlineStore,
  toOnlineValue,
} from "./online_store.ts";
export { entityKey, entityKeySql } from "./entity_key.ts";
export { materialize, type MaterializeOptions, type MaterializeReport } from "./materialize.ts";
export { compareStats, computeStats, DEFAULT_THRESHOLDS, type DriftThresholds } from "./quality.ts";
export {
  type DriftAlertEvent,
  type DriftAlertOptions,
  DriftAlerts,
  type DriftRun,
  driftRunsFromStats,
} from "./drift_alerts.ts";
export { type PruneRound, type RetentionOptions, scheduleRetention } from "./retention.ts";
export {
  AccessError,
  type Caller,
  maskPii,
  mayReadPii,
  PII_SCOPE,
  type PiiAccess,
  PiiAccessLog,
  type PiiAccessQuery,
  piiFeatures,
  TokenAuth,
  type TokenEntry,
} from "./pii.ts";
export {
  DEFAULT_STORE_TIMEOUT_MS,
  FeatureServer,
  type FeatureServerOptions,
  type FeatureStatus,
  type OnlineColumn,
  type OnlineRequest,
  type OnlineResponse,
  type ServingMetrics,
  servingMetrics,
} from "./online_features.ts";
export {
  checkColumn,
  checkEntityCount,
  checkRequestShape,
  DEFAULT_MAX_ENTITIES,
  isValueOf,
  type RequestShape,
} from "./online_request.ts";
export {
  errorBody,
  type HttpFeatureServer,
  httpStatus,
  type MetricsHook,
  serveHttp,
  type ServeHttpOptions,
} from "./http_server.ts";
export { type Lineage, lineageGraph, lineageMermaid, type LineageNode, lineageOf, lineageSvg } from "./lineage.ts";
export { loadRepo } from "./repo_loader.ts";
export { type RegistryRepo, repoFromObjects, repoFromRegistry } from "./registry_repo.ts";
export { type FeatureStore, type FeatureStoreOptions, openFeatureStore } from "./feature_store.ts";
