/**
 * `@mercury/observe/stats`: the statistics of ML observability in pure
 * TypeScript on typed arrays — performance metrics (scikit-learn's
 * semantics), calibration, drift tests with Evidently's defaults, CBPE,
 * SHAP and A/B tests.
 *
 * @example
 * ```ts
 * import { accuracy } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(accuracy([1, 0], [1, 1]), 0.5);
 * ```
 *
 * @module
 */
export {
  accuracy,
  type Average,
  averagePrecision,
  type ClassificationReport,
  classificationReport,
  type ConfusionMatrix,
  confusionMatrix,
  type Labels,
  logLoss,
  precisionRecallF1,
  type PRF,
  rocAuc,
} from "./classification.ts";
export { type RegressionReport, regressionReport } from "./regression.ts";
export { type Calibration, calibration, type ReliabilityBin } from "./calibration.ts";
export {
  binCategorical,
  type Binned,
  binNumerical,
  type Category,
  chiSquare,
  countValues,
  type DriftTestName,
  histogramSorted,
  jensenShannon,
  klDivergence,
  ks2samp,
  type KsResult,
  populationStd,
  psi,
  sturgesEdges,
  wassersteinNormed,
  wassersteinSorted,
  zTestProportions,
} from "./drift_tests.ts";
export {
  type ColumnDrift,
  columnDrift,
  type ColumnDriftOptions,
  type ColumnKind,
  type ColumnValues,
  dataDrift,
  type DataDriftOptions,
  type DataDriftReport,
  DEFAULT_THRESHOLDS,
  defaultDriftTest,
  P_VALUE_TESTS,
} from "./drift.ts";
export { prepareColumn, type PreparedColumn } from "./drift.ts";
export { DriftWindow, type DriftWindowOptions, type FeatureRow } from "./drift_window.ts";
export { fitIsotonic } from "./isotonic.ts";
export { Cbpe, type CbpeEstimate, type CbpeReference } from "./cbpe.ts";
export {
  domainClassifierDrift,
  type DomainClassifierOptions,
  type DomainClassifierResult,
  fitLogistic,
} from "./domain_classifier.ts";
export { PcaDrift, type PcaDriftOptions, type PcaDriftResult } from "./pca_drift.ts";
export { type BatchModel, exactShap, kernelShap, type KernelShapOptions, linearShap, type ShapValues } from "./shap.ts";
export {
  type FeatureImportance,
  permutationImportance,
  type PermutationImportanceOptions,
} from "./permutation_importance.ts";
export { shapBarSpec, shapBeeswarmSpec, shapWaterfallSpec } from "./shap_charts.ts";
export { hashUnit, TrafficSplit, type Variant } from "./traffic_split.ts";
export { shadow, type Shadowed, type ShadowResult, type ShadowStats } from "./shadow.ts";
export { type SequentialResult, SequentialTest, type SequentialTestOptions } from "./sequential_test.ts";
export { type AbMetric, type AbStatus, AbTest, type AbTestOptions } from "./abtest.ts";
