/**
 * The data options of the `forecast` commands (`--data`, `--fill`, `--season`,
 * `--series`, …) turned into a loaded dataset and one chosen series.
 *
 * @module
 */
import type { OptionValues } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { type Dataset, defaultSeason, loadSeries, type Series } from "../data.ts";
import type { dataOptions } from "../manifest.ts";

/** Loads `--data` with the data options; `seasonUsed` is `--season` or the frequency's default. */
export async function readData(v: OptionValues<typeof dataOptions>): Promise<Dataset & { seasonUsed: number }> {
  const file = v.data;
  if (!file) {
    throw new MercuryError("usage", "--data is required", {
      hint: "pass --data FILE.csv (columns ds,y or unique_id,ds,y)",
    });
  }
  const d = await loadSeries(file, {
    freq: v.freq,
    fill: v.fill,
    sort: v.sort === true,
    idColumn: v["id-col"],
    timeColumn: v["time-col"],
    targetColumn: v["target-col"],
    maxPoints: v["max-points"],
  });
  const seasonUsed = v.season ?? defaultSeason(d.freq);
  return { ...d, seasonUsed };
}

/** The series named `id`, or the only one; several without `--series` is a usage error. */
export function pickSeries(d: Dataset, id: string | undefined): Series {
  if (id !== undefined) {
    const s = d.series.find((x) => x.id === id);
    if (!s) {
      throw new MercuryError("input", `${d.file} has no series "${id}"`, {
        where: d.file,
        hint: `series: ${d.series.slice(0, 10).map((x) => x.id).join(", ")}${d.series.length > 10 ? "…" : ""}`,
      });
    }
    return s;
  }
  if (d.series.length > 1) {
    throw new MercuryError("usage", `${d.file} holds ${d.series.length} series; choose one with --series`, {
      where: d.file,
      hint: `e.g. --series ${d.series[0]!.id}, or use \`forecast batch\` for all of them`,
    });
  }
  return d.series[0]!;
}
