/**
 * `deno task mercury stream verify`: ground truth from the topic vs the sink (options and help in ../manifest.ts).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { connectPostgres } from "@mercury/core/services/postgres";
import { compareTotals, groundTruth, readTopic, sinkTotals } from "../verify.ts";
import { parseWindowSpec } from "../window.ts";
import { kafkaSinkTotals } from "../kafka_sink.ts";
import { requestTimeoutMs } from "../kafka_deadline.ts";
// Option values arrive parsed by their typed specs (core's parseCommandArgs): durations in ms, ints and numbers
// range-checked, enums one of their choices; string options with a default are always there.
const n = (v: unknown): number => v as number;

/** Runs `stream verify`. */
export async function verify(args: CommandArgs, ctx: CommandContext): Promise<number | void> {
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
}
