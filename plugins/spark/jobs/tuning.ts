/**
 * Tuning experiments with evidence: each variant runs as a tagged job on the
 * cluster, and its stages are read back from Spark's REST API by that tag and
 * analysed, so the wall time, shuffle bytes and the analyser's findings of
 * every variant are measured, not assumed. Experiments: broadcast vs
 * sort-merge join, a skewed join with AQE off vs on (skew-join splitting),
 * salting the hot key, AQE's partition coalescing on its own (200 shuffle
 * partitions of a small aggregate), and memory: one large sort in 1 shuffle
 * partition (one task holds it all and spills) vs 16.
 *
 * @module
 */
import { fn } from "../connect/column.ts";
import type { SparkSession } from "../connect/session.ts";
import { type Analysis, analyze } from "../analyze/analysis.ts";
import { fetchApplication, listApplications } from "../analyze/rest.ts";

/** One measured variant. */
export interface Variant {
  experiment: string;
  variant: string;
  ms: number;
  shuffleMB: number;
  stages: number;
  maxTaskSkew: number;
  /** Tasks of all the variant's stages. */
  tasks: number;
  /** Bytes spilled to disk (all stages). */
  spillDiskMB: number;
  findings: string[];
  analysis: Analysis;
}

async function measure(
  spark: SparkSession,
  rest: string,
  experiment: string,
  variant: string,
  conf: Record<string, string | number | boolean>,
  run: (tag: string) => Promise<unknown>,
): Promise<Variant> {
  await spark.setConf(conf);
  const tag = `mercury-tune-${crypto.randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  await run(tag);
  const ms = performance.now() - t0;
  const appId = (await listApplications(rest))[0]!.id;
  const a = analyze(await fetchApplication(rest, appId, { tag }));
  return {
    experiment,
    variant,
    ms,
    shuffleMB: a.totals.shuffleWriteBytes / 1048576,
    stages: a.stages.length,
    maxTaskSkew: Math.max(1, ...a.stages.map((s) => s.durationSkew)),
    tasks: a.stages.reduce((n, s) => n + s.tasks, 0),
    spillDiskMB: a.stages.reduce((n, s) => n + s.spillDiskBytes, 0) / 1048576,
    findings: a.findings.filter((f) => f.severity !== "LOW").map((f) => `[${f.severity}] ${f.heuristic}: ${f.advice}`),
    analysis: a,
  };
}

/** The experiments {@linkcode tuningExperiments} knows. */
export type Experiment = "join" | "aqe" | "salting" | "coalesce" | "spill";

/** Every experiment, in the order they run. */
export const EXPERIMENTS: readonly Experiment[] = ["join", "aqe", "salting", "coalesce", "spill"];

/** Options of {@linkcode tuningExperiments}. */
export interface TuningOptions {
  /** The spill experiment's data volume in MB (default 768: over one 1 GB executor's execution memory). */
  spillMB?: number;
}

/** Runs the experiments (all by default) on `rows` fact rows; returns every variant measured. */
export async function tuningExperiments(
  spark: SparkSession,
  rest: string,
  rows = 2_000_000,
  only: readonly Experiment[] = EXPERIMENTS,
  o: TuningOptions = {},
): Promise<Variant[]> {
  const out: Variant[] = [];
  const facts = () =>
    spark.range(0, rows, 1, 4).withColumns({
      k: `CASE WHEN id % 10 < 7 THEN 0 ELSE id % 5000 END`, // 70 % of rows on key 0
      v: "id % 97",
    });
  const dims = () => spark.range(5000).withColumnRenamed("id", "k").withColumn("label", "concat('k', k)");
  const base = { "spark.sql.shuffle.partitions": 8, "spark.sql.autoBroadcastJoinThreshold": -1 };

  if (only.includes("join")) {
    // Broadcast vs sort-merge join on a small dimension.
    for (const [variant, hint] of [["broadcast", "broadcast"], ["sort-merge", "merge"]] as const) {
      out.push(
        await measure(
          spark,
          rest,
          "join strategy",
          variant,
          { ...base, "spark.sql.adaptive.enabled": true },
          (tag) =>
            facts().join(dims().hint(hint), "k").groupBy("label").agg(fn.sum("v").alias("s")).toArrow({ tags: [tag] }),
        ),
      );
    }
  }
  if (only.includes("aqe")) {
    // A skewed sort-merge join, AQE off vs on (coalescing and skew-join splitting).
    const skewedJoin = (tag: string) =>
      facts().join(facts().select("k").distinct().hint("merge"), "k").groupBy("k").agg(fn.count().alias("n"))
        .toArrow({ tags: [tag] });
    out.push(
      await measure(
        spark,
        rest,
        "skewed join",
        "AQE off",
        { ...base, "spark.sql.adaptive.enabled": false },
        skewedJoin,
      ),
    );
    out.push(
      await measure(spark, rest, "skewed join", "AQE on", {
        ...base,
        "spark.sql.adaptive.enabled": true,
        "spark.sql.adaptive.skewJoin.enabled": true,
        "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "1MB",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "1MB",
      }, skewedJoin),
    );
  }
  if (only.includes("salting")) {
    // A skewed aggregation by key (after a shuffle by key, as with a UDAF), plain vs salted in 16 buckets.
    const aggConf = { ...base, "spark.sql.adaptive.enabled": false };
    out.push(
      await measure(
        spark,
        rest,
        "skewed aggregation",
        "plain",
        aggConf,
        (tag) => facts().repartition(8, "k").groupBy("k").agg(fn.sum("v").alias("s")).toArrow({ tags: [tag] }),
      ),
    );
    out.push(
      await measure(
        spark,
        rest,
        "skewed aggregation",
        "salted ×16",
        aggConf,
        (tag) =>
          facts().withColumn("salt", "CAST(id % 16 AS INT)").repartition(8, "k", "salt")
            .groupBy("k", "salt").agg(fn.sum("v").alias("s"))
            .groupBy("k").agg(fn.sum("s").alias("s")).toArrow({ tags: [tag] }),
      ),
    );
  }
  if (only.includes("coalesce")) {
    // A small aggregate (97 groups) over 200 shuffle partitions: without AQE, 200 reduce tasks of almost nothing.
    const agg = (tag: string) => facts().groupBy("v").agg(fn.count().alias("n")).toArrow({ tags: [tag] });
    const coalesceBase = { ...base, "spark.sql.shuffle.partitions": 200, "spark.sql.adaptive.skewJoin.enabled": false };
    out.push(
      await measure(spark, rest, "partition coalescing", "AQE off (200 partitions)", {
        ...coalesceBase,
        "spark.sql.adaptive.enabled": false,
      }, agg),
    );
    out.push(
      await measure(spark, rest, "partition coalescing", "AQE coalescing only", {
        ...coalesceBase,
        "spark.sql.adaptive.enabled": true,
        "spark.sql.adaptive.coalescePartitions.enabled": true,
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64MB",
      }, agg),
    );
  }
  if (only.includes("spill")) {
    // A sort-based aggregation (max of a string) over ~spillMB of rows: in 1 shuffle partition one task sorts it
    // all (more than a 1 GB executor's execution memory, so it spills to disk); in 16 each sorts a sixteenth.
    const payload = Math.max(16, Math.round((o.spillMB ?? 768) * 1048576 / rows));
    const sortAgg = (tag: string) =>
      spark.range(0, rows, 1, 4).withColumns({
        r: "hash(id)",
        p: `repeat(CAST(id % 10 AS STRING), ${payload})`,
      })
        .groupBy("r").agg(fn.max("p").alias("m")).selectExpr("sum(length(m)) AS bytes").toArrow({ tags: [tag] });
    for (const partitions of [1, 16]) {
      out.push(
        await measure(spark, rest, "memory (sort-based aggregation)", `${partitions} shuffle partition(s)`, {
          ...base,
          "spark.sql.adaptive.enabled": false,
          "spark.sql.shuffle.partitions": partitions,
        }, sortAgg),
      );
    }
  }
  await spark.setConf({
    "spark.sql.adaptive.enabled": true,
    "spark.sql.autoBroadcastJoinThreshold": "10MB",
    "spark.sql.shuffle.partitions": 200,
    "spark.sql.adaptive.skewJoin.enabled": true,
  });
  return out;
}
