/**
 * `@mercury/observe`: ML observability. Models trained with TensorFlow.js are
 * logged to MLflow and served from its registry by {@linkcode ObserveServer},
 * which logs every prediction to PostgreSQL and Kafka, joins labels that
 * arrive later, keeps sliding-window performance and drift per model and
 * version ({@linkcode ModelMonitor}), evaluates alert rules
 * ({@linkcode AlertEngine}, mirrored as Prometheus rules) and can retrain
 * ({@linkcode retrain}); the statistics live in `@mercury/observe/stats`.
 *
 * @example
 * ```ts
 * import { manifest, promqlOf } from "@mercury/observe";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "observe");
 * assert.equal(promqlOf({ name: "Drift", kind: "drift", model: "churn", value: 0.5 }),
 *   'mercury_observe_drift_share{model="churn"} > 0.5');
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export {
  AlertEngine,
  type AlertEvent,
  type AlertInputs,
  type AlertKind,
  type AlertRule,
  checkRules,
  DEFAULT_RULES,
  postWebhook,
  prometheusRules,
  promqlOf,
} from "./alerts.ts";
export { MlflowClient, MlflowError, type MlflowRun, type ModelVersion } from "./mlflow_client.ts";
export {
  type LoadedModel,
  loadModelFiles,
  loadVersion,
  logModel,
  modelFiles,
  type ModelKind,
  type ModelMeta,
  predictRows,
  trainModel,
} from "./model.ts";
export { ModelMonitor, type MonitorSnapshot } from "./monitor.ts";
export { PredictionLog, type PredictionRecord } from "./prediction_log.ts";
export { installRules, writeTargets } from "./prometheus_files.ts";
export { ModelRegistry } from "./registry.ts";
export { retrain, type RetrainResult } from "./retrain.ts";
export { setupSchema } from "./schema.ts";
export { type Experiment, ObserveServer, type ObserveServerOptions, parseRows } from "./server.ts";
export { LABELS_TOPIC, PREDICTIONS_TOPIC } from "./topics.ts";
export { predictionsToDuckDB } from "./analysis.ts";
export { basketData, churnData, type DemoData } from "./demo_data.ts";
export {
  AbTest,
  Cbpe,
  classificationReport,
  dataDrift,
  domainClassifierDrift,
  DriftWindow,
  kernelShap,
  linearShap,
  PcaDrift,
  permutationImportance,
  regressionReport,
  SequentialTest,
  shadow,
  TrafficSplit,
} from "./stats/mod.ts";
export { Dashboard } from "./dashboard.ts";
