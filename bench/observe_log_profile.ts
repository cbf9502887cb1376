/**
 * `deno run -A bench/observe_log_profile.ts [--rows N]`: the prediction log's stages timed apart (no peer; a
 * profile, not a benchmark): N rows queued at once and drained to PostgreSQL only, Kafka only, and both, with
 * the wall time, rows/s and the client's CPU µs per row of each, and the load average.
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { resolveEndpoints } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { RecordProducer } from "@mercury/stream";
import { PredictionLog, setupSchema } from "@mercury/observe";
import { ensureTopics, PREDICTIONS_TOPIC } from "../plugins/observe/topics.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rows: { type: "string", default: "100000" }, impl: { type: "string" } },
});
// `--impl <path>`: another PredictionLog module (e.g. the previous commit's, checked out beside it) for an A/B.
const Log: typeof PredictionLog = values.impl
  ? (await import(new URL(values.impl, `file://${Deno.cwd()}/`).href)).PredictionLog
  : PredictionLog;
const rows = Number(values.rows);
const eps = resolveEndpoints();
await using pg = await connectPostgres({ url: eps.postgres.url, max: 8 });
await setupSchema(pg.sql);
await using k = await connectKafka({ brokers: eps.kafka.brokers });
await ensureTopics(k);
const features = [0.1, -0.3, 1.2, 0.5];
const runId = crypto.randomUUID().slice(0, 8);

for (const mode of ["postgres", "kafka", "both"] as const) {
  const producer = mode === "postgres"
    ? undefined
    : await RecordProducer.open({ brokers: eps.kafka.brokers, topic: PREDICTIONS_TOPIC });
  // Kafka only: PostgreSQL writes go to a pool nobody waits on? No: the log always writes PostgreSQL, so "kafka"
  // here times the producer alone, outside the log.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const now = Date.now();
  if (mode === "kafka") {
    for (let i = 0; i < rows; i++) {
      producer!.append(
        `${runId}-k-${i}`,
        `{"id":"${runId}-k-${i}","model":"bench","version":"1","ts":${now},"features":[0.1,-0.3,1.2,0.5],"output":0.5,"latency_ms":0.2}`,
        now,
      );
      if (i % 20000 === 19999) await producer!.flush();
    }
    await producer!.flush();
  } else {
    const log = new Log({ sql: pg.sql, kafka: producer, batchRows: 5000, flushMs: 20 });
    for (let i = 0; i < rows; i++) {
      log.log({
        id: `${runId}-${mode}-${i}`,
        model: "bench",
        version: "1",
        ts: now,
        features,
        output: 0.5,
        latencyMs: 0.2,
        segment: "",
      });
    }
    await log.drain();
    await log.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await producer?.close();
  console.log(
    `${values.impl ?? "current"} ${mode}: ${rows} rows in ${secs.toFixed(2)} s = ${
      Math.round(rows / secs)
    }/s; client CPU ${((cpu.user + cpu.system) / rows).toFixed(2)} µs/row; load average ${
      Deno.loadavg().map((x) => x.toFixed(1)).join(", ")
    }`,
  );
}
await pg.sql`delete from observe.predictions where model = 'bench' and id like ${runId + "%"}`;
