/**
 * `forecast tune`: searches algorithms × parameters by backtest, prints a
 * leaderboard and optionally trains the winner on all data and saves it.
 *
 * @module
 */
import { type CommandArgs, type CommandContext, formatDuration, type OptionValues } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { stepMs } from "../data.ts";
import { type MetricName, METRICS } from "../metrics.ts";
import { encodeModel } from "../model_file.ts";
import { OutputFiles } from "../output_files.ts";
import { trainModel } from "../train.ts";
import { gridCombinations, tune as runTune } from "../tune.ts";
import { ALGORITHMS } from "../algorithms.ts";
import type { tuneOptions } from "../manifest.ts";
import { checkAlgorithm, horizonOf } from "./_args.ts";
import { fmt } from "./_format.ts";
import { pickSeries, readData } from "./_input.ts";

const gridSize = (name: string) => name === "ensemble" ? 3 : gridCombinations(ALGORITHMS.get(name)?.grid ?? {}).length;

/** Runs `forecast tune`. */
export function tune(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values as OptionValues<typeof tuneOptions>;
    const metric: MetricName = v.metric;
    const algos = v.algorithms.split(",").map((a) => a.trim()).filter(Boolean).map(checkAlgorithm);
    if (v.horizon !== undefined) horizonOf(v.horizon, "horizon", v["max-horizon"]);
    if (v.output) await outputs.plan("--output", v.output);
    const d = await readData(v);
    const s = pickSeries(d, v.series);
    const h = v.horizon ?? 2 * Math.max(1, d.seasonUsed);
    const board = await runTune(
      s.y,
      algos,
      {
        h,
        windows: v.windows,
        season: d.seasonUsed,
        ds: s.ds,
        stepMs: stepMs(d.freq),
      },
      metric,
      {},
      { strategy: v.search, budgetMs: v.budget, seed: v.seed },
    );
    const search = v.search ?? (v.budget !== undefined ? "halving" : "grid");
    const total = algos.reduce((n, a) => n + gridSize(a), 0);
    ctx.print(
      `leaderboard for series ${s.id} by ${metric.toUpperCase()} (${v.windows} windows × ${h} steps; ${search} search, ${board.length} of ${total} candidates${
        v.budget !== undefined ? ` within ${formatDuration(v.budget)}` : ""
      })`,
    );
    ctx.print(tableText(
      board.map((r) => ({
        rank: r.rank,
        algorithm: r.algorithm,
        params: JSON.stringify(r.params),
        ...Object.fromEntries(METRICS.map((k) => [k, fmt(r.metrics[k])])),
        cov95: fmt(r.coverage["95"] ?? NaN),
        windows: r.windows ?? v.windows,
        seconds: r.seconds.toFixed(2),
        ...(r.error ? { error: r.error } : {}),
      })),
      { maxRows: 100 },
    ));
    if (v.output && board[0] && !board[0].error) {
      const { file } = await trainModel(s, {
        algorithm: board[0].algorithm,
        params: board[0].params,
        season: d.seasonUsed,
        freq: d.freq,
        horizon: 0,
        source: d.file,
      });
      await outputs.stage(v.output, encodeModel(file));
      await outputs.commit();
      ctx.print(`wrote the winner ${file.description} to ${v.output}`);
    }
  });
}
