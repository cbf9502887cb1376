/**
 * `deno task bench:spark-memory [--memories 512m,1g,1536m] [--rows N] [--runs R] [--spill-mb MB]`: the spill
 * experiment of `spark tune` (a sort-based aggregation of ~MB of rows in 1 vs 16 shuffle partitions) under each
 * executor memory. Executor memory is fixed when a Spark application starts, so for each setting the bench restarts
 * the native Spark service with `MERCURY_SPARK_EXECUTOR_MEMORY` (`deno task services down spark`, then `up spark`),
 * checks through the REST API that the executors got it, runs the experiment R times and reads wall time, tasks and
 * spill bytes back by tag. At the end the service is restarted with the default (1g). Prints the medians per
 * setting and writes bench/results/spark_memory.json. No peer: the comparison is between settings of one job.
 *
 * @module
 */
import { SparkSession, tuningExperiments } from "@mercury/spark";
import { tableText } from "@mercury/core/display";
import { restBase } from "../plugins/spark/commands/analyze.ts";

const arg = (name: string, fallback: string) =>
  Deno.args.includes(name) ? Deno.args[Deno.args.indexOf(name) + 1]! : fallback;
const memories = arg("--memories", "512m,1g,1536m").split(",");
const rows = Number(arg("--rows", "1000000"));
const runs = Number(arg("--runs", "3"));
const spillMB = Number(arg("--spill-mb", "768"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

async function services(args: string[], memory?: string): Promise<void> {
  const env = memory ? { MERCURY_SPARK_EXECUTOR_MEMORY: memory } : undefined;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tasks/services.ts", import.meta.url).pathname, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`services ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
}

/** The executors' memory as the running application reports it (`spark.executor.memory`). */
async function reportedMemory(): Promise<string> {
  const base = restBase();
  const apps = await (await fetch(`${base}/applications`)).json() as { id: string }[];
  const env = await (await fetch(`${base}/applications/${apps[0]!.id}/environment`)).json() as {
    sparkProperties: [string, string][];
  };
  return env.sparkProperties.find(([k]) => k === "spark.executor.memory")?.[1] ?? "?";
}

const results: Record<string, unknown>[] = [];
try {
  for (const memory of memories) {
    log(`restarting Spark with executor memory ${memory}`);
    await services(["down", "spark"]);
    await services(["up", "spark"], memory);
    const reported = await reportedMemory();
    if (reported.toLowerCase() !== memory.toLowerCase()) {
      throw new Error(`asked for executor memory ${memory}, the application reports ${reported}`);
    }
    await using spark = await SparkSession.connect();
    const figures = new Map<string, Record<string, number[]>>();
    const loads: number[][] = [];
    for (let run = 0; run < runs; run++) {
      loads.push(loadAverage());
      for (const v of await tuningExperiments(spark, restBase(), rows, ["spill"], { spillMB })) {
        const f = figures.get(v.variant) ?? {};
        (f.wall_ms ??= []).push(v.ms);
        (f.tasks ??= []).push(v.tasks);
        (f.spill_disk_mb ??= []).push(v.spillDiskMB);
        figures.set(v.variant, f);
      }
      log(`${memory}: run ${run + 1}/${runs} (load average before: ${loads.at(-1)!.join(" ")})`);
    }
    for (const [variant, f] of figures) {
      results.push({
        executor_memory: memory,
        variant,
        wall_ms: Math.round(median(f.wall_ms!)),
        wall_ms_runs: f.wall_ms!.map(Math.round).join(" / "),
        tasks: median(f.tasks!),
        spill_disk_mb: +median(f.spill_disk_mb!).toFixed(1),
        spill_disk_mb_runs: f.spill_disk_mb!.map((x) => x.toFixed(1)).join(" / "),
        load_before: loads.map((l) => l[0]).join(" / "),
      });
    }
  }
} finally {
  log("restarting Spark with the default executor memory");
  await services(["down", "spark"]);
  await services(["up", "spark"]);
}
console.log(tableText(results));
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/spark_memory.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), rows, runs, spillMB, memories, results }, null, 2) + "\n",
);
