/**
 * `deno task mercury stream autoscale`: the controller (options and help in ../manifest.ts).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { untilSignal } from "@mercury/core/signal";
import { connectPostgres } from "@mercury/core/services/postgres";
import { LagReader } from "../lag.ts";
import { Autoscaler, ProcessPool } from "../autoscale.ts";
import { requestTimeoutMs } from "../kafka_deadline.ts";
import { projectRoot } from "@mercury/core";
// Option values arrive parsed by their typed specs (core's parseCommandArgs): durations in ms, ints and numbers
// range-checked, enums one of their choices; string options with a default are always there.
const n = (v: unknown): number => v as number;

/** Runs `stream autoscale`. */
export async function autoscale(args: CommandArgs, ctx: CommandContext): Promise<number | void> {
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
  const pool = new ProcessPool(
    [
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
      ...(v["worker-max-rate"] === undefined ? [] : ["--max-rate", String(n(v["worker-max-rate"]))]),
    ],
    log,
    { root: projectRoot(), name: `stream-${pipeline}` },
  ); // the native Prometheus scrapes the workers
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
}
