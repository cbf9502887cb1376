/**
 * `@mercury/privacy`: the plugin's public API and its manifest.
 *
 * @example
 * ```ts
 * import { hello, manifest } from "@mercury/privacy";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "privacy");
 * assert.equal(typeof hello, "function");
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { hello } from "./commands/hello.ts";
// Differential privacy: exact samplers and mechanisms, accountants, the budget ledger, DP SQL, summaries, utility, charts.
export {
  bernoulliExp,
  floatToRational,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
  sampleGeometric,
} from "./mechanisms/samplers.ts";
export {
  analyticGaussianSigma,
  gaussianDelta,
  gaussianMechanism,
  laplaceMechanism,
  type NoisyValue,
} from "./mechanisms/float.ts";
export { exponentialMechanism, reportNoisyMax, sparseVector } from "./mechanisms/selection.ts";
export { dpQuantile, type QuantileOptions } from "./mechanisms/quantile.ts";
export { boundContributions, clamp, dpHistogram, partitionThreshold } from "./mechanisms/histogram.ts";
export {
  DEFAULT_ORDERS,
  noiseMultiplierFor,
  RdpAccountant,
  rdpGaussian,
  rdpSubsampledGaussian,
  rdpToDelta,
  rdpToEpsilon,
} from "./accounting/rdp.ts";
export { advancedComposition, basicComposition, type EpsDelta } from "./accounting/composition.ts";
export { gaussianRho, pureToRho, rhoForEpsilon, sigmaForRho, zcdpToEpsilon } from "./accounting/zcdp.ts";
export { PrivacyLossDistribution } from "./accounting/pld.ts";
export {
  type Budget,
  type BudgetState,
  type Charge,
  chargeCost,
  type Composition,
  type CostPart,
  Ledger,
  type LedgerEntry,
} from "./ledger.ts";
export { type DpAnswer, dpQuery, type DpQueryOptions, type DpValue } from "./dpsql/query.ts";
export { analyzeTable, type ColumnSummary, privateBounds, type TableSummary } from "./analyze.ts";
export { epsilonForError, utilityChart, utilityCurve, type UtilityPoint } from "./utility.ts";
export { type DpCell, dpCounts, dpHeatmapChart, dpHistogramChart, dpTimeSeriesChart } from "./charts.ts";
