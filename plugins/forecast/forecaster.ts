/**
 * The contract every model implements: fit on a series, predict a horizon
 * with a mean and prediction intervals at given levels, serialise to JSON and
 * back. One shared test suite (`tests/forecast/forecaster_suite.ts`) runs
 * against every registered algorithm.
 *
 * @module
 */
import { qnorm } from "./stats.ts";

/** A prediction interval at `level` percent (e.g. 95). */
export interface Interval {
  level: number;
  lower: number[];
  upper: number[];
}

/** What `predict()` returns: the point forecast and one interval per level. */
export interface Forecast {
  mean: number[];
  intervals: Interval[];
}

/** What a model is told about its series besides the values. */
export interface FitContext {
  /** Seasonal period in steps (1 = none). */
  season: number;
  /** Timestamps (epoch ms) of the values, when known (Prophet uses them). */
  ds?: number[];
  /** Step between timestamps in ms, when known. */
  stepMs?: number;
}

/** A fitted model as JSON: its algorithm, hyper-parameters and fitted state. */
export interface ModelState {
  algorithm: string;
  params: Record<string, unknown>;
  season: number;
  state: unknown;
}

/** A forecasting model. */
export interface Forecaster {
  /** Registry name, e.g. `auto_arima`. */
  readonly algorithm: string;
  /** Fits to the values (oldest first). */
  fit(y: number[], ctx: FitContext): Promise<void>;
  /** Forecasts `h` steps with intervals at `levels` (percent). */
  predict(h: number, levels?: number[]): Forecast;
  /** In-sample one-step-ahead fitted values (NaN where the model has none). */
  fitted(): number[];
  /** A short description of the fitted model, e.g. `ARIMA(1,0,1)(0,1,1)[24]`. */
  describe(): string;
  /** The fitted model as JSON. */
  toJSON(): ModelState;
}

/** Default interval levels. */
export const DEFAULT_LEVELS: readonly number[] = [80, 95];

/**
 * Gaussian intervals around `mean` with standard deviation `sd[i]` per step.
 *
 * @example
 * ```ts
 * import { normalIntervals } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const [iv] = normalIntervals([10], [1], [95]);
 * assert.ok(Math.abs(iv!.upper[0]! - 11.96) < 0.01);
 * ```
 */
export function normalIntervals(mean: number[], sd: number[], levels: readonly number[]): Interval[] {
  return levels.map((level) => {
    const z = qnorm(0.5 + level / 200);
    return {
      level,
      lower: mean.map((m, i) => m - z * sd[i]!),
      upper: mean.map((m, i) => m + z * sd[i]!),
    };
  });
}

/** Standard deviation of the finite residuals (denominator n − k). */
export function residualSd(resid: number[], k = 0): number {
  const r = resid.filter(Number.isFinite);
  let s = 0;
  for (const v of r) s += v * v;
  return Math.sqrt(s / Math.max(1, r.length - k));
}
