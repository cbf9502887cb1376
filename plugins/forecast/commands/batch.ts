/**
 * `forecast batch`: forecasts every series of a long-format file in parallel
 * (Deno workers); writes the forecasts and a per-series error report, and
 * never stops on a failing series.
 *
 * @module
 */
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { progress } from "@mercury/core/display";
import { csv } from "../_csv.ts";
import { forecastBatch } from "../batch.ts";
import { futureDates, stepMs } from "../data.ts";
import { OutputFiles } from "../output_files.ts";
import type { batchOptions } from "../manifest.ts";
import { checkAlgorithm, horizonOf, levelsOf, paramsOf } from "./_args.ts";
import { dateOf } from "./_format.ts";
import { readData } from "./_input.ts";

/** Runs `forecast batch`; exit 65 when every series failed, or any did under `--strict`. */
export function batch(args: CommandArgs, ctx: CommandContext): Promise<number> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values as OptionValues<typeof batchOptions>;
    const name = checkAlgorithm(v.algorithm);
    const h = horizonOf(v.horizon, "horizon", v["max-horizon"]);
    const levels = levelsOf(v.levels);
    const out = v.output;
    const errFile = v.errors;
    await outputs.plan("--output", out);
    await outputs.plan("--errors", errFile);
    const d = await readData(v);
    const bar = progress(d.series.length, "forecasting");
    let pending = Promise.resolve();
    const r = await forecastBatch(d.series, {
      algorithm: name,
      params: paramsOf(v.params),
      season: d.seasonUsed,
      stepMs: stepMs(d.freq),
      h,
      levels,
      workers: v.workers,
      onProgress: () => {
        pending = pending.then(() => bar.tick());
      },
    });
    await pending;
    await bar.done();
    const byId = new Map(d.series.map((s) => [s.id, s]));
    const rows: Record<string, unknown>[] = [];
    for (const f of r.forecasts) {
      const ds = futureDates(byId.get(f.id)!, d.freq, h);
      f.mean.forEach((m, i) => {
        const row: Record<string, unknown> = { unique_id: f.id, ds: dateOf(ds[i]!, d.freq), forecast: m };
        for (const iv of f.intervals) {
          row[`lo${iv.level}`] = iv.lower[i];
          row[`hi${iv.level}`] = iv.upper[i];
        }
        rows.push(row);
      });
    }
    await outputs.stage(out, csv(rows));
    await outputs.stage(
      errFile,
      csv(r.errors.map((e) => ({ unique_id: e.id, error: e.error }))) || "unique_id,error\n",
    );
    await outputs.commit();
    ctx.print(`${r.forecasts.length}/${d.series.length} series forecast in ${r.seconds.toFixed(1)} s → ${out}`);
    if (r.errors.length) {
      ctx.print(`${r.errors.length} series failed (report: ${errFile}):`);
      for (const e of r.errors.slice(0, 20)) ctx.print(`  ${e.id}: ${e.error}`);
    }
    return r.errors.length && (v.strict === true || r.forecasts.length === 0) ? 65 : 0;
  });
}
