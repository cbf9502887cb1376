/**
 * Feature definitions as typed TypeScript values, in the spirit of Feast's
 * Python objects: entities, data sources, feature views, on-demand feature
 * views, feature services and the models that use them.
 *
 * @module
 */

/** The value types a feature may have. */
export type ValueType = "int64" | "float64" | "string" | "bool" | "timestamp";

/** All value types, for validation and help. */
export const VALUE_TYPES: readonly ValueType[] = ["int64", "float64", "string", "bool", "timestamp"];

/** A thing features describe (a card, a user); `joinKey` is its column. */
export interface Entity {
  kind: "entity";
  name: string;
  joinKey: string;
  valueType: "int64" | "string";
  description?: string;
  owner?: string;
}

/** Rows in Parquet or CSV files (a glob is fine). */
export interface FileSource {
  kind: "file_source";
  name: string;
  format: "parquet" | "csv";
  path: string;
  timestampField: string;
  createdTimestampField?: string;
  description?: string;
}

/** Rows in a PostgreSQL table (read through the `postgres` client). */
export interface PostgresSource {
  kind: "postgres_source";
  name: string;
  /** `schema.table` or `table`. */
  table: string;
  timestampField: string;
  createdTimestampField?: string;
  description?: string;
}

/** A Kafka topic of JSON events pushed straight to the online store; its history lives in `batchSource`. */
export interface KafkaPushSource {
  kind: "kafka_source";
  name: string;
  topic: string;
  batchSource: FileSource | PostgresSource;
  timestampField: string;
  description?: string;
}

/** Any data source. */
export type DataSource = FileSource | PostgresSource | KafkaPushSource;

/** One typed feature of a view. */
export interface Feature {
  name: string;
  type: ValueType;
  description?: string;
  /** Personally identifiable: governance metadata, shown in lineage and plan. */
  pii?: boolean;
}

/** A batch row transform in TypeScript: gets the source rows, returns the view's rows. */
export type RowTransform = (rows: Record<string, unknown>[]) => Record<string, unknown>[];

/** Features of one or more entities, computed from a source, kept for `ttl`. */
export interface FeatureView {
  kind: "feature_view";
  name: string;
  entities: string[];
  source: DataSource;
  features: Feature[];
  /** Maximum age of a value, in seconds; 0 = forever. */
  ttlSeconds: number;
  /**
   * Optional SQL over the source; `{source}` names the source relation. It must
   * return the join keys, `event_timestamp`-like field of the source, and every feature.
   */
  sql?: string;
  /** Optional TypeScript transform of the source rows (used when `sql` is absent). */
  transform?: RowTransform;
  owner?: string;
  tags?: Record<string, string>;
  description?: string;
  /** Offline retention in days: partitions older than this are pruned. */
  retentionDays?: number;
  /** Serve from the online store (default true). */
  online?: boolean;
}

/** A request-time input of an on-demand view. */
export interface RequestField {
  name: string;
  type: ValueType;
}

/** Request-time features computed in TypeScript from other features and request data. */
export interface OnDemandFeatureView {
  kind: "on_demand_feature_view";
  name: string;
  /** Feature references `view:feature` it reads. */
  inputs: string[];
  request: RequestField[];
  features: Feature[];
  /** Gets one row of inputs (keyed by feature name and request field), returns the outputs. */
  transform: (row: Record<string, unknown>) => Record<string, unknown>;
  owner?: string;
  tags?: Record<string, string>;
  description?: string;
}

/** The features a model uses. */
export interface FeatureService {
  kind: "feature_service";
  name: string;
  /** `view:feature` references, or `view:*` for every feature of a view. */
  features: string[];
  owner?: string;
  tags?: Record<string, string>;
  description?: string;
}

/** A model trained on a feature service (the end of the lineage). */
export interface Model {
  kind: "model";
  name: string;
  featureService: string;
  owner?: string;
  description?: string;
}

/** A feature repository: every definition one module exports. */
export interface FeatureRepo {
  project: string;
  entities: Entity[];
  views: FeatureView[];
  onDemandViews?: OnDemandFeatureView[];
  services?: FeatureService[];
  models?: Model[];
}

/** Any registered object. */
export type Definition = Entity | FeatureView | OnDemandFeatureView | FeatureService | Model;

type Spec<T extends { kind: string }> = Omit<T, "kind">;

/**
 * Defines an entity.
 *
 * @example
 * ```ts
 * import { entity } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const card = entity({ name: "card", joinKey: "card_id", valueType: "int64" });
 * assert.equal(card.kind, "entity");
 * ```
 */
export function entity(spec: Spec<Entity>): Entity {
  return { kind: "entity", ...spec };
}

/**
 * Defines a Parquet or CSV file source.
 *
 * @example
 * ```ts
 * import { fileSource } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const s = fileSource({ name: "tx", format: "parquet", path: "data/tx/*.parquet", timestampField: "ts" });
 * assert.equal(s.kind, "file_source");
 * ```
 */
export function fileSource(spec: Spec<FileSource>): FileSource {
  return { kind: "file_source", ...spec };
}

/**
 * Defines a PostgreSQL table source.
 *
 * @example
 * ```ts
 * import { postgresSource } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(postgresSource({ name: "p", table: "public.t", timestampField: "ts" }).kind, "postgres_source");
 * ```
 */
export function postgresSource(spec: Spec<PostgresSource>): PostgresSource {
  return { kind: "postgres_source", ...spec };
}

/**
 * Defines a Kafka push source.
 *
 * @example
 * ```ts
 * import { fileSource, kafkaSource } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const batch = fileSource({ name: "b", format: "csv", path: "b.csv", timestampField: "ts" });
 * assert.equal(kafkaSource({ name: "k", topic: "t", batchSource: batch, timestampField: "ts" }).topic, "t");
 * ```
 */
export function kafkaSource(spec: Spec<KafkaPushSource>): KafkaPushSource {
  return { kind: "kafka_source", ...spec };
}

/**
 * Defines a feature view.
 *
 * @example
 * ```ts
 * import { featureView, fileSource } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const v = featureView({
 *   name: "card_stats",
 *   entities: ["card"],
 *   source: fileSource({ name: "tx", format: "parquet", path: "tx.parquet", timestampField: "ts" }),
 *   features: [{ name: "amount_7d", type: "float64" }],
 *   ttlSeconds: 86_400,
 * });
 * assert.equal(v.kind, "feature_view");
 * ```
 */
export function featureView(spec: Spec<FeatureView>): FeatureView {
  return { kind: "feature_view", ...spec };
}

/**
 * Defines an on-demand feature view.
 *
 * @example
 * ```ts
 * import { onDemandFeatureView } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const v = onDemandFeatureView({
 *   name: "ratio",
 *   inputs: ["card_stats:amount_7d"],
 *   request: [{ name: "amount", type: "float64" }],
 *   features: [{ name: "amount_ratio", type: "float64" }],
 *   transform: (r) => ({ amount_ratio: Number(r.amount) / (Number(r.amount_7d) || 1) }),
 * });
 * assert.equal(v.transform({ amount: 10, amount_7d: 5 }).amount_ratio, 2);
 * ```
 */
export function onDemandFeatureView(spec: Spec<OnDemandFeatureView>): OnDemandFeatureView {
  return { kind: "on_demand_feature_view", ...spec };
}

/**
 * Defines a feature service.
 *
 * @example
 * ```ts
 * import { featureService } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(featureService({ name: "fraud", features: ["card_stats:*"] }).kind, "feature_service");
 * ```
 */
export function featureService(spec: Spec<FeatureService>): FeatureService {
  return { kind: "feature_service", ...spec };
}

/**
 * Defines a model (the end of lineage).
 *
 * @example
 * ```ts
 * import { model } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(model({ name: "fraud_gbm", featureService: "fraud" }).kind, "model");
 * ```
 */
export function model(spec: Spec<Model>): Model {
  return { kind: "model", ...spec };
}

/**
 * Splits a feature reference `view:feature`.
 *
 * @example
 * ```ts
 * import { parseRef } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRef("card_stats:amount_7d"), { view: "card_stats", feature: "amount_7d" });
 * ```
 */
export function parseRef(ref: string): { view: string; feature: string } {
  const i = ref.indexOf(":");
  if (i <= 0 || i === ref.length - 1) return { view: "", feature: ref };
  return { view: ref.slice(0, i), feature: ref.slice(i + 1) };
}
