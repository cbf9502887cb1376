/**
 * `deno task mercury stream produce`: the load generator (options and help in ../manifest.ts).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { ensureTopic, produceEvents } from "../produce.ts";
import { requestTimeoutMs } from "../kafka_deadline.ts";
// Option values arrive parsed by their typed specs (core's parseCommandArgs): durations in ms, ints and numbers
// range-checked, enums one of their choices; string options with a default are always there.
const n = (v: unknown): number => v as number;

/** Runs `stream produce`. */
export async function produce(args: CommandArgs, ctx: CommandContext): Promise<number | void> {
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
}
