/**
 * The forecast plugin's manifest: its commands, their options and help. It
 * loads no model, no data reader and nothing heavy (no TensorFlow.js, augurs
 * wasm, DuckDB or vega): each command imports its implementation from
 * `./commands/` the first time it runs, so discovery, `forecast --help` and
 * `forecast <command> --help` stay fast.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/forecast/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "forecast");
 * assert.deepEqual(Object.keys(manifest.commands), [
 *   "train", "predict", "compare", "backtest", "detect", "tune", "batch", "models",
 * ]);
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun, type OptionSpec } from "@mercury/core/plugin";
import { MAX_HORIZON, MAX_POINTS } from "./_limits.ts";
import { ALGORITHM_NAMES } from "./_names.ts";
import { METRICS } from "./metrics.ts";

type Options = Record<string, OptionSpec>;

const maxHorizonOption = {
  "max-horizon": {
    type: "int",
    min: 1,
    value: "N",
    description: "refuse horizons longer than N steps",
    default: MAX_HORIZON,
  },
} as const satisfies Options;
const maxPointsOption = {
  "max-points": {
    type: "int",
    min: 1,
    value: "N",
    description: "refuse a series spanning more than N steps (gaps included)",
    default: MAX_POINTS,
  },
} as const satisfies Options;

/** The data options every command reading `--data` takes. */
export const dataOptions = {
  data: { type: "string", value: "FILE", description: "CSV or Parquet: ds,y or unique_id,ds,y" },
  series: { type: "string", value: "ID", description: "which series of a long-format file (default: the only one)" },
  freq: { type: "string", value: "F", description: "frequency (1h, 15min, 1d, 1w, 1M, index); inferred when absent" },
  season: {
    type: "int",
    min: 1,
    value: "M",
    description: "seasonal period (default from the frequency: 24 hourly, 7 daily, 12 monthly)",
  },
  fill: {
    type: "enum",
    choices: ["linear", "previous", "zero", "error"],
    value: "RULE",
    description: "how gaps are filled (error: refuse them)",
    default: "linear",
  },
  sort: { type: "boolean", description: "sort rows by series and time instead of rejecting unsorted input" },
  "id-col": { type: "string", value: "NAME", description: "series id column", default: "unique_id" },
  "time-col": { type: "string", value: "NAME", description: "timestamp column", default: "ds" },
  "target-col": { type: "string", value: "NAME", description: "value column", default: "y" },
  ...maxPointsOption,
} as const satisfies Options;

/** Options of `train`. */
export const trainOptions = {
  ...dataOptions,
  algorithm: {
    type: "string",
    value: "NAME",
    description: `one of ${ALGORITHM_NAMES.join(", ")}, ensemble`,
    default: "auto_ets",
  },
  params: { type: "string", value: "JSON", description: `algorithm parameters, e.g. '{"model":"AAdA"}'` },
  output: { type: "string", value: "FILE", description: "where to write the model", default: "model.pkl" },
  horizon: {
    type: "int",
    min: 0,
    value: "H",
    description: "backtest horizon for the stored metrics (default 2 seasons; 0 skips)",
  },
  windows: { type: "int", min: 1, value: "N", description: "backtest windows", default: 2 },
  clean: { type: "boolean", description: "replace anomalies before training" },
  "model-version": {
    type: "string",
    value: "SEMVER",
    description: "the model's semantic version",
    default: "1.0.0",
  },
  name: {
    type: "string",
    value: "NAME",
    description: "registry name (default: the output file's name without its extension)",
  },
  registry: {
    type: "enum",
    choices: ["auto", "on", "off"],
    value: "MODE",
    description: "record the model in the registry (PostgreSQL): auto = when reachable, on = required, off = never",
    default: "auto",
  },
  ...maxHorizonOption,
} as const satisfies Options;

/** Options of `predict`. */
export const predictOptions = {
  "model-path": { type: "string", value: "FILE", description: "model written by train", default: "model.pkl" },
  model: {
    type: "string",
    value: "NAME[@V]",
    description: "a registered model instead of a file: NAME (its --stage version) or NAME@VERSION",
  },
  stage: {
    type: "enum",
    choices: ["production", "staging"],
    value: "S",
    description: "with --model NAME: the stage to use",
    default: "production",
  },
  "future-periods": { type: "int", min: 1, value: "H", description: "horizon in steps", default: 12 },
  levels: { type: "string", value: "L", description: "interval levels in percent", default: "80,95" },
  output: { type: "string", value: "FILE", description: "also write the forecast as CSV" },
  chart: { type: "string", value: "FILE", description: "write a fan chart (SVG)" },
  ...maxHorizonOption,
} as const satisfies Options;

/** Options of `compare`. */
export const compareOptions = {
  models: {
    type: "string",
    value: "FILES",
    description: "model files (the first after --models, the rest as further arguments)",
    multiple: true,
  },
  data: {
    type: "string",
    value: "FILE",
    description: "hold-out data (ds,y after the training end) to score on; default: the stored backtest metrics",
  },
  horizon: { type: "int", min: 1, value: "H", description: "steps to plot", default: 24 },
  chart: { type: "string", value: "FILE", description: "write the models' forecasts as one SVG chart" },
  ...maxHorizonOption,
  ...maxPointsOption,
} as const satisfies Options;

/** Options of `backtest`. */
export const backtestOptions = {
  ...dataOptions,
  algorithm: { type: "string", value: "NAME", description: "algorithm (or ensemble)", default: "auto_ets" },
  params: { type: "string", value: "JSON", description: "algorithm parameters" },
  horizon: { type: "int", min: 1, value: "H", description: "steps per window (default 2 seasons)" },
  windows: { type: "int", min: 1, value: "N", description: "number of origins", default: 3 },
  step: { type: "int", min: 1, value: "N", description: "steps between origins (default the horizon)" },
  levels: { type: "string", value: "L", description: "interval levels", default: "80,95" },
  ...maxHorizonOption,
} as const satisfies Options;

/** Options of `detect`. */
export const detectOptions = {
  ...dataOptions,
  method: {
    type: "enum",
    choices: ["residual", "decomposition"],
    value: "M",
    description: "scores from a model's residuals or a robust decomposition",
    default: "residual",
  },
  algorithm: {
    type: "string",
    value: "NAME",
    description: "model for the residual method",
    default: "auto_ets",
  },
  threshold: {
    type: "number",
    value: "Z",
    description: "robust z-score above which a point is an anomaly",
    default: 3.5,
  },
  output: { type: "string", value: "FILE", description: "write every point with its score as CSV" },
} as const satisfies Options;

/** Options of `tune`. */
export const tuneOptions = {
  ...dataOptions,
  algorithms: {
    type: "string",
    value: "LIST",
    description: "comma-separated algorithms",
    default: "naive2,seasonal_naive,theta,optimized_theta,auto_ets,auto_arima,mstl",
  },
  metric: { type: "enum", choices: METRICS, value: "M", description: "the metric to rank by", default: "mase" },
  horizon: { type: "int", min: 1, value: "H", description: "steps per window (default 2 seasons)" },
  windows: { type: "int", min: 1, value: "N", description: "number of origins", default: 2 },
  budget: {
    type: "duration",
    min: 1,
    value: "T",
    description:
      "stop starting new backtests after this long (e.g. 60s); searches by successive halving unless --search",
  },
  search: {
    type: "enum",
    choices: ["grid", "random", "halving"],
    value: "S",
    description: "grid: every combination; random: a seeded order; halving: all on 1 window, the best third on 3×, …",
  },
  seed: { type: "int", min: 0, value: "N", description: "seed of the random order (random, halving)", default: 1 },
  output: { type: "string", value: "FILE", description: "train the winner on all data and save it here" },
  ...maxHorizonOption,
} as const satisfies Options;

/** Options of `batch`. */
export const batchOptions = {
  ...dataOptions,
  algorithm: { type: "string", value: "NAME", description: "algorithm (or ensemble)", default: "auto_ets" },
  params: { type: "string", value: "JSON", description: "algorithm parameters" },
  horizon: { type: "int", min: 1, value: "H", description: "steps to forecast", default: 24 },
  levels: { type: "string", value: "L", description: "interval levels", default: "80,95" },
  workers: { type: "int", min: 1, value: "N", description: "parallel workers (default: CPU count)" },
  output: { type: "string", value: "FILE", description: "forecasts CSV", default: "forecasts.csv" },
  errors: {
    type: "string",
    value: "FILE",
    description: "per-series error report CSV",
    default: "forecast_errors.csv",
  },
  strict: { type: "boolean", description: "exit non-zero when any series failed" },
  ...maxHorizonOption,
} as const satisfies Options;

/** Options of `models`. */
export const modelsOptions = {
  stage: {
    type: "enum",
    choices: ["production", "staging"],
    value: "S",
    description: "the stage promote sets and rollback restores",
    default: "production",
  },
} as const satisfies Options;

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "forecast",
  title: "Forecasting",
  version: "0.1.0",
  description: "ARIMA, ETS, Theta, MSTL, Prophet, LSTM, Transformer, ensembles; backtests, anomalies, batch",
  services: ["postgres"],
  notebook: "notebooks/03-forecast.ipynb",
  commands: {
    train: {
      summary: "fit a model on a series and save it (JSON, any file name)",
      description: "Example: forecast train --data historical_data.csv --algorithm prophet --output model.pkl",
      options: trainOptions,
      run: lazyRun(() => import("./commands/train.ts"), "train"),
    },
    predict: {
      summary: "forecast the next periods from a saved model",
      description: "Example: forecast predict --model-path model.pkl --future-periods 30",
      options: predictOptions,
      run: lazyRun(() => import("./commands/predict.ts"), "predict"),
    },
    compare: {
      summary: "compare saved models: metrics table (and forecasts chart)",
      usage: "--models A B C…",
      description: "Example: forecast compare --models model1.pkl model2.pkl model3.pkl [--data holdout.csv]",
      options: compareOptions,
      run: lazyRun(() => import("./commands/compare.ts"), "compare"),
    },
    backtest: {
      summary: "rolling-origin cross-validation of an algorithm: metrics and interval coverage",
      options: backtestOptions,
      run: lazyRun(() => import("./commands/backtest.ts"), "backtest"),
    },
    detect: {
      summary: "score every point for anomalies (residual or decomposition method)",
      options: detectOptions,
      run: lazyRun(() => import("./commands/detect.ts"), "detect"),
    },
    tune: {
      summary: "search algorithms × parameters by backtest and print a leaderboard",
      options: tuneOptions,
      run: lazyRun(() => import("./commands/tune.ts"), "tune"),
    },
    batch: {
      summary: "forecast every series of a long-format file in parallel (Deno workers)",
      options: batchOptions,
      run: lazyRun(() => import("./commands/batch.ts"), "batch"),
    },
    models: {
      summary: "the model registry: list, show, promote, rollback (PostgreSQL)",
      usage: "list [NAME] | show NAME[@VERSION] | promote NAME@VERSION | rollback NAME",
      description:
        "Example: forecast models promote demand@3 --stage production; forecast predict --model demand --future-periods 24",
      options: modelsOptions,
      run: lazyRun(() => import("./commands/models.ts"), "models"),
    },
  },
});
