/**
 * Rolling-origin cross-validation: refit at each cutoff, forecast `h` steps,
 * score against what followed; plus split-conformal intervals from the
 * backtest's absolute errors per step.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { FitContext, Forecast, Forecaster, Interval } from "./forecaster.ts";
import { coverage, evaluate, type MetricName, METRICS } from "./metrics.ts";
import { quantile } from "./stats.ts";

/** Options of {@linkcode backtest}. */
export interface BacktestOptions {
  /** Forecast horizon per window. */
  h: number;
  /** Number of windows (origins), the last one ending at the series' end. */
  windows?: number;
  /** Steps between origins (default h). */
  step?: number;
  levels?: number[];
  season: number;
  ds?: number[];
  stepMs?: number;
}

/** One window of a backtest. */
export interface BacktestWindow {
  /** Index of the first forecast point. */
  cutoff: number;
  actual: number[];
  forecast: Forecast;
  metrics: Record<MetricName, number>;
}

/** The result of {@linkcode backtest}. */
export interface BacktestResult {
  windows: BacktestWindow[];
  /** Metrics averaged over windows. */
  metrics: Record<MetricName, number>;
  /** Share of actuals inside each level's interval, over all windows. */
  coverage: Record<string, number>;
}

/**
 * Rolling-origin backtest of the models `make()` builds.
 *
 * @example
 * ```ts
 * import { backtest, Baseline } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 48 }, (_, t) => t % 4);
 * const r = await backtest(y, () => new Baseline("seasonal_naive"), { h: 4, windows: 3, season: 4 });
 * assert.equal(r.windows.length, 3);
 * assert.equal(r.metrics.rmse, 0);
 * ```
 */
export async function backtest(y: number[], make: () => Forecaster, options: BacktestOptions): Promise<BacktestResult> {
  const { h, season } = options;
  const windows = options.windows ?? 3;
  const step = options.step ?? h;
  const levels = options.levels ?? [80, 95];
  const first = y.length - h - (windows - 1) * step;
  if (h < 1) throw new MercuryError("usage", "the horizon must be at least 1", { hint: "pass --horizon 1 or more" });
  if (first < Math.max(3, 2 * season)) {
    throw new MercuryError("input", `${y.length} points are too few for ${windows} backtest windows of ${h} steps`, {
      hint: "use fewer --windows or a shorter --horizon",
    });
  }
  const out: BacktestWindow[] = [];
  for (let w = 0; w < windows; w++) {
    const cutoff = first + w * step;
    const train = y.slice(0, cutoff);
    const actual = y.slice(cutoff, cutoff + h);
    const model = make();
    const ctx: FitContext = { season, stepMs: options.stepMs, ds: options.ds?.slice(0, cutoff) };
    await model.fit(train, ctx);
    const forecast = model.predict(h, levels);
    out.push({ cutoff, actual, forecast, metrics: evaluate(train, actual, forecast, season) });
  }
  const metrics = Object.fromEntries(
    METRICS.map((k) => [k, out.reduce((s, w) => s + w.metrics[k], 0) / out.length]),
  ) as Record<MetricName, number>;
  const cov: Record<string, number> = {};
  for (const level of levels) {
    cov[String(level)] = out.reduce((s, w) => s + coverage(w.actual, w.forecast, level), 0) / out.length;
  }
  return { windows: out, metrics, coverage: cov };
}

/**
 * Replaces a forecast's intervals by conformal ones: at step k the half-width
 * is the ⌈(n+1)·level⌉/n quantile of the backtest's absolute errors at step k.
 *
 * @example
 * ```ts
 * import { conformalIntervals } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const errs = [[1, 2], [1, 2], [1, 2]]; // 3 windows × 2 steps
 * const [iv] = conformalIntervals([10, 10], errs, [80]);
 * assert.deepEqual([iv!.lower, iv!.upper], [[9, 8], [11, 12]]);
 * ```
 */
export function conformalIntervals(mean: number[], absErrors: number[][], levels: readonly number[]): Interval[] {
  return levels.map((level) => {
    const half = mean.map((_, k) => {
      const e = absErrors.map((w) => w[Math.min(k, w.length - 1)]!).filter(Number.isFinite);
      const n = e.length;
      return n ? quantile(e, Math.min(1, Math.ceil((n + 1) * (level / 100)) / n)) : NaN;
    });
    return { level, lower: mean.map((m, k) => m - half[k]!), upper: mean.map((m, k) => m + half[k]!) };
  });
}

/** Absolute errors per window and step of a backtest, for {@linkcode conformalIntervals}. */
export function backtestErrors(r: BacktestResult): number[][] {
  return r.windows.map((w) => w.actual.map((a, k) => Math.abs(a - w.forecast.mean[k]!)));
}
