/**
 * `deno task mercury stream dashboard`: the live page (options and help in ../manifest.ts).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { untilSignal } from "@mercury/core/signal";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { Dashboard } from "../dashboard.ts";
import { LagReader } from "../lag.ts";
import { requestTimeoutMs } from "../kafka_deadline.ts";
// Option values arrive parsed by their typed specs (core's parseCommandArgs): durations in ms, ints and numbers
// range-checked, enums one of their choices; string options with a default are always there.
const n = (v: unknown): number => v as number;

/** Runs `stream dashboard`. */
export async function dashboard(args: CommandArgs, ctx: CommandContext): Promise<number | void> {
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
}
