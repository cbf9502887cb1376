/**
 * Accuracy measures exactly as the M4 competition computed them (sMAPE in
 * percent with |y|+|ŷ| in the denominator; MASE scaled by the in-sample
 * seasonal-naive MAE at lag m; OWA against Naive2), plus RMSE, MAPE, interval
 * coverage and CRPS (approximated by the mean quantile loss at the interval
 * bounds and the median, ×2).
 *
 * @module
 */
import type { Forecast } from "./forecaster.ts";

/** Metric names accepted by `tune` and `compare`. */
export type MetricName = "mase" | "smape" | "rmse" | "mape" | "crps";
/** All metric names. */
export const METRICS: readonly MetricName[] = ["mase", "smape", "rmse", "mape", "crps"];

/**
 * sMAPE (percent), M4 definition.
 *
 * @example
 * ```ts
 * import { smape } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(smape([100], [110]).toFixed(4), (200 * 10 / 210).toFixed(4));
 * ```
 */
export function smape(actual: number[], forecast: number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]!) + Math.abs(forecast[i]!);
    s += d === 0 ? 0 : (200 * Math.abs(actual[i]! - forecast[i]!)) / d;
  }
  return s / actual.length;
}

/** MAE of the in-sample seasonal naive forecast at lag m (the MASE scale). */
export function maseScale(insample: number[], m: number): number {
  const lag = insample.length > m ? m : 1;
  let s = 0;
  for (let t = lag; t < insample.length; t++) s += Math.abs(insample[t]! - insample[t - lag]!);
  return s / (insample.length - lag);
}

/**
 * MASE, M4 definition (scale: in-sample seasonal-naive MAE at lag m).
 *
 * @example
 * ```ts
 * import { mase } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(mase([1, 2, 3, 4], [5], [6], 1), 1);
 * ```
 */
export function mase(insample: number[], actual: number[], forecast: number[], m: number): number {
  const scale = maseScale(insample, m);
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i]! - forecast[i]!);
  return s / actual.length / scale;
}

/** Root mean squared error. */
export function rmse(actual: number[], forecast: number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += (actual[i]! - forecast[i]!) ** 2;
  return Math.sqrt(s / actual.length);
}

/** Mean absolute percentage error (percent; zero actuals skipped). */
export function mape(actual: number[], forecast: number[]): number {
  let s = 0, n = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === 0) continue;
    s += Math.abs((actual[i]! - forecast[i]!) / actual[i]!);
    n++;
  }
  return n ? (100 * s) / n : NaN;
}

/** Share of actuals inside the interval at `level` (NaN when the forecast has none). */
export function coverage(actual: number[], f: Forecast, level: number): number {
  const iv = f.intervals.find((i) => i.level === level);
  if (!iv) return NaN;
  let c = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i]! >= iv.lower[i]! && actual[i]! <= iv.upper[i]!) c++;
  return c / actual.length;
}

/**
 * CRPS approximated from the forecast's quantiles (the median and each
 * interval's bounds) as twice the mean pinball loss, averaged over steps.
 */
export function crps(actual: number[], f: Forecast): number {
  const qs: [number, number[]][] = [[0.5, f.mean]];
  for (const iv of f.intervals) {
    qs.push([0.5 - iv.level / 200, iv.lower], [0.5 + iv.level / 200, iv.upper]);
  }
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    let l = 0;
    for (const [q, v] of qs) {
      const d = actual[i]! - v[i]!;
      l += d >= 0 ? q * d : (q - 1) * d;
    }
    s += (2 * l) / qs.length;
  }
  return s / actual.length;
}

/** All metrics of one forecast. */
export function evaluate(insample: number[], actual: number[], f: Forecast, m: number): Record<MetricName, number> {
  return {
    mase: mase(insample, actual, f.mean, m),
    smape: smape(actual, f.mean),
    rmse: rmse(actual, f.mean),
    mape: mape(actual, f.mean),
    crps: crps(actual, f),
  };
}

/**
 * M4's Overall Weighted Average: the mean of sMAPE and MASE each relative to Naive2's.
 *
 * @example
 * ```ts
 * import { owa } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(owa(9, 1, 18, 2), 0.5);
 * ```
 */
export function owa(smapeModel: number, maseModel: number, smapeNaive2: number, maseNaive2: number): number {
  return 0.5 * (smapeModel / smapeNaive2 + maseModel / maseNaive2);
}
