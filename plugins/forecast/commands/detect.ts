/**
 * `forecast detect`: scores every point for anomalies (residual or
 * decomposition method), prints the anomalies and optionally writes every
 * point with its score as CSV.
 *
 * @module
 */
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { csv } from "../_csv.ts";
import { detectAnomalies } from "../detect.ts";
import { OutputFiles } from "../output_files.ts";
import type { detectOptions } from "../manifest.ts";
import { checkAlgorithm } from "./_args.ts";
import { dateOf, fmt } from "./_format.ts";
import { pickSeries, readData } from "./_input.ts";

/** Runs `forecast detect`. */
export function detect(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values as OptionValues<typeof detectOptions>;
    const method = v.method;
    const threshold = v.threshold;
    if (!(threshold > 0)) {
      throw new MercuryError("usage", `--threshold must be a number > 0, got '${v.threshold}'`, {
        where: "--threshold",
      });
    }
    if (v.output) await outputs.plan("--output", v.output);
    const d = await readData(v);
    const targets = v.series !== undefined ? [pickSeries(d, v.series)] : d.series;
    const out: Record<string, unknown>[] = [];
    const found: Record<string, unknown>[] = [];
    for (const s of targets) {
      const r = await detectAnomalies(s.y, {
        method,
        season: d.seasonUsed,
        threshold,
        algorithm: checkAlgorithm(v.algorithm),
      });
      s.y.forEach((y, t) => {
        const row = {
          unique_id: s.id,
          ds: dateOf(s.ds[t]!, d.freq),
          y,
          expected: r.expected[t],
          score: r.score[t],
          anomaly: r.anomaly[t],
        };
        out.push(row);
        if (r.anomaly[t]) found.push({ ...row, expected: fmt(r.expected[t]!), score: fmt(r.score[t]!) });
      });
    }
    if (v.output) await outputs.stage(v.output, csv(out));
    await outputs.commit();
    ctx.print(`${found.length} anomalies in ${out.length} points (${method}, robust z > ${threshold})`);
    if (found.length) ctx.print(tableText(found, { maxRows: 50 }));
  });
}
