/**
 * `deno task bench:stream`: the pipeline's sustained throughput and latency.
 *
 * 1. Throughput: N events (default 1,000,000) pre-produced to a 12-partition
 *    topic, then one worker runs parse → Redis enrich → 1-minute windows →
 *    exactly-once PostgreSQL sink until the topic is done. events/s = N / time
 *    to the last checkpoint.
 * 2. Latency: events produced at a steady rate (default 100,000/s for 20 s)
 *    while one worker runs; p50/p99 from append-to-Kafka to checkpoint
 *    committed (the worker's histogram, interpolated within buckets).
 *
 * The broker, PostgreSQL, Redis and the worker share this machine's 2 cores.
 * Writes bench/results/stream.json.
 *
 * usage: deno task bench:stream [--events 1000000] [--rate 100000] [--seconds 20]
 *
 * @module
 */
import { resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import {
  bucketQuantile,
  defaultTopology,
  ensureTopic,
  parseHistogram,
  Processor,
  produceEvents,
  redisDimension,
  tumbling,
} from "@mercury/stream";
import { Admin } from "@platformatic/kafka";
import { PostgresSink } from "@mercury/stream";

const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const N = arg("events", 1_000_000);
const RATE = arg("rate", 100_000);
const SECONDS = arg("seconds", 20);
const brokers = resolveEndpoints().kafka.brokers;
const pg = await connectPostgres({ max: 2 });
const redis = await connectRedis();
const run = `bench_${Date.now().toString(36)}`;
const topo = () =>
  defaultTopology(tumbling(60_000), {
    maxOutOfOrdernessMs: 5000,
    allowedLatenessMs: 0,
    enrich: redisDimension({ redis: redis.client, keyOf: (u) => `dim:user:${u}`, fields: { tier: "unknown" } }),
  });

// 1. Throughput over a backlog.
const t1 = `${run}_tput`;
await ensureTopic(brokers, t1, { partitions: 12 });
const produced = await produceEvents({
  brokers,
  topic: t1,
  count: N,
  users: 10_000,
  start: Date.now() - 3_600_000,
  stepMs: 3_600_000 / N,
  batchSize: 10_000,
});
console.error(`produced ${N} in ${produced.seconds.toFixed(1)}s (${Math.round(produced.eventsPerSec)}/s)`);
let lastCheckpoint = 0;
const w1 = new Processor({
  brokers,
  topic: t1,
  pipeline: t1,
  topology: topo(),
  sql: pg.sql,
  checkpointMs: 1000,
  untilDone: true,
  batchSize: 10_000,
  log: (l) => {
    if (l.startsWith("done")) lastCheckpoint = performance.now();
  },
});
const start1 = performance.now();
const stats1 = await w1.run();
const seconds1 = (Math.max(lastCheckpoint, start1) - start1) / 1000 - 1; // minus the 1 s idle check before "done"
const throughput = stats1.events / seconds1;

// 2. Latency at a steady rate.
const t2 = `${run}_lat`;
await ensureTopic(brokers, t2, { partitions: 12 });
const w2 = new Processor({ brokers, topic: t2, pipeline: t2, topology: topo(), sql: pg.sql, checkpointMs: 250 });
const running = w2.run();
await new Promise((r) => setTimeout(r, 2000));
// The load comes from another process, as it would in production (one event loop per process).
const producerRun = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../tasks/mercury.ts", import.meta.url).pathname,
    "stream",
    "produce",
    "--topic",
    t2,
    "--events-per-sec",
    String(RATE),
    "--duration",
    `${SECONDS}s`,
    "--users",
    "10000",
    "--batch-size",
    String(Math.max(500, Math.round(RATE / 50))),
  ],
  stdout: "piped",
  stderr: "inherit",
}).output();
const producedLine = new TextDecoder().decode(producerRun.stdout).trim();
const steady = { eventsPerSec: Number(/: (\d+) records\/s/.exec(producedLine)?.[1] ?? 0) };
await new Promise((r) => setTimeout(r, 3000));
w2.stop();
await running;
const buckets = parseHistogram(w2.registry.expose(), "mercury_stream_end_to_end_latency_seconds");

const result = {
  date: new Date().toISOString(),
  cores: navigator.hardwareConcurrency,
  throughput: {
    events: stats1.events,
    seconds: Number(seconds1.toFixed(2)),
    eventsPerSec: Math.round(throughput),
    goal: 500_000,
    ratioToGoal: Number((throughput / 500_000).toFixed(3)),
  },
  latency: {
    targetRate: RATE,
    achievedProduceRate: Math.round(steady.eventsPerSec),
    seconds: SECONDS,
    p50: bucketQuantile(buckets, 0.5),
    p99: bucketQuantile(buckets, 0.99),
    goalP99: 1,
  },
};
console.log(JSON.stringify(result, null, 2));
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(new URL("./results/stream.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");

const admin = new Admin({ clientId: "bench-cleanup", bootstrapBrokers: brokers });
await admin.deleteTopics({ topics: [t1, t2, `${t1}.dlq`, `${t2}.dlq`] }).catch(() => {});
await admin.close();
for (const p of [t1, t2]) {
  await (await PostgresSink.open(pg.sql, p)).reset();
}
await pg.close();
await redis.close();
Deno.exit(0);
