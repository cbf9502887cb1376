/**
 * `@mercury/features`: a feature store (seed task 6) in the spirit of Feast —
 * typed definitions in TypeScript, a versioned registry in PostgreSQL with
 * plan/apply/promote and lineage, an offline store on DuckDB + Parquet,
 * point-in-time correct training sets (ASOF joins), materialisation into
 * Redis, and HTTP + gRPC online serving with Prometheus metrics.
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
import { definePlugin } from "@mercury/core";
import {
  applyCommand,
  getCommand,
  lineageCommand,
  materializeCommand,
  planCommand,
  promoteCommand,
  serveCommand,
} from "./commands.ts";

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "features",
  title: "Feature store",
  version: "0.1.0",
  description: "Feature definitions, registry, point-in-time training sets, Redis materialisation, HTTP/gRPC serving",
  services: ["postgres", "redis", "kafka"],
  commands: {
    plan: planCommand,
    apply: applyCommand,
    materialize: materializeCommand,
    serve: serveCommand,
    get: getCommand,
    lineage: lineageCommand,
    promote: promoteCommand,
  },
  notebook: "notebooks/06-features.ipynb",
});

export { applyCommand, getCommand, lineageCommand, materializeCommand, planCommand, promoteCommand, serveCommand };
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
  type SchemaProblem,
  type SchemaUnchecked,
  type ViewSchemaSource,
} from "./plan.ts";
export { OfflineStore, type OfflineStoreOptions } from "./offline_store.ts";
export { type EntityInput, getHistoricalFeatures, type HistoricalOptions, historicalSql } from "./historical.ts";
export {
  type OnlineHit,
  onlinePrefix,
  type OnlineRow,
  type OnlineStore,
  RedisOnlineStore,
  toOnlineValue,
} from "./online_store.ts";
export { materialize, type MaterializeOptions, type MaterializeReport } from "./materialize.ts";
export { compareStats, computeStats, DEFAULT_THRESHOLDS, type DriftThresholds } from "./quality.ts";
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
export {
  featureServerClient,
  fromProtoValue,
  type GrpcFeatureServer,
  loadFeatureServerProto,
  PROTO_PATH,
  type ProtoValue,
  serveGrpc,
  type ServeGrpcOptions,
  toProtoValue,
} from "./grpc_server.ts";
export { type Lineage, lineageGraph, lineageMermaid, type LineageNode, lineageOf, lineageSvg } from "./lineage.ts";
export { type PushIngestion, type PushOptions, pushRow, startPushIngestion } from "./push_source.ts";
export { loadRepo } from "./repo_loader.ts";
export { type FeatureStore, type FeatureStoreOptions, openFeatureStore } from "./feature_store.ts";
