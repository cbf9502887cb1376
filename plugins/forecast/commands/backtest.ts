/**
 * `forecast backtest`: rolling-origin evaluation of one algorithm on one
 * series — metrics per window, their mean and the intervals' coverage.
 *
 * @module
 */
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { backtest as runBacktest } from "../backtest.ts";
import { stepMs } from "../data.ts";
import { createForecaster } from "../ensemble.ts";
import { METRICS } from "../metrics.ts";
import { checkLength } from "../train.ts";
import type { backtestOptions } from "../manifest.ts";
import { checkAlgorithm, horizonOf, levelsOf, paramsOf } from "./_args.ts";
import { dateOf, fmt } from "./_format.ts";
import { pickSeries, readData } from "./_input.ts";

/** Runs `forecast backtest`. */
export async function backtest(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values as OptionValues<typeof backtestOptions>;
  const name = checkAlgorithm(v.algorithm);
  if (v.horizon !== undefined) horizonOf(v.horizon, "horizon", v["max-horizon"]);
  const d = await readData(v);
  const s = pickSeries(d, v.series);
  const h = v.horizon ?? 2 * Math.max(1, d.seasonUsed);
  const levels = levelsOf(v.levels);
  const params = paramsOf(v.params);
  checkLength(s, name, d.seasonUsed, d.file, params);
  const r = await runBacktest(s.y, () => createForecaster(name, params), {
    h,
    windows: v.windows,
    step: v.step,
    levels,
    season: d.seasonUsed,
    ds: s.ds,
    stepMs: stepMs(d.freq),
  });
  ctx.print(`${name} on series ${s.id}: ${r.windows.length} windows × ${h} steps`);
  ctx.print(
    tableText(
      r.windows.map((w) => ({
        cutoff: dateOf(s.ds[w.cutoff]!, d.freq),
        ...Object.fromEntries(METRICS.map((k) => [k, fmt(w.metrics[k])])),
      })),
    ),
  );
  ctx.print(`mean: ${METRICS.map((k) => `${k.toUpperCase()} ${fmt(r.metrics[k])}`).join("  ")}`);
  ctx.print(`coverage: ${levels.map((l) => `${l}% → ${(100 * r.coverage[String(l)]!).toFixed(1)}%`).join("  ")}`);
}
