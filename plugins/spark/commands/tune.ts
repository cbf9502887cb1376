/**
 * `spark tune`: the tuning experiments (broadcast vs sort-merge join, a skewed
 * join with AQE off and on, salting a hot key, AQE partition coalescing alone,
 * a large sort-based aggregation in 1 vs 16 shuffle partitions), each measured on the cluster
 * and analysed from Spark's REST API; prints one row per variant and the
 * analyser's advice where a run shows a symptom.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { type Experiment, EXPERIMENTS, tuningExperiments } from "../jobs/tuning.ts";
import { restBase } from "./analyze.ts";
import { withSession } from "./_session.ts";

/** Runs `spark tune [--rows N] [--only join,aqe,salting,coalesce,spill] [--spill-mb MB]`. */
export async function tune(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const known: readonly string[] = EXPERIMENTS;
  const only = (args.values.only as string[] | undefined ?? known) as Experiment[];
  const bad = only.find((e) => !known.includes(e));
  if (bad) {
    throw new MercuryError("usage", `--only: unknown experiment "${bad}"`, {
      where: "--only",
      hint: `choose from ${known.join(", ")}`,
    });
  }
  await withSession(async (spark) => {
    const variants = await tuningExperiments(
      spark,
      restBase(args.values.rest as string | undefined),
      Number(args.values.rows),
      only,
      args.values["spill-mb"] === undefined ? {} : { spillMB: Number(args.values["spill-mb"]) },
    );
    ctx.print(tableText(variants.map((v) => ({
      experiment: v.experiment,
      variant: v.variant,
      wall_ms: Math.round(v.ms),
      stages: v.stages,
      tasks: v.tasks,
      shuffle_mb: +v.shuffleMB.toFixed(2),
      spill_disk_mb: +v.spillDiskMB.toFixed(1),
      max_read_skew: +Math.max(1, ...v.analysis.stages.map((s) => Number.isFinite(s.dataSkew) ? s.dataSkew : 1))
        .toFixed(1),
    }))));
    for (const v of variants) for (const f of v.findings) ctx.print(`${v.experiment} / ${v.variant}: ${f}`);
  });
}
