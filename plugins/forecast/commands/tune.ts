/**
 * `forecast tune`: searches algorithms × parameters by backtest, prints a
 * leaderboard and optionally trains the winner on all data and saves it.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { stepMs } from "../data.ts";
import { type MetricName, METRICS } from "../metrics.ts";
import { encodeModel } from "../model_file.ts";
import { OutputFiles } from "../output_files.ts";
import { trainModel } from "../train.ts";
import { tune as runTune } from "../tune.ts";
import { checkAlgorithm, horizonOf, int, str } from "./_args.ts";
import { fmt } from "./_format.ts";
import { pickSeries, readData } from "./_input.ts";

/** Runs `forecast tune`. */
export function tune(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values;
    const metric = (str(v.metric) ?? "mase") as MetricName;
    if (!METRICS.includes(metric)) {
      throw new MercuryError("usage", `--metric must be one of ${METRICS.join(", ")}, got '${metric}'`, {
        where: "--metric",
      });
    }
    const algos = (str(v.algorithms) ?? "").split(",").map((a) => a.trim()).filter(Boolean).map(checkAlgorithm);
    if (v.horizon !== undefined) horizonOf(v, "horizon");
    if (str(v.output)) await outputs.plan("--output", str(v.output)!);
    const d = await readData(v);
    const s = pickSeries(d, str(v.series));
    const h = v.horizon !== undefined ? horizonOf(v, "horizon") : 2 * Math.max(1, d.seasonUsed);
    const board = await runTune(s.y, algos, {
      h,
      windows: int(v.windows, "windows"),
      season: d.seasonUsed,
      ds: s.ds,
      stepMs: stepMs(d.freq),
    }, metric);
    ctx.print(`leaderboard for series ${s.id} by ${metric.toUpperCase()} (${v.windows} windows × ${h} steps)`);
    ctx.print(tableText(
      board.map((r) => ({
        rank: r.rank,
        algorithm: r.algorithm,
        params: JSON.stringify(r.params),
        ...Object.fromEntries(METRICS.map((k) => [k, fmt(r.metrics[k])])),
        cov95: fmt(r.coverage["95"] ?? NaN),
        seconds: r.seconds.toFixed(2),
        ...(r.error ? { error: r.error } : {}),
      })),
      { maxRows: 100 },
    ));
    if (str(v.output) && board[0] && !board[0].error) {
      const { file } = await trainModel(s, {
        algorithm: board[0].algorithm,
        params: board[0].params,
        season: d.seasonUsed,
        freq: d.freq,
        horizon: 0,
        source: d.file,
      });
      await outputs.stage(str(v.output)!, encodeModel(file));
      await outputs.commit();
      ctx.print(`wrote the winner ${file.description} to ${str(v.output)}`);
    }
  });
}
