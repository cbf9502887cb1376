/**
 * `forecast predict`: forecasts the next periods from a saved model, printed
 * as a table and optionally written as CSV and as a fan chart (SVG).
 *
 * @module
 */
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { chartSvg, tableText } from "@mercury/core/display";
import { fanChart } from "../_chart.ts";
import { csv } from "../_csv.ts";
import { advance } from "../data.ts";
import { loadModel, restoreModel } from "../model_file.ts";
import { OutputFiles } from "../output_files.ts";
import { parseRef, type Stage } from "../registry.ts";
import { withRegistry } from "./_registry.ts";
import type { predictOptions } from "../manifest.ts";
import { horizonOf, levelsOf } from "./_args.ts";
import { dateOf, fmt } from "./_format.ts";

/** Runs `forecast predict`. */
export function predict(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values as OptionValues<typeof predictOptions>;
    const h = horizonOf(v["future-periods"], "future-periods", v["max-horizon"]);
    const levels = levelsOf(v.levels);
    const path = v["model-path"];
    if (v.output) await outputs.plan("--output", v.output);
    if (v.chart) await outputs.plan("--chart", v.chart);
    let file, where = path;
    if (v.model !== undefined) {
      const ref = parseRef(v.model, "--model");
      const e = await withRegistry((reg) =>
        reg.get(ref.name, ref.version !== undefined ? ref : { stage: ref.stage ?? (v.stage as Stage) }, "--model")
      );
      file = e.document;
      where = `${e.name}@${e.version}`;
    } else file = await loadModel(path);
    const model = await restoreModel(file, where);
    const f = model.predict(h, levels);
    const freq = file.series.freq;
    const ds = Array.from({ length: h }, (_, i) => advance(file.series.end, freq, i + 1));
    const rows = f.mean.map((m, i) => {
      const r: Record<string, unknown> = { unique_id: file.series.id, ds: dateOf(ds[i]!, freq), forecast: m };
      for (const iv of f.intervals) {
        r[`lo${iv.level}`] = iv.lower[i];
        r[`hi${iv.level}`] = iv.upper[i];
      }
      return r;
    });
    if (v.output) await outputs.stage(v.output, csv(rows));
    if (v.chart) {
      const y = (file.model.state as { y?: number[] }).y ?? [];
      await outputs.stage(v.chart, await chartSvg(fanChart(y.slice(-4 * h), f, file.description) as never));
    }
    await outputs.commit();
    ctx.print(`${file.description} — series ${file.series.id}, ${h} steps`);
    ctx.print(
      tableText(
        rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, x]) => [k, typeof x === "number" ? fmt(x) : x]))),
        { maxRows: h },
      ),
    );
  });
}
