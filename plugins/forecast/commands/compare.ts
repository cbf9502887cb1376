/**
 * `forecast compare`: saved models side by side — their stored backtest
 * metrics, or metrics on hold-out data — sorted by MASE, with an optional
 * chart of their forecasts.
 *
 * @module
 */
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { chartSvg, tableText } from "@mercury/core/display";
import { forecastsChart } from "../_chart.ts";
import { loadSeries } from "../data.ts";
import { coverage, evaluate, type MetricName, METRICS } from "../metrics.ts";
import { loadModel, restoreModel } from "../model_file.ts";
import { OutputFiles } from "../output_files.ts";
import type { compareOptions } from "../manifest.ts";
import { horizonOf } from "./_args.ts";
import { fmt } from "./_format.ts";
import { pickSeries } from "./_input.ts";

/** Runs `forecast compare`. */
export function compare(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values as OptionValues<typeof compareOptions>;
    const paths = [...(v.models ?? []), ...args.positionals];
    if (!paths.length) {
      throw new MercuryError("usage", "no models given", { hint: "forecast compare --models model1.pkl model2.pkl" });
    }
    if (v.chart) await outputs.plan("--chart", v.chart);
    const files = await Promise.all(paths.map(loadModel));
    // the hold-out series of each model: the one with its training series' id (the only one for single-series files)
    const data = v.data ? await loadSeries(v.data, { maxPoints: v["max-points"] }) : undefined;
    const holdouts = files.map((f) =>
      data ? pickSeries(data, f.series.id === "series" ? undefined : f.series.id).y : null
    );
    const holdout = holdouts[0] ?? null;
    const rows: Record<string, unknown>[] = [];
    const lines: { t: number; y: number; model: string }[] = [];
    for (const [i, file] of files.entries()) {
      const holdout = holdouts[i] ?? null;
      const h = holdout ? holdout.length : horizonOf(v.horizon, "horizon", v["max-horizon"]);
      const model = await restoreModel(file, paths[i]!);
      const f = model.predict(h, [80, 95]);
      f.mean.forEach((y, t) => lines.push({ t: t + 1, y, model: `${paths[i]} (${file.algorithm})` }));
      const row: Record<string, unknown> = {
        model: paths[i],
        algorithm: file.algorithm,
        description: file.description,
        series: file.series.id,
        version: file.version,
      };
      if (holdout) {
        const y = (file.model.state as { y?: number[] }).y ?? [];
        const m = evaluate(y, holdout, f, file.series.season);
        // models whose state keeps no training values (ensembles, ETS, ARIMA…): MASE from the scale train stored
        if (!y.length && file.series.maseScale) {
          m.mase = holdout.reduce((s, a, t) => s + Math.abs(a - f.mean[t]!), 0) / holdout.length /
            file.series.maseScale;
        }
        for (const k of METRICS) row[k] = fmt(m[k]);
        row.coverage95 = fmt(coverage(holdout, f, 95));
      } else {
        for (const k of METRICS) row[k] = fmt(file.metrics[k] ?? NaN);
        row.coverage95 = fmt(file.metrics.coverage95 ?? NaN);
      }
      rows.push(row);
    }
    const metric: MetricName = "mase";
    rows.sort((a, b) =>
      Number(a[metric] === "—" ? Infinity : a[metric]) - Number(b[metric] === "—" ? Infinity : b[metric])
    );
    ctx.print(
      holdout ? `scored on ${v.data} (${holdout.length} points a series)` : "stored backtest metrics (train --horizon)",
    );
    ctx.print(tableText(rows));
    if (v.chart) {
      await outputs.stage(v.chart, await chartSvg(forecastsChart(lines) as never));
      await outputs.commit();
      ctx.print(`wrote ${v.chart}`);
    }
  });
}
