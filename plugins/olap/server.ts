/**
 * The HTTP API (and the web UI it serves) over an {@linkcode Olap} engine.
 *
 * | route | what |
 * | --- | --- |
 * | `POST /query` `{sql, params, format, limit, offset, timeoutMs, noCache, queryId}` | the answer in json, ndjson, csv, parquet, arrow or xlsx |
 * | `GET /query?sql=…&format=csv&download=1` | the same as a download (export buttons) |
 * | `DELETE /queries/:id` | cancels a running query (from the address that started it, or with the token) |
 * | `POST /explain` `{sql, params, analyze}` | plan with estimates, or the real profile |
 * | `GET /tables`, `GET /tables/:name` | catalog; schema, rows, partitions, column stats |
 * | `POST /tables/:name/ingest`, `POST /tables/:name/compact` | writes (token) |
 * | `GET /rollups`, `POST /rollups`, `GET /rollups/suggest` | pre-aggregations |
 * | `POST /chart` `{sql, params, mark, x, y, color}` | a vega-lite chart of the result as SVG |
 * | `POST /timeseries/{gap-fill,asof-join,moving,sessionize,retention,funnel}` | a time-series builder over a table, answered like `/query` |
 * | `GET /log`, `GET /slow`, `GET /metrics`, `GET /health` | query log, slow log (redacted; see README), Prometheus |
 *
 * The API is a hono app ({@linkcode apiApp}); each route group lives in
 * `http/` and each body is parsed by a zod schema of `http_input.ts`.
 *
 * Errors are JSON `{error: {kind, message, position?, hint?}}` with a 4xx
 * status; the server keeps serving. Bodies are read with a byte limit (413
 * before an oversized body is read), SQL has a length limit, each route's
 * fields are checked (400 naming the field in the message and `where`), ingest reads files only under
 * the data dir and `ingestAllow`, and a missing or wrong token on a write
 * route is a 401 (compared in constant time).
 *
 * @example
 * ```ts
 * import { Olap, serve } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const olap = await Olap.open({ dataDir: dir });
 * const server = serve(olap, { port: 0 });
 * const res = await fetch(`${server.url}query`, { method: "POST", body: JSON.stringify({ sql: "select 41 + 1 as x" }) });
 * assert.deepEqual((await res.json()).rows, [[42]]);
 * const bad = await fetch(`${server.url}query`, { method: "POST", body: JSON.stringify({ sql: "select * from nope" }) });
 * assert.equal(bad.status, 404);
 * assert.equal((await bad.json()).error.kind, "unknown_table");
 * await server.shutdown();
 * await olap.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import { DEFAULT_MAX_BODY_BYTES } from "@mercury/core/http_body";
import type { Olap } from "./engine.ts";
import { classifyError, OlapError } from "./errors.ts";
import { TokenCheck } from "./access.ts";
import { MAX_SQL_CHARS } from "./http_input.ts";
import { type ApiEnv, type ApiState, authorised, json, unauthorised } from "./http/context.ts";
import { queryRoutes } from "./http/query.ts";
import { tableRoutes } from "./http/tables.ts";
import { rollupRoutes } from "./http/rollups.ts";
import { logRoutes } from "./http/logs.ts";
import { chartRoutes } from "./http/chart.ts";
import { timeSeriesRoutes } from "./http/timeseries.ts";
import { uiRoutes } from "./http/ui.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  port?: number;
  hostname?: string;
  /** Writes, DDL and ingest need `Authorization: Bearer <token>`; without a token the API is read-only. */
  token?: string;
  /** Largest request body in bytes (default 1 MiB): larger ones get a 413 before they are read. */
  maxBodyBytes?: number;
  /** Longest SQL text in characters (default 256 Ki): longer ones get a 413 `sql_too_long`. */
  maxSqlChars?: number;
  /** Directories besides the data dir that ingest may read files from (default none). */
  ingestAllow?: string[];
  /**
   * Queries one client (remote address) may have under way at once, running or with an answer not yet all
   * taken (default 8); more get a 429 with `Retry-After`.
   */
  maxQueriesPerClient?: number;
  /** Called once listening. */
  onListen?: (url: string) => void;
}

/** A running server. */
export interface OlapServer {
  url: string;
  port: number;
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

/**
 * The API as a hono app over `state`: a sent token is checked on every route (a wrong one is a 401, never a
 * silent read-only answer), then the route groups; errors become JSON with their status.
 */
export function apiApp(state: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use("*", async (c, next) => {
    if (c.req.header("authorization") !== undefined && state.tokens.configured && !authorised(state, c.req.raw)) {
      throw unauthorised();
    }
    await next();
  });
  for (const group of [uiRoutes(), logRoutes(state), queryRoutes(state), tableRoutes(state), rollupRoutes(state)]) {
    app.route("/", group);
  }
  app.route("/", chartRoutes(state));
  app.route("/", timeSeriesRoutes(state));
  app.notFound((c) => {
    const e = new OlapError(404, "not_found", `no route ${c.req.method} ${c.req.path}`, {
      hint: "see GET / for the UI, POST /query for SQL",
    });
    return json(e.toJSON(), e.status);
  });
  app.onError((err) => {
    const e = classifyError(err);
    return json(e.toJSON(), e.status);
  });
  return app;
}

/** Starts the API on `olap`. */
export function serve(olap: Olap, options: ServeOptions = {}): OlapServer {
  const state: ApiState = {
    olap,
    tokens: new TokenCheck(options.token),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxSqlChars: options.maxSqlChars ?? MAX_SQL_CHARS,
    ingestRoots: [olap.options.dataDir, ...(options.ingestAllow ?? [])],
    maxQueriesPerClient: options.maxQueriesPerClient ?? 8,
    running: new Map(),
    starters: new Map(),
    perClient: new Map(),
  };
  const app = apiApp(state);
  const server = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, (req, info) => app.fetch(req, { who: (info.remoteAddr as Deno.NetAddr).hostname }));
  const addr = server.addr as Deno.NetAddr;
  const url = `http://${addr.hostname}:${addr.port}/`;
  options.onListen?.(url);
  return {
    url,
    port: addr.port,
    finished: server.finished,
    async shutdown() {
      for (const c of state.running.values()) c.abort();
      await server.shutdown();
    },
  };
}
