/**
 * The HTTP feature server (Deno.serve): `POST /get-online-features` (Feast's
 * path and columnar shape), `GET /health`, `GET /metrics` (Prometheus).
 * Request bodies are read with core's `readJsonObject`: over `maxBodyBytes`
 * (default 1 MiB) is a 413 before the body is read, a body that is not a JSON
 * object a 400; every error is a JSON object and the server keeps serving.
 *
 * @module
 */
import { CONTENT_TYPE, MercuryError } from "@mercury/core";
import { BodyError, DEFAULT_MAX_BODY_BYTES, readJsonObject } from "@mercury/core/http_body";
import type { FeatureServer, OnlineRequest } from "./online_features.ts";
import { AccessError, type Caller, type TokenAuth } from "./pii.ts";

/** A running HTTP server. */
export interface HttpFeatureServer {
  port: number;
  /** Stops serving. */
  close(): Promise<void>;
}

/** Extra text appended to /metrics (e.g. drift gauges read from the registry). */
export type MetricsHook = () => string;

/**
 * The HTTP status of an error: 400 bad input, 404 unknown object, 413 a body over the limit, 503 a service down, 504
 * a service too slow, 500 otherwise.
 *
 * @example
 * ```ts
 * import { httpStatus } from "@mercury/features";
 * import { MercuryError } from "@mercury/core";
 * import assert from "node:assert/strict";
 * assert.equal(httpStatus(new MercuryError("input", "bad key")), 400);
 * assert.equal(httpStatus(new MercuryError("timeout", "Redis timed out")), 504);
 * ```
 */
export function httpStatus(err: unknown): number {
  if (err instanceof BodyError) return err.status;
  if (err instanceof AccessError) return err.status;
  if (err instanceof MercuryError) {
    switch (err.code) {
      case "input":
      case "usage":
        return 400;
      case "not_found":
        return 404;
      case "unavailable":
        return 503;
      case "timeout":
        return 504;
    }
  }
  return 500;
}

/** The JSON body of an error. */
export function errorBody(err: unknown): { error: string; where?: string; hint?: string } {
  if (err instanceof MercuryError) return { error: err.message, where: err.where, hint: err.hint };
  if (err instanceof BodyError) {
    const hint = err.kind === "body_too_large"
      ? "split the lookup into smaller requests, or start the server with a larger --max-body-bytes"
      : 'send a JSON object: { "featureService": …, "entities": { <join key>: [values…] } }';
    return { error: err.message, where: "body", hint };
  }
  return { error: (err as Error)?.message ?? String(err) };
}

/** Options of {@linkcode serveHttp}. */
export interface ServeHttpOptions {
  /** Port (default 6566; 0 picks a free one). */
  port?: number;
  hostname?: string;
  extraMetrics?: MetricsHook;
  /** The largest request body accepted, in bytes (default 1 MiB); a larger one is answered 413. */
  maxBodyBytes?: number;
  /**
   * Bearer tokens (`Authorization: Bearer …`): PII features are served only to a caller whose token carries their
   * scope. Without it every request is anonymous (PII features are refused).
   */
  auth?: TokenAuth;
  /** Serves `POST /training-set` (see `trainingSetHandler`); without it the route is a 404. */
  trainingSet?: (
    body: Record<string, unknown>,
    caller?: Caller,
  ) => Promise<{ bytes: Uint8Array<ArrayBuffer>; contentType: string }>;
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
  options: ServeHttpOptions = {},
): HttpFeatureServer {
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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
      try {
        const caller = await options.auth?.authenticate(req.headers.get("authorization"));
        const body = await readJsonObject(req, { maxBytes });
        return json(await server.getOnlineFeatures(body as unknown as OnlineRequest, "http", caller));
      } catch (err) {
        return json(errorBody(err), httpStatus(err));
      }
    }
    if (req.method === "POST" && url.pathname === "/training-set" && options.trainingSet) {
      try {
        const caller = await options.auth?.authenticate(req.headers.get("authorization"));
        const body = await readJsonObject(req, { maxBytes });
        const file = await options.trainingSet(body, caller);
        return new Response(file.bytes, { headers: { "content-type": file.contentType } });
      } catch (err) {
        return json(errorBody(err), httpStatus(err));
      }
    }
    return json({
      error: `no route ${req.method} ${url.pathname}`,
      hint: `POST /get-online-features${options.trainingSet ? ", POST /training-set" : ""}, GET /health, GET /metrics`,
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
