/**
 * `/metrics` (Prometheus text format) and `/healthz` for a worker.
 *
 * @module
 */
import type { Registry } from "@mercury/core";

/** A running metrics server. */
export interface MetricsServer {
  port: number;
  shutdown(): Promise<void>;
}

/** Serves `registry` on 127.0.0.1:`port` (0 picks a free port). */
export function serveMetrics(registry: Registry, port = 0): MetricsServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/metrics") return registry.response();
    if (path === "/healthz") return new Response("ok\n");
    return new Response("not found\n", { status: 404 });
  });
  return { port: server.addr.port, shutdown: () => server.shutdown() };
}
