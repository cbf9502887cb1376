/**
 * `@mercury/forecast`: forecasting one series or thousands — naive, seasonal
 * naive, drift and M4's Naive2; AutoETS; AutoARIMA (Hyndman–Khandakar, exact
 * ML by Kalman filter); Theta and optimised Theta; MSTL and Prophet (augurs,
 * wasm); LSTM and Transformer (TensorFlow.js); ensembles; prediction
 * intervals with coverage checked by backtests; anomaly detection; versioned
 * model files; the `forecast` CLI.
 *
 * Importing this module loads neither TensorFlow.js, the augurs wasm, DuckDB
 * nor vega: the registry loads the neural and augurs models when one is first
 * fitted or restored, `loadSeries` loads DuckDB on its first read, and the
 * commands load their implementation when they run. Their classes have entry
 * points of their own: `@mercury/forecast/neural` (`NeuralForecaster`,
 * `initTf`) and `@mercury/forecast/prophet` (`Prophet`, `Mstl`,
 * `initAugurs`); `@mercury/forecast/manifest` is the plugin's light manifest.
 *
 * @example
 * ```ts
 * import { createForecaster, manifest } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "forecast");
 * const m = createForecaster("seasonal_naive");
 * await m.fit([1, 2, 3, 1, 2, 3], { season: 3 });
 * assert.deepEqual(m.predict(3, [95]).mean, [1, 2, 3]);
 * ```
 *
 * @module
 */
import type { CommandSpec } from "@mercury/core";
import { manifest } from "./manifest.ts";

export { manifest };

/** The `train` command (spec and lazily loaded run), as in `manifest.commands`. */
export const trainCommand: CommandSpec = manifest.commands.train!;
/** The `predict` command. */
export const predictCommand: CommandSpec = manifest.commands.predict!;
/** The `compare` command. */
export const compareCommand: CommandSpec = manifest.commands.compare!;
/** The `backtest` command. */
export const backtestCommand: CommandSpec = manifest.commands.backtest!;
/** The `detect` command. */
export const detectCommand: CommandSpec = manifest.commands.detect!;
/** The `tune` command. */
export const tuneCommand: CommandSpec = manifest.commands.tune!;
/** The `batch` command. */
export const batchCommand: CommandSpec = manifest.commands.batch!;

export { fanChart } from "./_chart.ts";
export { MAX_HORIZON, MAX_POINTS } from "./_limits.ts";
export { forecastHelp, runForecast } from "./cli.ts";
export {
  DEFAULT_LEVELS,
  type FitContext,
  type Forecast,
  type Forecaster,
  type Interval,
  type ModelState,
  normalIntervals,
  residualSd,
} from "./forecaster.ts";
export { algorithm, type AlgorithmInfo, ALGORITHMS } from "./algorithms.ts";
export { Baseline } from "./models/baseline.ts";
export { AutoETS, etsAdmissible, type EtsSpec, type EtsStates, parseEtsModel } from "./models/ets.ts";
export { Theta } from "./models/theta.ts";
export {
  type ArimaCoefs,
  type ArimaOrder,
  AutoARIMA,
  type AutoArimaParams,
  difference,
  kpss,
  seasonalStrength,
} from "./models/arima.ts";
export { createForecaster, Ensemble, type EnsembleParams, restoreForecaster } from "./ensemble.ts";
export {
  backtest,
  backtestErrors,
  type BacktestOptions,
  type BacktestResult,
  type BacktestWindow,
  conformalIntervals,
} from "./backtest.ts";
export {
  coverage,
  crps,
  evaluate,
  mape,
  mase,
  maseScale,
  type MetricName,
  METRICS,
  owa,
  rmse,
  smape,
} from "./metrics.ts";
export { cleanSeries, detectAnomalies, type Detection, type DetectOptions } from "./detect.ts";
export { gridCombinations, type LeaderboardRow, tune } from "./tune.ts";
export {
  advance,
  type Dataset,
  defaultSeason,
  describeFrequency,
  type FillRule,
  type Frequency,
  futureDates,
  type LoadOptions,
  loadSeries,
  parseFrequency,
  type Series,
  stepMs,
} from "./data.ts";
export { fingerprint, FORMAT_VERSION, loadModel, type ModelFile, saveModel } from "./model_file.ts";
export { checkLength, trainModel, type TrainOptions, VERSION } from "./train.ts";
export { type BatchOptions, type BatchResult, forecastBatch } from "./batch.ts";
export type { BatchJob, BatchMessage } from "./batch_worker.ts";
export { type BoundedNelderMeadOptions, nelderMead, nelderMeadBounded, type NelderMeadOptions } from "./optim.ts";
export { acf, classicalIndices, erfc, linearFit, mean, qnorm, quantile, seasonalityTest } from "./stats.ts";
export {
  SYNTHETIC_KINDS,
  type SyntheticKind,
  type SyntheticSeries,
  syntheticSeries,
  syntheticSet,
} from "./synthetic.ts";
