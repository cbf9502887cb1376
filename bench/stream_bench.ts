/**
 * `deno task bench:stream`: the pipeline's sustained throughput and latency.
 *
 * Latency runs first (on a database not yet busy vacuuming what the backlogs wrote).
 *
 * 1. Throughput: N events (default 2,000,000) pre-produced to a 12-partition
 *    topic by another process, then one worker runs parse → Redis enrich →
 *    1-minute windows → exactly-once PostgreSQL sink until the topic is done.
 *    Sustained events/s = N / time from the worker's partition assignment to
 *    the checkpoint that reached the end (also shown: from the worker's start,
 *    with joining the group). Two shapes of backlog:
 *    - `live`: event time advances as a live stream at `--event-rate` events/s
 *      would (default 500,000/s, the goal): 10,000 users, a few windows each;
 *    - `catch-up`: the same N events spread over one hour of event time (a
 *      worker catching up after downtime): ~0.6 window results per event, so
 *      this measures writing results as much as processing events.
 *    Each backlog is processed twice, by separate pipelines and groups: by one
 *    `Processor` (one thread) and by a `ThreadedProcessor` with 2 threads (the
 *    CLI's `--threads 2`: one group member, each thread a Processor over half
 *    the partitions, the topology built in the thread from
 *    `default_pipeline.ts`).
 *    After both, the **peer** runs over the same topic: the same pipeline in
 *    Kafka Streams (`bench/peers/kafka_streams/StreamsPeer.java`, compiled here
 *    with `javac` against the jars of `bench/peers/kafka_streams/pom.xml`,
 *    fetched into `.mercury/peers/kafka_streams/libs`: exactly-once v2, 1-minute windows
 *    with 5 s grace, count/sum/min/max/distinct/percentile bins, final results
 *    only, 2 stream threads, a 512 MB record cache), timed the same way (from
 *    RUNNING to committed offsets at the end); then **Apache Flink** 1.20 over the
 *    same topic (`bench/peers/flink/`: a DataStream job in a local MiniCluster,
 *    parallelism 2, hashmap state backend, event-time 1-minute windows, exactly-once
 *    `KafkaSink`, timed from RUNNING to FINISHED). Both peers compute Mercury's
 *    aggregates with the same sketches (HyperLogLog with 2^10 registers from Apache
 *    DataSketches, DDSketch at 2 % from Datadog's Java library). Neither has the
 *    Redis join, so the comparison favours them. Each peer's results (read back
 *    read-committed from its output topic) are checked against the one-thread
 *    worker's `stream_windows`: the same windows, the same counts and sums, distinct
 *    counts and p50 within the sketches' error bounds.
 *    `--peer kafka-streams|flink|all` (default all) picks them; `--no-peer` skips both.
 * 2. Latency at steady rates (default 20,000, 50,000 and 100,000 events/s,
 *    produced by another process, for 5 s of warm-up and then 15 s measured):
 *    p50/p99 from append-to-Kafka to the checkpoint holding the event
 *    committed (the worker's histogram over the measured seconds, interpolated
 *    within buckets; also over the whole run, warm-up included), and the rate
 *    the producer reached. Commit times include the final snapshot at stop.
 *
 * The broker, PostgreSQL, Redis, producer and worker share this machine's 2
 * cores. Writes bench/results/stream.json.
 *
 * usage: deno task bench:stream [--events 2000000] [--event-rate 500000] [--rates 20000,50000,100000|none] [--seconds 15]
 *        [--warmup 5] [--peer kafka-streams|flink|all] [--no-peer]
 *
 * @module
 */
import { projectRoot, resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import {
  bucketQuantile,
  DEFAULT_PIPELINE,
  defaultTopology,
  ensureTopic,
  parseHistogram,
  PostgresSink,
  Processor,
  produceEvents,
  readCommitted,
  redisDimension,
  ThreadedProcessor,
  tumbling,
} from "@mercury/stream";
import { Admin } from "@platformatic/kafka";
import { cleanFlinkPeer, flink } from "./peers/flink/run.ts";
import { aptInstall, onPath } from "../tasks/services/_process.ts";
import { fetchJars } from "../tasks/services/_maven.ts";

const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const N = arg("events", 2_000_000);
const EVENT_RATE = arg("event-rate", 500_000);
const SECONDS = arg("seconds", 15);
const WARMUP = arg("warmup", 5);
const ratesArg = Deno.args.indexOf("--rates");
const ratesText = ratesArg >= 0 ? Deno.args[ratesArg + 1]! : "20000,50000,100000";
// `--rates none`: the throughput runs only.
const RATES = ratesText === "none" ? [] : ratesText.split(",").map(Number);
const brokers = resolveEndpoints().kafka.brokers;

const peerArg = Deno.args.indexOf("--peer");
const peerChoice = Deno.args.includes("--no-peer") ? "none" : peerArg >= 0 ? Deno.args[peerArg + 1]! : "all";
if (!["kafka-streams", "flink", "all", "none"].includes(peerChoice)) {
  console.error(
    `bench:stream: --peer ${peerChoice}: expected kafka-streams, flink or all (hint: --no-peer skips both)`,
  );
  Deno.exit(2);
}
const PEER_KS = peerChoice === "kafka-streams" || peerChoice === "all";
const PEER_FLINK = peerChoice === "flink" || peerChoice === "all";

// The producing child of a throughput run: --produce TOPIC SPAN_MS.
const produceArg = Deno.args.indexOf("--produce");
if (produceArg >= 0) {
  const topic = Deno.args[produceArg + 1]!;
  const spanMs = Number(Deno.args[produceArg + 2]);
  const produced = await produceEvents({
    brokers,
    topic,
    count: N,
    users: 10_000,
    start: Date.now() - spanMs - 60_000,
    stepMs: spanMs / N,
    batchSize: 10_000,
  });
  console.log(`produced ${N} in ${produced.seconds.toFixed(1)}s (${Math.round(produced.eventsPerSec)}/s)`);
  Deno.exit(0);
}

const pg = await connectPostgres({ max: 2 });
const redis = await connectRedis();
const run = `bench_${Date.now().toString(36)}`;
const topics: string[] = [];
const topo = () =>
  defaultTopology(tumbling(60_000), {
    maxOutOfOrdernessMs: 5000,
    allowedLatenessMs: 0,
    enrich: redisDimension({ redis: redis.client, keyOf: (u) => `dim:user:${u}`, fields: { tier: "unknown" } }),
  });

// 1. Throughput over a backlog.
async function produceBacklog(name: string, spanMs: number): Promise<string> {
  const topic = `${run}_${name}`;
  topics.push(topic);
  await ensureTopic(brokers, topic, { partitions: 12 });
  // Produced by another process: the worker's heap starts clean, as a worker's would.
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--produce", topic, String(spanMs), "--events", String(N)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!child.success) throw new Error(`producing ${topic} failed`);
  console.error(`${name}: ${new TextDecoder().decode(child.stdout).trim()}`);
  return topic;
}

/**
 * Before each backlog run: the previous run's dead rows vacuumed and its writes checkpointed, so that cleanup does not
 * land on the next run (the second of two runs over one topic would otherwise pay for the first).
 */
async function settle() {
  await pg.sql.unsafe("vacuum (analyze) stream_window_state, stream_observation_log, stream_checkpoints");
  await pg.sql.unsafe("checkpoint");
}

/** One worker over the backlog in `topic`: a Processor, or a ThreadedProcessor with `threads` > 1 (its own pipeline and group). */
async function throughput(name: string, topic: string, spanMs: number, threads: number) {
  const pipeline = threads > 1 ? `${topic}_t${threads}` : topic;
  pipelines.push(pipeline);
  await settle();
  let lastCheckpoint = 0;
  let assigned = 0;
  const options = {
    brokers,
    topic,
    pipeline,
    sql: pg.sql,
    checkpointMs: 1000,
    untilDone: true,
    batchSize: 10_000,
    log: (l: string) => {
      if (l.startsWith("assigned partitions") && !assigned) assigned = performance.now();
      if (l.startsWith("done")) lastCheckpoint = performance.now();
    },
  };
  const worker = threads > 1
    ? new ThreadedProcessor({
      ...options,
      threads,
      topology: {
        url: DEFAULT_PIPELINE,
        export: "defaultPipeline",
        args: { window: tumbling(60_000), maxOutOfOrdernessMs: 5000, allowedLatenessMs: 0, enrich: true },
      },
    })
    : new Processor({ ...options, topology: topo() });
  const start = performance.now();
  const stats = await worker.run();
  // Minus the 1 s without data the worker waits before checking it is done.
  const seconds = (Math.max(lastCheckpoint, assigned) - assigned) / 1000 - 1;
  const withStart = (Math.max(lastCheckpoint, start) - start) / 1000 - 1;
  const [{ n }] = await pg
    .sql`select count(*)::int as n from stream_windows where pipeline = ${pipeline}` as unknown as [
      { n: number },
    ];
  console.error(
    `${name}, ${threads} thread(s): ${stats.events} events in ${seconds.toFixed(2)}s (${
      withStart.toFixed(2)
    }s with the worker's start), ${n} window results`,
  );
  return {
    topic,
    threads,
    events: stats.events,
    eventTimeSpanSeconds: spanMs / 1000,
    windowResults: n,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSec: Math.round(stats.events / seconds),
    secondsWithStart: Number(withStart.toFixed(2)),
    eventsPerSecWithStart: Math.round(stats.events / withStart),
    goal: 500_000,
    ratioToGoal: Number((stats.events / seconds / 500_000).toFixed(3)),
  };
}

// 1b. The peer: the same pipeline in Kafka Streams, over the same topic.
const root = projectRoot();
const libs = `${root}/.mercury/peers/kafka_streams/libs`;
let peerClasses: string | undefined;
async function kafkaStreams(topic: string, events: number) {
  if (!peerClasses) {
    await fetchJars(`${root}/bench/peers/kafka_streams/pom.xml`, libs, "Kafka Streams (the peer)");
    // The services install a Java runtime for the broker; compiling the peer needs the JDK.
    if (!(await onPath("javac"))) {
      await aptInstall(["openjdk-17-jdk-headless"], "javac (compiles the Kafka Streams peer)");
    }
    peerClasses = await Deno.makeTempDir({ prefix: "mercury-streams-peer-" });
    const javac = await new Deno.Command("javac", {
      args: ["-cp", `${libs}/*`, "-d", peerClasses, `${root}/bench/peers/kafka_streams/StreamsPeer.java`],
      stderr: "piped",
    }).output();
    if (!javac.success) {
      throw new Error(`compiling StreamsPeer.java failed:\n${new TextDecoder().decode(javac.stderr)}`);
    }
  }
  const appId = `${topic}-kstreams`;
  const stateDir = await Deno.makeTempDir({ prefix: "mercury-streams-peer-state-" });
  const out = await new Deno.Command("java", {
    args: [
      "-Xmx2g",
      "-cp",
      `${libs}/*:${peerClasses}`,
      "StreamsPeer",
      brokers.join(","),
      topic,
      appId,
      stateDir,
      "2",
      "512",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success || !line.startsWith("{")) {
    throw new Error(`Kafka Streams peer failed: ${new TextDecoder().decode(out.stderr).slice(-1500)}`);
  }
  const r = JSON.parse(line) as {
    events: number;
    aggregated: number;
    seconds: number;
    eventsPerSec: number;
    outputTopic: string;
  };
  r.outputTopic = `${topic}.peer-windows`;
  // `aggregated` counts calls of the aggregator: above `events` when a task re-processed records after an aborted
  // transaction (exactly-once v2 rolls the state back; the committed results are checked against Mercury's below).
  if (r.events !== events || r.aggregated < events) {
    throw new Error(`Kafka Streams peer saw ${r.events} events and aggregated ${r.aggregated}, expected ${events}`);
  }
  peerTopics.push(appId, `${topic}.peer-windows`);
  console.error(`${topic}: Kafka Streams ${r.events} events in ${r.seconds}s (${r.eventsPerSec}/s)`);
  return r;
}
const peerTopics: string[] = [];
const pipelines: string[] = [];

/** A peer's window result, as both peers write it (one JSON value per window). */
interface PeerWindow {
  key: string;
  start: number;
  count: number;
  sum: number;
  distinct: number;
  p50: number;
}

/**
 * A peer's committed results against the one-thread worker's `stream_windows`
 * for the same topic: every window Mercury wrote is in the peer's output with
 * the same count and sum (exact), a distinct count within 3 standard errors of
 * a 2^10-register HyperLogLog (both sides estimate; small counts are exact on
 * both) and a p50 within 4.1 % (each side's DDSketch is within 2 % of the same
 * rank). Windows only the peer wrote are the ones still open in Mercury's state
 * at the end (Flink's end of input fires every window).
 */
async function checkAgainstMercury(pipeline: string, outputTopic: string) {
  const rows = await pg.sql`select key, (extract(epoch from window_start) * 1000)::bigint as start, count::int as count,
      sum, distinct_count::int as distinct, p50 from stream_windows where pipeline = ${pipeline}` as unknown as {
    key: string;
    start: string | number;
    count: number;
    sum: number;
    distinct: number;
    p50: number;
  }[];
  const peer = new Map<string, PeerWindow>();
  for (const r of await readCommitted(brokers, outputTopic)) {
    const w = JSON.parse(r.value) as PeerWindow;
    peer.set(`${w.key}@${w.start}`, w);
  }
  const hll = 3 * 1.04 / Math.sqrt(1024);
  let missing = 0, countDiff = 0, sumDiff = 0, distinctOut = 0, p50Out = 0, exactDistinct = 0, exactP50 = 0, events = 0;
  for (const m of rows) {
    const p = peer.get(`${m.key}@${Number(m.start)}`);
    if (!p) {
      missing++;
      continue;
    }
    events += m.count;
    if (p.count !== m.count) countDiff++;
    if (Math.abs(p.sum - m.sum) > 1e-6 * Math.max(1, Math.abs(m.sum))) sumDiff++;
    if (p.distinct === m.distinct) exactDistinct++;
    else if (Math.abs(p.distinct - m.distinct) > hll * Math.max(m.distinct, p.distinct)) distinctOut++;
    if (p.p50 === m.p50) exactP50++;
    else if (Math.abs(p.p50 - m.p50) > 0.041 * Math.max(Math.abs(m.p50), Math.abs(p.p50))) p50Out++;
  }
  const check = {
    mercuryWindows: rows.length,
    peerWindows: peer.size,
    matched: rows.length - missing,
    missingInPeer: missing,
    onlyInPeer: peer.size - (rows.length - missing),
    eventsInMatched: events,
    countMismatches: countDiff,
    sumMismatches: sumDiff,
    distinctEqual: exactDistinct,
    distinctOutsideBound: distinctOut,
    p50Equal: exactP50,
    p50OutsideBound: p50Out,
    ok: missing === 0 && countDiff === 0 && sumDiff === 0 && distinctOut === 0 && p50Out === 0,
  };
  console.error(`${outputTopic} vs Mercury's ${pipeline}: ${JSON.stringify(check)}`);
  return check;
}

/** The Flink peer over `topic`, its output topic and consumer group noted for cleanup. */
async function flinkPeer(topic: string, events: number) {
  const r = await flink(topic, events, { brokers });
  peerTopics.push(r.outputTopic);
  console.error(`${topic}: Flink ${r.events} events in ${r.seconds}s (${r.eventsPerSec}/s), ${r.windows} windows`);
  return r;
}

/**
 * One backlog, processed by a one-thread worker and by a two-thread worker
 * (`--threads 2`), then by the peer; each with its ratio to the peer.
 */
async function throughputWithPeer(name: string, spanMs: number) {
  const topic = await produceBacklog(name, spanMs);
  const mercury = await throughput(name, topic, spanMs, 1);
  const twoThreads = await throughput(name, topic, spanMs, 2);
  const ratio = (r: { eventsPerSec: number }, peer: { eventsPerSec: number }) =>
    Number((r.eventsPerSec / peer.eventsPerSec).toFixed(2));
  const ks = PEER_KS ? await kafkaStreams(topic, mercury.events) : undefined;
  const ksCheck = ks ? await checkAgainstMercury(topic, ks.outputTopic) : undefined;
  const fl = PEER_FLINK ? await flinkPeer(topic, mercury.events) : undefined;
  const flCheck = fl ? await checkAgainstMercury(topic, fl.outputTopic) : undefined;
  return {
    ...mercury,
    ...(ks ? { ratioToKafkaStreams: ratio(mercury, ks) } : {}),
    ...(fl ? { ratioToFlink: ratio(mercury, fl) } : {}),
    twoThreads: {
      ...twoThreads,
      ...(ks ? { ratioToKafkaStreams: ratio(twoThreads, ks) } : {}),
      ...(fl ? { ratioToFlink: ratio(twoThreads, fl) } : {}),
    },
    ...(ks ? { kafkaStreams: { ...ks, check: ksCheck } } : {}),
    ...(fl ? { flink: { ...fl, check: flCheck } } : {}),
  };
}

// 2. Latency at steady rates.
async function latency(rate: number) {
  const topic = `${run}_lat${rate}`;
  topics.push(topic);
  await ensureTopic(brokers, topic, { partitions: 12 });
  const worker = new Processor({ brokers, topic, pipeline: topic, topology: topo(), sql: pg.sql, checkpointMs: 250 });
  const running = worker.run();
  await new Promise((r) => setTimeout(r, 2000));
  // The load comes from another process, as it would in production (one event loop per process).
  const producer = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../tasks/mercury.ts", import.meta.url).pathname,
      "stream",
      "produce",
      "--topic",
      topic,
      "--events-per-sec",
      String(rate),
      "--duration",
      `${WARMUP + SECONDS}s`,
      "--users",
      "10000",
      "--batch-size",
      String(Math.max(500, Math.round(rate / 50))),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // The first seconds warm the worker up (compiling its hot paths, first state rows): measured apart.
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const atWarm = parseHistogram(worker.registry.expose(), "mercury_stream_end_to_end_latency_seconds");
  const producerRun = await producer.output();
  const producedLine = new TextDecoder().decode(producerRun.stdout).trim();
  await new Promise((r) => setTimeout(r, 3000));
  worker.stop();
  await running;
  const exposed = worker.registry.expose();
  const all = parseHistogram(exposed, "mercury_stream_end_to_end_latency_seconds");
  const steady = new Map([...all].map(([le, n]) => [le, n - (atWarm.get(le) ?? 0)]));
  const commits = parseHistogram(exposed, "mercury_stream_commit_seconds");
  const q = (b: typeof all, p: number) => Number((bucketQuantile(b, p) ?? NaN).toFixed(3));
  const row = {
    targetRate: rate,
    achievedProduceRate: Number(/: (\d+) records\/s/.exec(producedLine)?.[1] ?? 0),
    warmupSeconds: WARMUP,
    seconds: SECONDS,
    p50: q(steady, 0.5),
    p99: q(steady, 0.99),
    goalP99: 1,
    withWarmupP50: q(all, 0.5),
    withWarmupP99: q(all, 0.99),
    commitP50: q(commits, 0.5),
    commitP99: q(commits, 0.99),
  };
  console.error(`latency at ${rate}/s: ${JSON.stringify(row)}`);
  return row;
}
// Latency first, on a fresh database: the backlog runs leave PostgreSQL vacuuming for a while.
const latencies = [];
for (const rate of RATES) latencies.push(await latency(rate));
const live = await throughputWithPeer("live", (N / EVENT_RATE) * 1000);
const catchUp = await throughputWithPeer("catchup", 3_600_000);

const result = {
  date: new Date().toISOString(),
  cores: navigator.hardwareConcurrency,
  throughput: { live, catchUp },
  latency: latencies,
};
console.log(JSON.stringify(result, null, 2));
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(new URL("./results/stream.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");

const admin = new Admin({ clientId: "bench-cleanup", bootstrapBrokers: brokers });
// Kafka Streams' internal topics (changelogs) are named after its application id.
const internal = (await admin.listTopics().catch(() => [] as string[])).filter((t) =>
  peerTopics.some((p) => t.startsWith(p))
);
await admin.deleteTopics({ topics: [...topics.flatMap((t) => [t, `${t}.dlq`]), ...internal] }).catch(() => {});
await admin.close();
for (const p of [...topics, ...pipelines]) {
  await (await PostgresSink.open(pg.sql, p)).reset();
}
if (peerClasses) await Deno.remove(peerClasses, { recursive: true }).catch(() => {});
await cleanFlinkPeer();
await pg.close();
await redis.close();
Deno.exit(0);
