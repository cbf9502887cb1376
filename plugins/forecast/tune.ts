/**
 * Parameter search: combinations of the algorithms' parameter grids
 * backtested by rolling origin and ranked by a chosen metric — every
 * combination (`grid`), or within a time budget a seeded random order
 * (`random`) or successive halving (`halving`: every candidate on one
 * backtest window, the best third on three times as many, … up to
 * `windows`).
 *
 * @module
 */
import { seededRandom } from "@mercury/core/random";
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
  /** Backtest windows this row was scored on (successive halving scores the survivors on more). */
  windows?: number;
}

/** How {@linkcode tune} searches. */
export interface SearchOptions {
  /** `grid` (default without a budget): every combination; `random`: a seeded order; `halving`: successive halving. */
  strategy?: "grid" | "random" | "halving";
  /** Stop starting new backtests after this many milliseconds (at least one always runs). */
  budgetMs?: number;
  /** Seed of the random order (default 1). */
  seed?: number;
  /** Candidates kept per halving rung: the best 1/eta (default 3). */
  eta?: number;
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
  search: SearchOptions = {},
): Promise<LeaderboardRow[]> {
  const t0 = performance.now();
  const strategy = search.strategy ?? (search.budgetMs !== undefined ? "halving" : "grid");
  const overBudget = () => search.budgetMs !== undefined && performance.now() - t0 >= search.budgetMs;
  let candidates: { algorithm: string; params: Record<string, unknown> }[] = [];
  for (const name of algorithms) {
    const grid = grids[name] ??
      (name === "ensemble" ? { combination: ["weighted", "mean", "median"] } : ALGORITHMS.get(name)?.grid ?? {});
    for (const params of gridCombinations(grid)) candidates.push({ algorithm: name, params });
  }
  if (strategy !== "grid") {
    const rand = seededRandom(search.seed ?? 1);
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
  }
  const evaluate = async (c: (typeof candidates)[number], windows: number): Promise<LeaderboardRow> => {
    const t = performance.now();
    try {
      const r = await backtest(y, () => createForecaster(c.algorithm, c.params), { ...options, windows });
      return {
        rank: 0,
        ...c,
        metrics: r.metrics,
        coverage: r.coverage,
        seconds: (performance.now() - t) / 1000,
        windows,
      };
    } catch (err) {
      const nan = { mase: NaN, smape: NaN, rmse: NaN, mape: NaN, crps: NaN };
      const error = (err as Error).message;
      return { rank: 0, ...c, metrics: nan, coverage: {}, seconds: (performance.now() - t) / 1000, error, windows };
    }
  };
  const key = (r: LeaderboardRow) => (Number.isFinite(r.metrics[metric]) ? r.metrics[metric] : Infinity);
  const maxWindows = options.windows ?? 3;
  const best = new Map<(typeof candidates)[number], LeaderboardRow>();
  if (strategy === "halving") {
    const eta = Math.max(2, search.eta ?? 3);
    let windows = Math.min(1, maxWindows);
    for (;;) {
      for (const c of candidates) {
        if (best.size && overBudget()) break;
        best.set(c, await evaluate(c, windows));
      }
      if (windows >= maxWindows || overBudget()) break;
      const scored = candidates.filter((c) => best.get(c)?.windows === windows && !best.get(c)!.error);
      scored.sort((a, b) => key(best.get(a)!) - key(best.get(b)!));
      candidates = scored.slice(0, Math.max(1, Math.ceil(scored.length / eta)));
      windows = Math.min(maxWindows, windows * eta);
    }
  } else {
    for (const c of candidates) {
      if (best.size && overBudget()) break;
      best.set(c, await evaluate(c, maxWindows));
    }
  }
  const rows = [...best.values()];
  // Scored on more windows ranks first (the survivors of a halving rung), then by the metric.
  rows.sort((a, b) => (b.windows ?? 0) - (a.windows ?? 0) || key(a) - key(b));
  rows.forEach((r, i) => (r.rank = i + 1));
  return rows;
}
