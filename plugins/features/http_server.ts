/**
 * The HTTP feature server (Deno.serve): `POST /get-online-features` (Feast's
 * path and columnar shape), `GET /health`, `GET /metrics` (Prometheus).
 *
 * @module
 */
import { CONTENT_TYPE, MercuryError } from "@mercury/core";
import type { FeatureServer, OnlineRequest } from "./online_features.ts";

/** A running HTTP server. */
export interface HttpFeatureServer {
  port: number;
  /** Stops serving. */
  close(): Promise<void>;
}

/** Extra text appended to /metrics (e.g. drift gauges read from the registry). */
export type MetricsHook = () => string;

/** The HTTP status of an error: 400 bad input, 404 unknown object, 500 otherwise. */
export function httpStatus(err: unknown): number {
  if (err instanceof MercuryError) {
    return err.code === "input" || err.code === "usage" ? 400 : err.code === "not_found" ? 404 : 500;
  }
  return 500;
}

/** The JSON body of an error. */
export function errorBody(err: unknown): { error: string; where?: string; hint?: string } {
  if (err instanceof MercuryError) return { error: err.message, where: err.where, hint: err.hint };
  return { error: (err as Error)?.message ?? String(err) };
}

/**
 * Serves a FeatureServer over HTTP.
 *
 * @example
 * ```ts ignore
 * const http = serveHttp(server, { port: 6566 });
 * // curl -d '{"features":["card_stats:amount_7d"],"entities":{"card_id":[1]}}' localhost:6566/get-online-features
 * await http.close();
 * ```
 */
export function serveHttp(
  server: FeatureServer,
  options: { port?: number; hostname?: string; extraMetrics?: MetricsHook } = {},
): HttpFeatureServer {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const ac = new AbortController();
  const s = Deno.serve({
    port: options.port ?? 6566,
    hostname: options.hostname ?? "127.0.0.1",
    signal: ac.signal,
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/health") {
      return json({ status: "ok", project: server.repo.project });
    }
    if (req.method === "GET" && url.pathname === "/metrics") {
      return new Response(server.metrics.registry.expose() + (options.extraMetrics?.() ?? ""), {
        headers: { "content-type": CONTENT_TYPE },
      });
    }
    if (
      req.method === "POST" && (url.pathname === "/get-online-features" || url.pathname === "/v1/get-online-features")
    ) {
      let body: OnlineRequest;
      try {
        body = await req.json();
      } catch (err) {
        return json({ error: `the body is not JSON: ${(err as Error).message}`, where: "body" }, 400);
      }
      try {
        return json(await server.getOnlineFeatures(body, "http"));
      } catch (err) {
        return json(errorBody(err), httpStatus(err));
      }
    }
    return json({
      error: `no route ${req.method} ${url.pathname}`,
      hint: "POST /get-online-features, GET /health, GET /metrics",
    }, 404);
  });
  return {
    port: s.addr.port,
    async close() {
      ac.abort();
      await s.finished;
    },
  };
}
