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
 * | `GET /log`, `GET /slow`, `GET /metrics`, `GET /health` | query log, slow log (redacted; see README), Prometheus |
 *
 * Errors are JSON `{error: {kind, message, position?, hint?}}` with a 4xx
 * status; the server keeps serving. Bodies are read with a byte limit (413
 * before an oversized body is read), SQL has a length limit, each route's
 * fields are checked (400 naming the field), ingest reads files only under
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
import { chartSvg } from "@mercury/core/display";
import { DEFAULT_MAX_BODY_BYTES, readJsonObject } from "@mercury/core/http_body";
import type { TopLevelSpec } from "vega-lite";
import type { LogEntry, Olap, QueryOptions } from "./engine.ts";
import { classifyError, OlapError } from "./errors.ts";
import { EXTENSIONS, parseFormat } from "./formats.ts";
import type { Params } from "./executor.ts";
import { parseSource, sandboxSource } from "./sources.ts";
import { TokenCheck } from "./access.ts";
import {
  chartRequest,
  checkSqlLength,
  explainRequest,
  ingestRequest,
  MAX_SQL_CHARS,
  rollupRequest,
} from "./http_input.ts";

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

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? Number(v) : v)), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** A JSON object body of at most `maxBytes` (413 before reading more, 400 for anything but an object). */
async function body(req: Request, maxBytes: number): Promise<Record<string, unknown>> {
  return await readJsonObject(req, {
    maxBytes,
    hint: `send a JSON object of at most ${maxBytes} bytes, e.g. {"sql": "select …", "format": "json"}`,
  });
}

/** Reads the first chunk so errors found while computing it become a proper 4xx answer. */
async function primed(stream: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const first = await reader.read();
  let sentFirst = false;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (!sentFirst) {
        sentFirst = true;
        if (first.done) return ctl.close();
        ctl.enqueue(first.value);
        return;
      }
      try {
        const { value, done } = await reader.read();
        if (done) ctl.close();
        else ctl.enqueue(value);
      } catch (err) {
        ctl.error(err);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

let UI_HTML: string | undefined;
async function ui(): Promise<string> {
  UI_HTML ??= await Deno.readTextFile(new URL("./ui/index.html", import.meta.url));
  return UI_HTML;
}

/** Starts the API on `olap`. */
export function serve(olap: Olap, options: ServeOptions = {}): OlapServer {
  const running = new Map<string, AbortController>();
  /** The remote address that started each running query (it, or a token holder, may cancel it). */
  const starters = new Map<string, string>();
  const tokens = new TokenCheck(options.token);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxSql = options.maxSqlChars ?? MAX_SQL_CHARS;
  const ingestRoots = [olap.options.dataDir, ...(options.ingestAllow ?? [])];
  const authorised = (req: Request) => tokens.matches(req.headers.get("authorization"));
  const unauthorised = () =>
    new OlapError(401, "unauthorised", "missing or wrong token", { hint: "send Authorization: Bearer <token>" });
  const requireToken = (req: Request) => {
    if (authorised(req)) return;
    if (tokens.configured) throw unauthorised();
    throw new OlapError(403, "read_only", "the API is read-only", {
      hint: "start the server with a token (--token-file, MERCURY_OLAP_TOKEN) to allow writes",
    });
  };
  /** Runs a query for `who`; with a token configured, a write without it is a 401 like every other write route. */
  const startQuery = async (req: Request, q: Record<string, unknown>, who: string): Promise<Response> => {
    if (typeof q.sql === "string") checkSqlLength(q.sql, maxSql);
    const id = typeof q.queryId === "string" && q.queryId ? q.queryId : undefined;
    if (id && running.has(id)) {
      throw new OlapError(409, "query_id_in_use", `a query "${id.slice(0, 80)}" is already running`, {
        hint: "use a fresh queryId for each query",
      });
    }
    if (id) starters.set(id, who);
    try {
      return await runQuery(req, q, who);
    } catch (err) {
      if (err instanceof OlapError && err.kind === "read_only" && tokens.configured) throw unauthorised();
      throw err;
    } finally {
      if (id) starters.delete(id);
    }
  };

  /** Queries under way per remote address (see `maxQueriesPerClient`). */
  const perClient = new Map<string, number>();
  const maxPerClient = options.maxQueriesPerClient ?? 8;

  async function runQuery(req: Request, q: Record<string, unknown>, who: string): Promise<Response> {
    const t0 = performance.now();
    const underWay = perClient.get(who) ?? 0;
    if (underWay >= maxPerClient) {
      const e = new OlapError(429, "too_many_queries", `${underWay} queries from ${who} are under way`, {
        hint: `at most ${maxPerClient} at once per client: read the answers you asked for, then retry`,
      });
      return json(e.toJSON(), 429, { "retry-after": "1" });
    }
    const format = parseFormat(q.format);
    if (typeof q.sql !== "string") {
      throw new OlapError(400, "bad_request", "sql must be a string", { hint: 'send {"sql": "select …"}' });
    }
    const params = q.params as Params | undefined;
    if (params !== undefined && (params === null || typeof params !== "object")) {
      throw new OlapError(400, "bad_params", "params must be a list or an object");
    }
    // Cancellation: DELETE /queries/:queryId interrupts the query; a client that goes away before the answer is
    // ready aborts request.signal, which interrupts it too (watched only until then: under Deno's legacy abort
    // semantics the signal also fires after every successful response); once the answer streams, a client that
    // goes away cancels the body stream, which stops it.
    const ctl = new AbortController();
    const num = (v: unknown, name: string) => {
      if (v === undefined || v === null || v === "") return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) {
        throw new OlapError(400, "bad_request", `${name} must be a non-negative number`);
      }
      return n;
    };
    const opts: QueryOptions = {
      params,
      format,
      limit: num(q.limit, "limit"),
      offset: num(q.offset, "offset"),
      timeoutMs: num(q.timeoutMs, "timeoutMs"),
      noCache: q.noCache === true || q.noCache === "1",
      signal: ctl.signal,
      allowWrites: authorised(req),
    };
    // Watched and registered only once the request is valid: everything after this is undone in `finally`.
    const gone = () => ctl.abort();
    req.signal.addEventListener("abort", gone, { once: true });
    const id = typeof q.queryId === "string" ? q.queryId : undefined;
    if (id) running.set(id, ctl);
    perClient.set(who, (perClient.get(who) ?? 0) + 1);
    let counted = true;
    let handedOver = false;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const n = (perClient.get(who) ?? 1) - 1;
      if (n > 0) perClient.set(who, n);
      else perClient.delete(who);
    };
    try {
      const a = await olap.query(q.sql, opts);
      const headers: Record<string, string> = {
        "content-type": a.contentType,
        "x-olap-cache": a.cache,
        "x-olap-ms": (performance.now() - t0).toFixed(2),
      };
      if (a.rollup) headers["x-olap-rollup"] = a.rollup;
      if (q.download) headers["content-disposition"] = `attachment; filename="result.${EXTENSIONS[format]}"`;
      const b = a.body instanceof Uint8Array ? a.body : await primed(a.body);
      // A streamed answer counts against its client until it is over (all read, failed, cancelled or dropped).
      if (a.ended) {
        handedOver = true;
        a.ended.then(uncount, uncount);
      }
      return new Response(b as BodyInit, { headers });
    } finally {
      if (!handedOver) uncount();
      req.signal.removeEventListener("abort", gone);
      if (id) running.delete(id);
    }
  }

  async function handle(req: Request, who: string): Promise<Response> {
    const url = new URL(req.url);
    // A token that is sent is checked on every route: a wrong one is a 401, never a silent read-only answer.
    if (req.headers.has("authorization") && tokens.configured && !authorised(req)) throw unauthorised();
    const path = url.pathname;
    const m = req.method;
    if (m === "GET" && (path === "/" || path === "/ui")) {
      return new Response(await ui(), { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (path === "/health") return json({ ok: true, tables: (await olap.tables()).length });
    if (path === "/metrics") return olap.metricsResponse();
    if (path === "/query" && m === "POST") return await startQuery(req, await body(req, maxBody), who);
    if (path === "/query" && m === "GET") {
      const q: Record<string, unknown> = Object.fromEntries(url.searchParams);
      if (typeof q.params === "string") {
        try {
          q.params = JSON.parse(q.params as string);
        } catch {
          throw new OlapError(400, "bad_params", "the params query parameter is not JSON", {
            hint: 'e.g. params=["eu",10]',
          });
        }
      }
      return await startQuery(req, q, who);
    }
    const cancel = /^\/queries\/([^/]+)$/.exec(path);
    if (cancel && m === "DELETE") {
      const id = decodeURIComponent(cancel[1]!);
      const ctl = running.get(id);
      if (!ctl) throw new OlapError(404, "unknown_query", `no running query "${cancel[1]}"`);
      if (starters.get(id) !== who && !authorised(req)) {
        throw new OlapError(403, "not_your_query", `query "${cancel[1]}" was started by another client`, {
          hint: "only the address that started a query, or a token holder, may cancel it",
        });
      }
      ctl.abort();
      return json({ cancelled: cancel[1] });
    }
    if (path === "/explain" && m === "POST") {
      const { sql, ...opts } = explainRequest(await body(req, maxBody), maxSql);
      return json(await olap.explain(sql, opts));
    }
    if (path === "/tables" && m === "GET") return json({ tables: await olap.tables() });
    const t = /^\/tables\/([a-z_][a-z0-9_]*)(\/(ingest|compact))?$/.exec(path);
    if (t && m === "GET" && !t[2]) return json(await olap.describe(t[1]!));
    if (t && m === "POST" && t[3] === "ingest") {
      requireToken(req);
      const q = ingestRequest(await body(req, maxBody));
      const source = await sandboxSource(parseSource(q.source, q.format), ingestRoots);
      return json(await olap.ingest(t[1]!, source, q.options));
    }
    if (t && m === "POST" && t[3] === "compact") {
      requireToken(req);
      return json(await olap.compact(t[1]!));
    }
    if (path === "/rollups" && m === "GET") return json({ rollups: await olap.rollups() });
    if (path === "/rollups" && m === "POST") {
      requireToken(req);
      return json(await olap.declareRollup(rollupRequest(await body(req, maxBody))));
    }
    if (path === "/rollups/suggest" && m === "GET") {
      const min = Number(url.searchParams.get("min") ?? 2);
      if (!Number.isInteger(min) || min < 1) {
        throw new OlapError(400, "bad_request", "min must be a positive integer", { where: "min" });
      }
      return json({ suggestions: await olap.suggestRollups(min) });
    }
    // Statements of token holders, and writes, are for token holders; literals are redacted by the engine.
    const visible = (req: Request) => {
      if (authorised(req)) return () => true;
      return (e: LogEntry) => e.kind === "select" && !e.token;
    };
    if (path === "/log") return json({ queries: olap.log.filter(visible(req)).slice(-200).reverse() });
    if (path === "/slow") {
      return json({ slowMs: olap.options.slowMs, queries: olap.slowLog.filter(visible(req)).reverse() });
    }
    if (path === "/chart" && m === "POST") {
      const q = chartRequest(await body(req, maxBody), maxSql);
      const rows = await olap.rows(q.sql, q.params, { limit: 5000 });
      const enc = (f: unknown, t: string) => (typeof f === "string" && f ? { field: f, type: t } : undefined);
      const sample = rows[0] ?? {};
      const typeOf = (f: unknown) =>
        typeof f !== "string"
          ? "nominal"
          : typeof sample[f] === "number"
          ? "quantitative"
          : typeof sample[f] === "string" && /^\d{4}-\d\d-\d\d/.test(sample[f] as string)
          ? "temporal"
          : "nominal";
      const spec = {
        width: Math.min(1600, Math.max(200, Number(q.width) || 560)),
        height: 280,
        data: { values: rows },
        mark: { type: q.mark, tooltip: true },
        encoding: {
          x: enc(q.x, typeOf(q.x)),
          y: enc(q.y, typeOf(q.y)),
          ...(q.color ? { color: enc(q.color, typeOf(q.color)) } : {}),
        },
      } as unknown as TopLevelSpec;
      return new Response(await chartSvg(spec), { headers: { "content-type": "image/svg+xml" } });
    }
    throw new OlapError(404, "not_found", `no route ${m} ${path}`, {
      hint: "see GET / for the UI, POST /query for SQL",
    });
  }

  const server = Deno.serve({
    port: options.port ?? 8000,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, async (req, info) => {
    try {
      return await handle(req, (info.remoteAddr as Deno.NetAddr).hostname);
    } catch (err) {
      const e = classifyError(err);
      return json(e.toJSON(), e.status);
    }
  });
  const addr = server.addr as Deno.NetAddr;
  const url = `http://${addr.hostname}:${addr.port}/`;
  options.onListen?.(url);
  return {
    url,
    port: addr.port,
    finished: server.finished,
    async shutdown() {
      for (const c of running.values()) c.abort();
      await server.shutdown();
    },
  };
}
