/**
 * `deno task mercury stream process`: a worker (options and help in ../manifest.ts).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core";
import { onSignal } from "@mercury/core/signal";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { redisDimension } from "../enrich.ts";
import { DEFAULT_PIPELINE, type DefaultPipelineArgs, defaultTopology } from "../default_pipeline.ts";
import { ThreadedProcessor } from "../threaded.ts";
import { Processor } from "../processor.ts";
import { describeWindow, parseWindowSpec } from "../window.ts";
import { serveMetrics } from "../metrics_server.ts";
import { announceWorker } from "../dashboard.ts";
import { KafkaTransactionalSink } from "../kafka_sink.ts";
import { requestTimeoutMs } from "../kafka_deadline.ts";
// Option values arrive parsed by their typed specs (core's parseCommandArgs): durations in ms, ints and numbers
// range-checked, enums one of their choices; string options with a default are always there.
const n = (v: unknown): number => v as number;

/** Runs `stream process`. */
export async function process(args: CommandArgs, ctx: CommandContext): Promise<number | void> {
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
    maxEventsPerSecond: v["max-rate"] as number | undefined,
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
}
