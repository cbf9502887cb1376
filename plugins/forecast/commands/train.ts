/**
 * `forecast train`: fits one series and saves the model file (with its
 * backtest metrics unless `--horizon 0`).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { describeFrequency } from "../data.ts";
import { encodeModel } from "../model_file.ts";
import { OutputFiles } from "../output_files.ts";
import { trainModel } from "../train.ts";
import { checkAlgorithm, horizonOf, int, paramsOf, str } from "./_args.ts";
import { fmt } from "./_format.ts";
import { pickSeries, readData } from "./_input.ts";

/** Runs `forecast train`. */
export function train(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values;
    const name = checkAlgorithm(str(v.algorithm) ?? "auto_ets");
    const out = str(v.output) ?? "model.pkl";
    await outputs.plan("--output", out);
    const d = await readData(v);
    const s = pickSeries(d, str(v.series));
    const version = str(v["model-version"]) ?? "1.0.0";
    if (!/^\d+\.\d+\.\d+$/.test(version)) {
      throw new MercuryError("usage", `--model-version must be a semantic version (x.y.z), got '${version}'`, {
        hint: "e.g. 1.2.0",
      });
    }
    const { file } = await trainModel(s, {
      algorithm: name,
      params: paramsOf(v.params),
      season: d.seasonUsed,
      freq: d.freq,
      horizon: v.horizon !== undefined ? horizonOf(v, "horizon", 0) : undefined,
      windows: int(v.windows, "windows"),
      clean: v.clean === true,
      version,
      source: d.file,
    });
    await outputs.stage(out, encodeModel(file));
    await outputs.commit();
    ctx.print(
      `trained ${file.description} on series ${s.id} (${s.y.length} points, ${
        describeFrequency(d.freq)
      }, season ${d.seasonUsed}${s.filled ? `, ${s.filled} gaps filled` : ""})`,
    );
    if (file.metrics.mase !== undefined) {
      ctx.print(
        `backtest (h=${file.metrics.horizon}): MASE ${fmt(file.metrics.mase)}  sMAPE ${
          fmt(file.metrics.smape!)
        }  RMSE ${fmt(file.metrics.rmse!)}  coverage95 ${fmt(file.metrics.coverage95!)}`,
      );
    }
    ctx.print(
      `wrote ${out} (format v${file.formatVersion}, model ${file.version}, data ${file.fingerprint.slice(0, 12)})`,
    );
  });
}
