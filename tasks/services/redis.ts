/**
 * Redis from Debian's `redis-server`, on loopback port 56379, its data and log
 * under `.mercury/redis`, append-only file on.
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport } from "@mercury/core";
import { connectRedis } from "@mercury/core/services/redis";
import { aptInstall, onPath, spawnDetached, stopPid } from "./_process.ts";
import { type NativeService, servicePaths } from "./native.ts";

/** The native Redis service. */
export function redisService(state: string, port: number = DEFAULT_PORTS.redis): NativeService {
  const paths = servicePaths(state, "redis");
  const url = `redis://127.0.0.1:${port}`;
  let bin = "redis-server";
  return {
    name: "redis",
    ports: [port],
    paths,
    marker: "redis-server",
    endpoint: url,
    async install() {
      let found = await onPath("redis-server");
      if (!found) {
        await aptInstall(["redis-server"], "Redis (redis-server)");
        found = await onPath("redis-server");
      }
      bin = found ?? bin;
    },
    async start() {
      await Deno.mkdir(paths.data, { recursive: true });
      return await spawnDetached(bin, [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        paths.data,
        "--appendonly",
        "yes",
        "--save",
        "",
        "--daemonize",
        "no",
      ], paths.log);
    },
    stop: (pid) => stopPid(pid, "SIGTERM"),
    async health(timeoutMs = 3000): Promise<HealthReport> {
      try {
        const r = await connectRedis({ url, timeoutMs, ioredis: { retryStrategy: () => null } });
        try {
          return await r.health();
        } finally {
          await r.close();
        }
      } catch (err) {
        return { service: "redis", endpoint: url, ok: false, latencyMs: 0, detail: (err as Error).message };
      }
    },
  };
}
