/**
 * `deno task bench:spark-tune [--rows N] [--runs R] [--spill-mb MB]`: the tuning
 * experiments of `spark tune` (join strategy, AQE skew join, salting, AQE
 * partition coalescing alone, spill with 1 vs 16 shuffle partitions) run R
 * times on the cluster (default 3 runs of 1,000,000 rows), each variant read
 * back from Spark's REST API by its tag; prints the median of each figure per
 * variant, with the load average before each run, and writes
 * bench/results/spark_tune.json. There is no peer: the comparison is between
 * the variants of one job on the same cluster in the same run.
 *
 * @module
 */
import { SparkSession, tuningExperiments } from "@mercury/spark";
import { tableText } from "@mercury/core/display";
import { restBase } from "../plugins/spark/commands/analyze.ts";

const arg = (name: string, fallback: number) =>
  Deno.args.includes(name) ? Number(Deno.args[Deno.args.indexOf(name) + 1]) : fallback;
const rows = arg("--rows", 1_000_000);
const runs = arg("--runs", 3);
const spillMB = arg("--spill-mb", 768);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);

await using spark = await SparkSession.connect();
const byVariant = new Map<string, { experiment: string; variant: string; figures: Record<string, number[]> }>();
const loads: number[][] = [];
for (let run = 0; run < runs; run++) {
  loads.push(loadAverage());
  const variants = await tuningExperiments(spark, restBase(), rows, undefined, { spillMB });
  for (const v of variants) {
    const key = `${v.experiment} / ${v.variant}`;
    const entry = byVariant.get(key) ?? { experiment: v.experiment, variant: v.variant, figures: {} };
    const readSkew = Math.max(1, ...v.analysis.stages.map((s) => Number.isFinite(s.dataSkew) ? s.dataSkew : 1));
    const add = (name: string, x: number) => (entry.figures[name] ??= []).push(x);
    add("wall_ms", v.ms);
    add("tasks", v.tasks);
    add("shuffle_mb", v.shuffleMB);
    add("spill_disk_mb", v.spillDiskMB);
    add("max_read_skew", readSkew);
    byVariant.set(key, entry);
  }
  console.log(`run ${run + 1}/${runs} done (load average before: ${loads.at(-1)!.join(" ")})`);
}
const rowsOut = [...byVariant.values()].map((e) => ({
  experiment: e.experiment,
  variant: e.variant,
  wall_ms: Math.round(median(e.figures.wall_ms!)),
  wall_ms_runs: e.figures.wall_ms!.map(Math.round).join(" / "),
  tasks: median(e.figures.tasks!),
  shuffle_mb: +median(e.figures.shuffle_mb!).toFixed(2),
  spill_disk_mb: +median(e.figures.spill_disk_mb!).toFixed(1),
  max_read_skew: +median(e.figures.max_read_skew!).toFixed(1),
}));
console.log(tableText(rowsOut));
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/spark_tune.json", import.meta.url),
  JSON.stringify(
    { date: new Date().toISOString(), rows, runs, spillMB, loadAverageBefore: loads, medians: rowsOut },
    null,
    2,
  ) + "\n",
);
