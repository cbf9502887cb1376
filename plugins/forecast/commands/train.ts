/**
 * `forecast train`: fits one series and saves the model file (with its
 * backtest metrics unless `--horizon 0`).
 *
 * @module
 */
import { basename, resolve } from "node:path";
import type { CommandArgs, CommandContext, OptionValues } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { describeFrequency } from "../data.ts";
import { encodeModel } from "../model_file.ts";
import { checkName } from "../registry.ts";
import { OutputFiles } from "../output_files.ts";
import { trainModel } from "../train.ts";
import type { trainOptions } from "../manifest.ts";
import { checkAlgorithm, horizonOf, paramsOf } from "./_args.ts";
import { fmt } from "./_format.ts";
import { pickSeries, readData } from "./_input.ts";
import { withRegistry } from "./_registry.ts";

/** Runs `forecast train`. */
export function train(args: CommandArgs, ctx: CommandContext): Promise<void> {
  return OutputFiles.run(async (outputs) => {
    const v = args.values as OptionValues<typeof trainOptions>;
    const name = checkAlgorithm(v.algorithm);
    const out = v.output;
    await outputs.plan("--output", out);
    const regName = v.registry === "off"
      ? undefined
      : checkName(v.name ?? (basename(out).replace(/\.[^.]*$/, "") || "model"), "--name");
    const d = await readData(v);
    const s = pickSeries(d, v.series);
    const version = v["model-version"];
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
      horizon: v.horizon !== undefined ? horizonOf(v.horizon, "horizon", v["max-horizon"]) : undefined,
      windows: v.windows,
      clean: v.clean === true,
      version,
      source: d.file,
    });
    await outputs.stage(out, encodeModel(file));
    let recorded = "";
    if (regName) {
      try {
        const e = await withRegistry((reg) => reg.register(regName, resolve(out), file));
        recorded = `; registry: ${e.name} version ${e.version}${e.parent !== null ? ` (parent ${e.parent})` : ""}`;
      } catch (err) {
        if (v.registry === "on" || !(err instanceof MercuryError && err.code === "unavailable")) throw err;
        ctx.print(
          `note: ${out} is not recorded in the model registry: ${err.message}; pass --registry off to skip it`,
        );
      }
    }
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
      `wrote ${out} (format v${file.formatVersion}, model ${file.version}, data ${
        file.fingerprint.slice(0, 12)
      })${recorded}`,
    );
  });
}
