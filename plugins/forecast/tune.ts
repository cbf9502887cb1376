/**
 * Parameter search: every combination of an algorithm's grid (or the
 * algorithms given) backtested by rolling origin, ranked by a chosen metric.
 *
 * @module
 */
import { ALGORITHMS } from "./algorithms.ts";
import { backtest, type BacktestOptions } from "./backtest.ts";
import { createForecaster } from "./ensemble.ts";
import type { MetricName } from "./metrics.ts";

/** One row of the leaderboard. */
export interface LeaderboardRow {
  rank: number;
  algorithm: string;
  params: Record<string, unknown>;
  metrics: Record<MetricName, number>;
  coverage: Record<string, number>;
  seconds: number;
  error?: string;
}

/** Every combination of a grid. */
export function gridCombinations(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, vs] of Object.entries(grid)) out = out.flatMap((o) => vs.map((v) => ({ ...o, [k]: v })));
  return out;
}

/**
 * Backtests each algorithm × parameter combination and ranks them by `metric`.
 *
 * @example
 * ```ts
 * import { tune } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 60 }, (_, t) => 10 + (t % 6) + t / 10);
 * const board = await tune(y, ["naive", "seasonal_naive", "drift"], { h: 6, windows: 2, season: 6 }, "mase");
 * assert.equal(board.length, 3);
 * assert.ok(board[0]!.metrics.mase <= board[2]!.metrics.mase);
 * ```
 */
export async function tune(
  y: number[],
  algorithms: string[],
  options: BacktestOptions,
  metric: MetricName = "mase",
  grids: Record<string, Record<string, unknown[]>> = {},
): Promise<LeaderboardRow[]> {
  const rows: LeaderboardRow[] = [];
  for (const name of algorithms) {
    const grid = grids[name] ??
      (name === "ensemble" ? { combination: ["weighted", "mean", "median"] } : ALGORITHMS.get(name)?.grid ?? {});
    for (const params of gridCombinations(grid)) {
      const t0 = performance.now();
      try {
        const r = await backtest(y, () => createForecaster(name, params), options);
        rows.push({
          rank: 0,
          algorithm: name,
          params,
          metrics: r.metrics,
          coverage: r.coverage,
          seconds: (performance.now() - t0) / 1000,
        });
      } catch (err) {
        const nan = { mase: NaN, smape: NaN, rmse: NaN, mape: NaN, crps: NaN };
        rows.push({
          rank: 0,
          algorithm: name,
          params,
          metrics: nan,
          coverage: {},
          seconds: (performance.now() - t0) / 1000,
          error: (err as Error).message,
        });
      }
    }
  }
  const key = (r: LeaderboardRow) => (Number.isFinite(r.metrics[metric]) ? r.metrics[metric] : Infinity);
  rows.sort((a, b) => key(a) - key(b));
  rows.forEach((r, i) => (r.rank = i + 1));
  return rows;
}
