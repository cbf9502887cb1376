/**
 * The analyser: its arithmetic on hand-made stages, and a real skewed job on
 * the cluster read back through Spark's REST API by its job tag.
 */
import assert from "node:assert/strict";
import {
  analyze,
  type AppRecord,
  cost,
  fetchApplication,
  heuristics,
  listApplications,
  makespan,
  reportHtml,
  severityOf,
  type StageRecord,
  summarizeStage,
  type TaskRecord,
  whatIf,
} from "@mercury/spark/analyze";
import { fn, SparkSession } from "@mercury/spark";
import { restBase } from "../../plugins/spark/commands/analyze.ts";

function task(stageId: number, index: number, durationMs: number, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    stageId,
    index,
    executorId: String(index % 2),
    launchMs: 0,
    durationMs,
    runMs: durationMs,
    cpuMs: durationMs * 0.8,
    gcMs: 0,
    deserializeMs: 0,
    serializeMs: 0,
    schedulerDelayMs: 0,
    gettingResultMs: 0,
    shuffleReadBytes: 0,
    shuffleFetchWaitMs: 0,
    shuffleWriteBytes: 0,
    shuffleWriteMs: 0,
    inputBytes: 0,
    outputBytes: 0,
    memorySpillBytes: 0,
    diskSpillBytes: 0,
    peakMemoryBytes: 0,
    ...extra,
  };
}

function stage(stageId: number, tasks: TaskRecord[], start: number, end: number): StageRecord {
  return { stageId, attemptId: 0, name: `stage ${stageId}`, jobIds: [0], submittedMs: start, completedMs: end, tasks };
}

Deno.test("makespan(), severityOf() and whatIf() do the scheduling arithmetic", () => {
  assert.equal(makespan([4, 3, 3, 2], 2), 6);
  assert.equal(makespan([10, 1, 1], 8), 10);
  assert.throws(() => makespan([1], 0), RangeError);
  assert.equal(severityOf(1.5, [2, 4, 8, 16]), "NONE");
  assert.equal(severityOf(20, [2, 4, 8, 16]), "CRITICAL");
  const stages = [stage(0, [1000, 1000, 1000, 1000].map((d, i) => task(0, i, d)), 0, 2000)];
  const w = whatIf(stages, 3000, 1, [1, 2, 4]);
  assert.equal(w.driverMs, 1000);
  assert.deepEqual(w.rows.map((r) => r.estimatedMs), [5000, 3000, 2000]);
});

Deno.test("heuristics() flag a skewed, spilling, GC-bound stage and leave an even one alone", () => {
  const even = summarizeStage(stage(1, Array.from({ length: 8 }, (_, i) => task(1, i, 1000)), 0, 4000));
  const skewedTasks = Array.from({ length: 8 }, (_, i) =>
    task(2, i, i === 0 ? 20_000 : 1000, {
      shuffleReadBytes: i === 0 ? 200 * 1048576 : 10 * 1048576,
      gcMs: i === 0 ? 6000 : 100,
      diskSpillBytes: i === 0 ? 300 * 1048576 : 0,
      memorySpillBytes: i === 0 ? 900 * 1048576 : 0,
    }));
  const skewed = summarizeStage(stage(2, skewedTasks, 0, 22_000));
  assert.equal(skewed.durationSkew, 20);
  assert.equal(skewed.stragglers, 1);
  assert.deepEqual(heuristics([even], { executorMemoryMb: 1024 }), []);
  const found = heuristics([skewed], { executorMemoryMb: 1024 });
  const by = Object.fromEntries(found.map((f) => [f.heuristic, f.severity]));
  assert.equal(by["task time skew"], "CRITICAL");
  assert.equal(by["shuffle data skew"], "CRITICAL");
  assert.ok(by["spill"] && by["spill"] !== "NONE");
  assert.ok(by["garbage collection"]);
  assert.match(found.find((f) => f.heuristic === "task time skew")!.advice, /salt|skew/);
  assert.equal(found[0]!.severity, "CRITICAL");
});

Deno.test("cost() bills held executors in core-hours, GB-hours and money", () => {
  const c = cost(3_600_000, 2, 4, 8192, { label: "t", currency: "USD", perCoreHour: 0.05, perGbHour: 0.01 });
  assert.equal(c.coreHours, 8);
  assert.equal(c.gbHours, 16);
  assert.ok(Math.abs(c.money - 0.56) < 1e-9);
});

Deno.test("analyze reads a real skewed job by its tag from Spark's REST API", async () => {
  await using spark = await SparkSession.connect();
  const tag = `mercury-analyze-test-${crypto.randomUUID().slice(0, 8)}`;
  await spark.setConf({ "spark.sql.adaptive.enabled": false, "spark.sql.shuffle.partitions": 4 });
  try {
    // 90 % of the rows share key 0: hash-repartitioned by key, one shuffle partition gets almost everything.
    const df = spark.range(1_000_000).withColumn("key", "CASE WHEN id < 900000 THEN 0 ELSE id END")
      .repartition(4, "key").agg(fn.sum("id").alias("s"));
    await df.toArrow({ tags: [tag] });
  } finally {
    await spark.setConf({ "spark.sql.adaptive.enabled": true, "spark.sql.shuffle.partitions": 8 });
  }
  const rest = restBase();
  const apps = await listApplications(rest);
  assert.ok(apps.length >= 1);
  const app: AppRecord = await fetchApplication(rest, apps[0]!.id, { tag });
  assert.ok(app.jobs.length >= 1, "the tagged jobs are found");
  assert.ok(app.jobs.every((j) => j.tags.some((t) => t.includes(tag))));
  const a = analyze(app);
  const shuffled = a.stages.filter((s) => s.shuffleReadBytes > 0);
  assert.ok(shuffled.length >= 1, "a shuffle-reading stage");
  assert.ok(shuffled.some((s) => s.dataSkew >= 2), `data skew seen: ${shuffled.map((s) => s.dataSkew)}`);
  assert.ok(a.totals.tasks > 0 && a.totals.cpuMs > 0);
  assert.equal(a.whatIf.rows.length, 6);
  assert.ok(a.cost.coreHours > 0);
  const html = await reportHtml(a);
  assert.match(html, /<svg/);
  assert.ok(html.includes(app.appId));
});

Deno.test("analyze refuses a malformed or unknown application id with one line", async () => {
  const rest = restBase();
  await assert.rejects(() => fetchApplication(rest, "../../etc"), /not a Spark application id/);
  await assert.rejects(() => fetchApplication(rest, "app-00000000000000-0000"), /REST API has no/);
});
