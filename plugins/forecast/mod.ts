/**
 * `@mercury/forecast`: forecasting one series or thousands (seed task 3) —
 * naive, seasonal naive, drift and M4's Naive2; AutoETS; AutoARIMA
 * (Hyndman–Khandakar, exact ML by Kalman filter); Theta and optimised Theta;
 * MSTL and Prophet (augurs, wasm); LSTM and Transformer (TensorFlow.js);
 * ensembles; prediction intervals with coverage checked by backtests;
 * anomaly detection; versioned model files; the `forecast` CLI.
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
import { definePlugin } from "@mercury/core";
import { commands } from "./commands.ts";

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "forecast",
  title: "Forecasting",
  version: "0.1.0",
  description: "ARIMA, ETS, Theta, MSTL, Prophet, LSTM, Transformer, ensembles; backtests, anomalies, batch",
  services: [],
  commands,
  notebook: "notebooks/03-forecast.ipynb",
});

export {
  backtestCommand,
  batchCommand,
  compareCommand,
  detectCommand,
  fanChart,
  predictCommand,
  trainCommand,
  tuneCommand,
} from "./commands.ts";
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
export { initAugurs, Mstl, type MstlParams, Prophet, type ProphetParams } from "./models/augurs.ts";
export { initTf, NeuralForecaster, type NeuralParams } from "./models/neural.ts";
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
