/**
 * Redis: connect with ioredis, check health with `PING`, quit cleanly.
 *
 * @example
 * ```ts ignore
 * import { connectRedis } from "@mercury/core/services/redis";
 *
 * const redis = await connectRedis();
 * await redis.client.set("k", "v");
 * await redis.close();
 * ```
 *
 * @module
 */
import { Redis, type RedisOptions as IORedisOptions } from "ioredis";
import { ENV_VARS, redact, resolveEndpoints } from "../config.ts";
import { type HealthReport, unreachable, withTimeout } from "./health.ts";

/** Options of {@linkcode connectRedis}. */
export interface RedisOptions {
  /** Connection URL (default: the resolved endpoint). */
  url?: string;
  /** Connect timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Extra ioredis options (e.g. `keyPrefix`). */
  ioredis?: IORedisOptions;
}

/** A connected Redis client. */
/** A connected client; `await using` closes it (`Symbol.asyncDispose` is {@linkcode RedisConnection.close}). */
export interface RedisConnection extends AsyncDisposable {
  client: Redis;
  url: string;
  /** Sends `PING` and reads the server version. */
  health(): Promise<HealthReport>;
  /** Sends `QUIT` and waits for the connection to close (dropped after 2 s). */
  close(): Promise<void>;
}

/** Connects to Redis; throws an `unavailable` MercuryError when it does not answer. */
export async function connectRedis(options: RedisOptions = {}): Promise<RedisConnection> {
  const url = options.url ?? resolveEndpoints().redis.url;
  const timeoutMs = options.timeoutMs ?? 5000;
  const endpoint = redact(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 2,
    // Reconnect a few times after a drop, then give up so callers see the error.
    retryStrategy: (times) => (times > 5 ? null : Math.min(times * 200, 1000)),
    ...options.ioredis,
  });
  client.on("error", () => {/* surfaced through the failing command */});
  try {
    await withTimeout(client.connect(), timeoutMs, "Redis connect");
    await withTimeout(client.ping(), timeoutMs, "Redis PING");
  } catch (err) {
    client.disconnect();
    throw unreachable("Redis", endpoint, ENV_VARS.redis, err);
  }
  // QUIT answers before the socket is closed: wait for "end" (at most 2 s, then drop it).
  const close = async () => {
    if (client.status === "end") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = new Promise<void>((resolve) => {
      client.once("end", () => resolve());
      timer = setTimeout(() => {
        client.disconnect();
        resolve();
      }, 2000);
    });
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
    await ended;
    clearTimeout(timer);
  };
  return {
    client,
    url,
    async health() {
      const t0 = performance.now();
      try {
        const pong = await withTimeout(client.ping(), timeoutMs, "Redis PING");
        const info = await client.info("server");
        const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
        return {
          service: "redis",
          endpoint,
          ok: pong === "PONG",
          latencyMs: performance.now() - t0,
          detail: `Redis ${version}`,
        };
      } catch (err) {
        return { service: "redis", endpoint, ok: false, latencyMs: performance.now() - t0, detail: String(err) };
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
