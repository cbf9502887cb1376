/**
 * The analyser from event logs: a real tagged job on the cluster, read back
 * from the Connect server's event log and from the REST API, gives the same
 * stages, tasks and totals; a log whose REST API is gone is still analysed
 * (the CLI's fallback and `--event-log`); bad logs are one clear line.
 */
import assert from "node:assert/strict";
import {
  analyze,
  fetchApplication,
  findEventLog,
  listApplications,
  listEventLogs,
  parseEventLines,
  readEventLog,
} from "@mercury/spark/analyze";
import { fn, SparkSession } from "@mercury/spark";
import { zstdCompressSync } from "node:zlib";
import { eventLogDir, loadApplication, restBase } from "../../plugins/spark/commands/analyze.ts";

const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

Deno.test("an application read from its event log agrees with Spark's REST API", async (t) => {
  await using spark = await SparkSession.connect();
  const tag = `mercury-eventlog-test-${crypto.randomUUID().slice(0, 8)}`;
  const df = spark.range(200_000).withColumn("key", "id % 7").repartition(3, "key")
    .groupBy("key").agg(fn.sum("id").alias("s"), fn.count("id").alias("n"));
  const rows = (await df.toArrow({ tags: [tag] })).numRows;
  assert.equal(rows, 7);

  const rest = restBase();
  const appId = (await listApplications(rest))[0]!.id;
  const fromRest = await fetchApplication(rest, appId, { tag });
  assert.ok(fromRest.jobs.length >= 1 && fromRest.jobs.every((j) => j.status === "SUCCEEDED"));
  const dir = eventLogDir();
  const log = findEventLog(dir, appId);
  assert.ok(log, `the live application's event log is in ${dir}`);
  assert.ok(listEventLogs(dir).some((e) => e.appId === appId && e.inProgress));

  // The listener bus writes asynchronously: wait (up to 60 s) until the log holds every tagged job's end.
  const complete = (app: typeof fromRest) =>
    app.jobs.length === fromRest.jobs.length && app.jobs.every((j) => j.status === "SUCCEEDED");
  let fromLog = readEventLog(log, { tag });
  for (const deadline = Date.now() + 60_000; !complete(fromLog) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 1000));
    fromLog = readEventLog(log, { tag });
  }

  await t.step("same jobs, stages and tasks", () => {
    assert.equal(fromLog.appId, appId);
    assert.deepEqual(fromLog.jobs.map((j) => j.jobId).sort(), fromRest.jobs.map((j) => j.jobId).sort());
    assert.deepEqual(
      fromLog.stages.map((s) => [s.stageId, s.attemptId, s.tasks.length]),
      fromRest.stages.map((s) => [s.stageId, s.attemptId, s.tasks.length]),
    );
    assert.ok(fromLog.stages.some((s) => s.tasks.some((x) => x.shuffleReadBytes > 0)), "a shuffle-reading stage");
    // The same executors; the log lists them in the order they registered, REST in its own order.
    const executors = (app: typeof fromRest) => app.executors.map((e) => `${e.id}:${e.cores}`).sort();
    assert.deepEqual(executors(fromLog), executors(fromRest));
    assert.equal(fromLog.executorMemoryMb, fromRest.executorMemoryMb);
  });

  await t.step("same totals, what-if and cost", () => {
    const a = analyze(fromRest);
    const b = analyze(fromLog);
    assert.equal(b.totals.tasks, a.totals.tasks);
    for (const k of ["runMs", "gcMs", "schedulerDelayMs", "serdeMs", "shuffleFetchWaitMs"] as const) {
      assert.ok(near(b.totals[k], a.totals[k], 1 + a.totals.tasks), `${k}: log ${b.totals[k]}, REST ${a.totals[k]}`);
    }
    assert.ok(near(b.totals.cpuMs, a.totals.cpuMs, 1), `cpuMs: log ${b.totals.cpuMs}, REST ${a.totals.cpuMs}`);
    assert.equal(b.totals.shuffleReadBytes, a.totals.shuffleReadBytes);
    assert.equal(b.totals.shuffleWriteBytes, a.totals.shuffleWriteBytes);
    assert.ok(b.totals.shuffleWriteBytes > 0);
    assert.equal(b.wallMs, a.wallMs);
    assert.deepEqual(b.whatIf.rows.map((r) => r.executors), a.whatIf.rows.map((r) => r.executors));
    assert.ok(near(b.whatIf.rows[0]!.estimatedMs, a.whatIf.rows[0]!.estimatedMs, 1 + a.totals.tasks));
    assert.ok(near(b.cost.coreHours, a.cost.coreHours, 1e-9));
  });

  await t.step("with the REST API gone, --job-id falls back to the event log", async () => {
    const stopped = "http://127.0.0.1:9/api/v1"; // nothing listens on the discard port
    const { app, source } = await loadApplication(stopped, appId, { tag }, dir);
    assert.equal(source, log);
    assert.equal(app.stages.length, fromLog.stages.length);
    await assert.rejects(
      () => loadApplication(stopped, "app-20000101000000-0000", {}, dir),
      /no event log of it is in/,
    );
  });

  await t.step("the CLI analyses --event-log and exits 0", async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/mercury.ts", "spark", "analyze", "--event-log", log, "--tag", tag],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /from the event log/);
    assert.match(
      text,
      new RegExp(`${appId} .*${fromLog.stages.length} stages, ${analyze(fromLog).totals.tasks} tasks`),
    );
  });
});

Deno.test("readEventLog() refuses a missing, foreign or corrupt log with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(() => readEventLog(`${dir}/nope`), /no event log at/);
    await Deno.writeTextFile(
      `${dir}/app-20260101000000-0001`,
      '{"Event":"SparkListenerLogStart"}\n{"Event":"SparkListenerJobEnd","Job ID":1}\n',
    );
    assert.throws(() => readEventLog(`${dir}/app-20260101000000-0001`), /has no SparkListenerApplicationStart/);
    assert.throws(() => parseEventLines(['{"a":1}'], "y.log"), /y\.log:1 is not a JSON event/);
    assert.throws(
      () => parseEventLines(['{"Event":"SparkListenerLogStart"}', "{oops"], "x.log"),
      /x\.log:2 is not a JSON event/,
    );
    await Deno.writeTextFile(`${dir}/app-20260101000000-0002.lz4`, "xx");
    assert.throws(() => readEventLog(`${dir}/app-20260101000000-0002.lz4`), /codec is not supported/);
    assert.deepEqual(listEventLogs(dir).map((e) => e.appId), ["app-20260101000000-0002", "app-20260101000000-0001"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readEventLog() reads a log of many zstd frames, the last one cut short, as Spark leaves it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const events = [
      { Event: "SparkListenerApplicationStart", "App Name": "frames", "App ID": "app-20260101000000-0003" },
      { Event: "SparkListenerJobStart", "Job ID": 0, "Submission Time": 1000, "Stage IDs": [0], Properties: {} },
      { Event: "SparkListenerJobEnd", "Job ID": 0, "Completion Time": 3000, "Job Result": { Result: "JobSucceeded" } },
    ].map((e) => JSON.stringify(e) + "\n");
    // One frame per flush, as Spark's writer does; a partial fourth frame (the writer mid-flush).
    const frames = events.map((e) => zstdCompressSync(new TextEncoder().encode(e)));
    const partial = zstdCompressSync(new TextEncoder().encode('{"Event":"SparkListenerJobStart","Job ID":1}\n'));
    const all = new Uint8Array([...frames.flatMap((f) => [...f]), ...partial.subarray(0, partial.length - 3)]);
    const path = `${dir}/app-20260101000000-0003.zstd.inprogress`;
    await Deno.writeFile(path, all);
    const app = readEventLog(path);
    assert.equal(app.name, "frames");
    assert.deepEqual(app.jobs.map((j) => [j.jobId, j.status, j.completedMs - j.submittedMs]), [[0, "SUCCEEDED", 2000]]);
    assert.deepEqual(listEventLogs(dir), [{ appId: "app-20260101000000-0003", path, inProgress: true }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
