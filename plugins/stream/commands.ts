/**
 * The plugin's CLI: `deno task mercury stream produce|process|verify|topics`.
 *
 * @module
 */
import type { CommandSpec } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { onSignal, untilSignal } from "@mercury/core/signal";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { redisDimension } from "./enrich.ts";
import { DEFAULT_PIPELINE, type DefaultPipelineArgs, defaultTopology } from "./default_pipeline.ts";
import { ThreadedProcessor } from "./threaded.ts";
import { ensureTopic, produceEvents } from "./produce.ts";
import { Processor } from "./processor.ts";
import { compareTotals, groundTruth, readTopic, sinkTotals } from "./verify.ts";
import { describeWindow, parseWindowSpec } from "./window.ts";
import { serveMetrics } from "./metrics_server.ts";
import { announceWorker, Dashboard } from "./dashboard.ts";
import { LagReader } from "./lag.ts";
import { kafkaSinkTotals, KafkaTransactionalSink } from "./kafka_sink.ts";
import { Autoscaler, ProcessPool } from "./autoscale.ts";
import { requestTimeoutMs, requestTimeoutOption } from "./kafka_deadline.ts";

// Option values arrive parsed by their typed specs (core's parseCommandArgs): durations in ms, ints and numbers
// range-checked, enums one of their choices; string options with a default are always there.
const n = (v: unknown): number => v as number;

const windowOptions = {
  window: {
    type: "string",
    value: "SPEC",
    description: "tumbling:1m, hopping:1m/10s or session:30s",
    default: "tumbling:1m",
  },
  "max-out-of-orderness": { type: "duration", description: "watermark bound on disorder", default: "5s" },
  "allowed-lateness": {
    type: "duration",
    description: "how long windows stay open past the watermark",
    default: "0s",
  },
  pipeline: { type: "string", value: "NAME", description: "checkpoint/result namespace (default: the topic)" },
} as const;

/** `produce`: the load generator. */
export const produceCommand: CommandSpec = {
  summary: "send generated keyed events (with disorder, late and malformed ones) to a topic",
  options: {
    topic: { type: "string", value: "NAME", description: "topic", default: "events" },
    partitions: { type: "int", min: 1, description: "partitions when creating the topic", default: 12 },
    "events-per-sec": { type: "number", min: 0, description: "target rate (0 = as fast as possible)", default: 10000 },
    duration: { type: "duration", description: "how long to produce at that rate", default: "10s" },
    count: { type: "int", min: 0, description: "send exactly N records (overrides --duration)" },
    users: { type: "int", min: 1, description: "distinct users", default: 1000 },
    disorder: { type: "duration", description: "event-time disorder", default: "2s" },
    "late-share": { type: "number", min: 0, max: 1, description: "share of late events", default: 0.001 },
    "malformed-share": { type: "number", min: 0, max: 1, description: "share of malformed records", default: 0.001 },
    compression: {
      type: "enum",
      choices: ["none", "gzip", "snappy", "lz4", "zstd"],
      description: "record batch compression",
      default: "none",
    },
    "batch-size": { type: "int", min: 1, description: "records per produce request", default: 5000 },
    retention: { type: "duration", min: 1, description: "retention.ms when creating the topic" },
    seed: { type: "int", description: "generator seed", default: 1 },
    ...requestTimeoutOption,
  },
  async run(args, ctx) {
    const v = args.values;
    const brokers = ctx.endpoints().kafka.brokers;
    const topic = v.topic as string;
    const compression = v.compression as string;
    const timeoutMs = requestTimeoutMs(v["request-timeout"]);
    const created = await ensureTopic(brokers, topic, {
      requestTimeoutMs: timeoutMs,
      partitions: n(v.partitions),
      retentionMs: v.retention === undefined ? undefined : n(v.retention),
    });
    const rate = n(v["events-per-sec"]);
    const report = await produceEvents({
      requestTimeoutMs: timeoutMs,
      brokers,
      topic,
      count: v.count === undefined ? undefined : n(v.count),
      durationSec: n(v.duration) / 1000,
      eventsPerSec: rate,
      users: n(v.users),
      disorderMs: n(v.disorder),
      lateShare: n(v["late-share"]),
      malformedShare: n(v["malformed-share"]),
      compression: compression as "none",
      batchSize: n(v["batch-size"]),
      seed: n(v.seed),
      // Event time advances with wall time at the target rate, so events look live.
      start: Date.now(),
      stepMs: rate > 0 ? 1000 / rate : 1,
    });
    ctx.print(
      `${report.sent} records to ${topic} (${created}) in ${report.seconds.toFixed(1)}s: ${
        Math.round(report.eventsPerSec)
      } records/s`,
    );
  },
};

/** `process`: a worker. */
export const processCommand: CommandSpec = {
  summary: "run a worker: windows per user, exactly-once results in PostgreSQL",
  options: {
    topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
    ...windowOptions,
    group: { type: "string", value: "ID", description: "consumer group (default mercury-stream-<pipeline>)" },
    "instance-id": { type: "string", value: "ID", description: "static group membership id (fast restarts)" },
    "processing-time": { type: "boolean", description: "window by arrival time instead of event time" },
    checkpoint: { type: "duration", min: 1, description: "checkpoint interval", default: "1s" },
    snapshot: {
      type: "duration",
      min: 1,
      description: "write the open windows this often; checkpoints in between log observations",
      default: "10s",
    },
    "until-done": { type: "boolean", description: "exit once every partition is checkpointed to the topic's end" },
    "no-enrich": { type: "boolean", description: "skip the Redis join (dim:user:<id> → tier)" },
    sink: {
      type: "enum",
      choices: ["postgres", "kafka"],
      description: "postgres (one DB transaction) or kafka (one Kafka transaction); both exactly-once",
      default: "postgres",
    },
    "output-topic": {
      type: "string",
      value: "NAME",
      description: "results topic for --sink kafka (default <pipeline>.windows)",
    },
    "metrics-port": {
      type: "int",
      min: 0,
      max: 65535,
      value: "PORT",
      description: "serve /metrics on this port (0 = any)",
    },
    threads: {
      type: "int",
      min: 1,
      description: "process the partitions on N threads, one group member (PostgreSQL sink)",
      default: 1,
    },
    ...requestTimeoutOption,
  },
  async run(args, ctx) {
    const v = args.values;
    const eps = ctx.endpoints();
    const timeoutMs = requestTimeoutMs(v["request-timeout"]);
    const topic = v.topic as string;
    const window = parseWindowSpec(v.window as string);
    const threads = n(v.threads);
    const sink = v.sink as string;
    if (threads > 1 && sink === "kafka") {
      throw new MercuryError("usage", "--threads needs --sink postgres", {
        hint: "the Kafka sink commits the group's offsets in its transactions; run more processes instead",
      });
    }
    // Closed when the command ends, also on an error.
    await using pg = await connectPostgres({ max: 2 });
    await using redis = v["no-enrich"] ? undefined : await connectRedis();
    const pipelineArgs: DefaultPipelineArgs = {
      window,
      maxOutOfOrdernessMs: n(v["max-out-of-orderness"]),
      allowedLatenessMs: n(v["allowed-lateness"]),
      processingTime: v["processing-time"] === true,
      enrich: redis !== undefined,
    };
    const pipelineName = (v.pipeline as string | undefined) || topic;
    const common = {
      requestTimeoutMs: timeoutMs,
      brokers: eps.kafka.brokers,
      topic,
      pipeline: pipelineName,
      group: (v.group as string | undefined) || undefined,
      instanceId: (v["instance-id"] as string | undefined) || undefined,
      sql: pg.sql,
      checkpointMs: n(v.checkpoint),
      snapshotMs: n(v.snapshot),
      untilDone: v["until-done"] === true,
      log: (l: string) => console.error(`[${new Date().toISOString()}] ${l}`),
    };
    const processor = threads > 1
      ? new ThreadedProcessor({
        ...common,
        threads,
        topology: { url: DEFAULT_PIPELINE, export: "defaultPipeline", args: pipelineArgs },
      })
      : new Processor({
        ...common,
        store: sink === "kafka"
          ? (pipeline) =>
            KafkaTransactionalSink.open({
              brokers: eps.kafka.brokers,
              pipeline,
              outputTopic: (v["output-topic"] as string | undefined) || undefined,
              instanceId: (v["instance-id"] as string | undefined) || undefined,
              requestTimeoutMs: timeoutMs,
            })
          : undefined,
        topology: defaultTopology(window, {
          ...pipelineArgs,
          enrich: redis
            ? redisDimension({ redis: redis.client, keyOf: (u) => `dim:user:${u}`, fields: { tier: "unknown" } })
            : undefined,
        }),
      });
    const server = v["metrics-port"] !== undefined ? serveMetrics(processor.registry, n(v["metrics-port"])) : undefined;
    if (server) console.error(`metrics on http://127.0.0.1:${server.port}/metrics`);
    // The dashboard finds workers through Redis.
    const unannounce = server && redis
      ? announceWorker(
        redis.client,
        processor.pipeline,
        (v["instance-id"] as string | undefined) || String(Deno.pid),
        `http://127.0.0.1:${server.port}/metrics`,
      )
      : undefined;
    using _stopping = onSignal(() => processor.stop());
    console.error(`processing ${topic}: ${describeWindow(window)}, pipeline ${processor.pipeline}`);
    try {
      const stats = await processor.run();
      ctx.print(JSON.stringify(stats));
    } finally {
      unannounce?.();
      await server?.shutdown();
    }
  },
};

/** `verify`: ground truth from the topic vs the sink. */
export const verifyCommand: CommandSpec = {
  summary: "recompute the windows from the topic and compare them with the sink (exit 1 on any difference)",
  options: {
    topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
    ...windowOptions,
    sink: { type: "enum", choices: ["postgres", "kafka"], description: "where the results are", default: "postgres" },
    "output-topic": { type: "string", value: "NAME", description: "results topic for --sink kafka" },
    ...requestTimeoutOption,
  },
  async run(args, ctx) {
    const v = args.values;
    const topic = v.topic as string;
    const pipeline = (v.pipeline as string | undefined) || topic;
    const window = parseWindowSpec(v.window as string);
    const brokers = ctx.endpoints().kafka.brokers;
    const timeoutMs = requestTimeoutMs(v["request-timeout"]);
    const partitions = await readTopic(brokers, topic, timeoutMs);
    const truth = groundTruth(
      partitions,
      window,
      n(v["max-out-of-orderness"]),
      n(v["allowed-lateness"]),
    );
    await using pg = (v.sink as string) === "kafka" ? undefined : await connectPostgres({ max: 1 });
    const actual = pg ? await sinkTotals(pg.sql, pipeline) : await kafkaSinkTotals(
      brokers,
      (v["output-topic"] as string | undefined) || `${pipeline}.windows`,
      `${pipeline}.state`,
      timeoutMs,
    );
    const diffs = compareTotals(truth.totals, actual);
    ctx.print(
      `${topic}: ${truth.events} events, ${truth.late} late, ${truth.malformed} malformed; ` +
        `${truth.totals.size} (user, window) pairs expected, ${actual.size} in the sink`,
    );
    for (const d of diffs) ctx.print(`  ${d}`);
    ctx.print(diffs.length ? "MISMATCH" : "exact: every window matches the ground truth");
    return diffs.length ? 1 : 0;
  },
};

/** `dashboard`: the live page. */
export const dashboardCommand: CommandSpec = {
  summary: "serve the live dashboard (throughput, lag, latency, latest windows) on a local port",
  options: {
    topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
    pipeline: { type: "string", value: "NAME", description: "pipeline (default: the topic)" },
    port: { type: "int", min: 0, max: 65535, value: "PORT", description: "HTTP port (0 = any)", default: 8090 },
    ...requestTimeoutOption,
  },
  async run(args, ctx) {
    const v = args.values;
    const topic = v.topic as string;
    const pipeline = (v.pipeline as string | undefined) || topic;
    // Closed when the command ends, also on an error.
    await using pg = await connectPostgres({ max: 2 });
    await using redis = await connectRedis();
    const lag = new LagReader(
      ctx.endpoints().kafka.brokers,
      topic,
      pipeline,
      pg.sql,
      requestTimeoutMs(v["request-timeout"]),
    );
    const dash = new Dashboard({ pipeline, topic, sql: pg.sql, redis: redis.client, lag });
    await dash.sample();
    dash.start();
    const server = Deno.serve({ hostname: "127.0.0.1", port: n(v.port), onListen: () => {} }, dash.handler());
    ctx.print(`dashboard for ${pipeline} on http://127.0.0.1:${server.addr.port}/ (Ctrl-C to stop)`);
    await untilSignal();
    dash.stop();
    await server.shutdown();
    await lag.close();
  },
};

/** `autoscale`: the controller. */
export const autoscaleCommand: CommandSpec = {
  summary: "start and stop workers between --min and --max on the pipeline's backlog",
  options: {
    topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
    ...windowOptions,
    min: { type: "int", min: 0, description: "fewest workers", default: 1 },
    max: { type: "int", min: 1, description: "most workers (capped at the partition count)", default: 4 },
    "scale-up-lag": { type: "number", min: 0, description: "scale up above this lag per worker", default: 50000 },
    "scale-down-lag": { type: "number", min: 0, description: "scale down below this lag per worker", default: 5000 },
    cooldown: { type: "duration", description: "no change within this long of the last", default: "10s" },
    duration: { type: "duration", description: "stop after this long (default: until Ctrl-C)" },
    ...requestTimeoutOption,
  },
  async run(args, ctx) {
    const v = args.values;
    const topic = v.topic as string;
    const pipeline = (v.pipeline as string | undefined) || topic;
    await using pg = await connectPostgres({ max: 1 });
    const lag = new LagReader(
      ctx.endpoints().kafka.brokers,
      topic,
      pipeline,
      pg.sql,
      requestTimeoutMs(v["request-timeout"]),
    );
    const log = (l: string) => console.error(`[${new Date().toISOString()}] ${l}`);
    const pool = new ProcessPool([
      "--topic",
      topic,
      "--pipeline",
      pipeline,
      "--window",
      v.window as string,
      "--max-out-of-orderness",
      `${n(v["max-out-of-orderness"])}ms`,
      "--allowed-lateness",
      `${n(v["allowed-lateness"])}ms`,
      "--metrics-port",
      "0",
      "--request-timeout",
      `${requestTimeoutMs(v["request-timeout"])}ms`,
    ], log);
    const scaler = new Autoscaler({
      policy: {
        min: n(v.min),
        max: n(v.max),
        scaleUpLagPerWorker: n(v["scale-up-lag"]),
        scaleDownLagPerWorker: n(v["scale-down-lag"]),
        cooldownMs: n(v.cooldown),
      },
      pool,
      lag: async () => {
        const parts = await lag.read();
        return { lag: parts.reduce((s, p) => s + p.lag, 0), partitions: parts.length };
      },
      log,
    });
    await scaler.step();
    scaler.start();
    // Until Ctrl-C or SIGTERM, or --duration.
    const timeUp = new AbortController();
    const timer = v.duration === undefined ? undefined : setTimeout(() => timeUp.abort(), n(v.duration));
    await untilSignal(undefined, { signal: timeUp.signal }).catch(() => {});
    clearTimeout(timer);
    scaler.stop();
    await pool.stopAll();
    await lag.close();
    ctx.print(JSON.stringify(scaler.decisions));
  },
};
