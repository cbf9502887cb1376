/**
 * The HTTP API (and the web UI it serves) over an {@linkcode Olap} engine.
 *
 * | route | what |
 * | --- | --- |
 * | `POST /query` `{sql, params, format, limit, offset, timeoutMs, noCache, queryId}` | the answer in json, ndjson, csv, parquet, arrow or xlsx |
 * | `GET /query?sql=…&format=csv&download=1` | the same as a download (export buttons) |
 * | `DELETE /queries/:id` | cancels a running query started with that `queryId` |
 * | `POST /explain` `{sql, params, analyze}` | plan with estimates, or the real profile |
 * | `GET /tables`, `GET /tables/:name` | catalog; schema, rows, partitions, column stats |
 * | `POST /tables/:name/ingest`, `POST /tables/:name/compact` | writes (token) |
 * | `GET /rollups`, `POST /rollups`, `GET /rollups/suggest` | pre-aggregations |
 * | `POST /chart` `{sql, params, mark, x, y, color}` | a vega-lite chart of the result as SVG |
 * | `GET /log`, `GET /slow`, `GET /metrics`, `GET /health` | query log, slow log, Prometheus |
 *
 * Errors are JSON `{error: {kind, message, position?, hint?}}` with a 4xx
 * status; the server keeps serving.
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
import type { TopLevelSpec } from "vega-lite";
import type { Olap, QueryOptions } from "./engine.ts";
import { classifyError, OlapError } from "./errors.ts";
import { EXTENSIONS, parseFormat } from "./formats.ts";
import type { Params } from "./executor.ts";
import { parseSource } from "./sources.ts";
import type { RollupSpec } from "./rollups.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  port?: number;
  hostname?: string;
  /** Writes, DDL and ingest need `Authorization: Bearer <token>`; without a token the API is read-only. */
  token?: string;
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

async function body(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (err) {
    throw new OlapError(400, "bad_json", `request body is not a JSON object: ${(err as Error).message}`, {
      hint: 'send {"sql": "select …", "format": "json"}',
    });
  }
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
  const authorised = (req: Request) =>
    options.token !== undefined && req.headers.get("authorization") === `Bearer ${options.token}`;
  const requireToken = (req: Request) => {
    if (!authorised(req)) {
      throw new OlapError(
        options.token ? 401 : 403,
        "read_only",
        options.token ? "missing or wrong token" : "the API is read-only",
        {
          hint: options.token ? "send Authorization: Bearer <token>" : "start the server with --token to allow writes",
        },
      );
    }
  };

  async function runQuery(req: Request, q: Record<string, unknown>): Promise<Response> {
    const t0 = performance.now();
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
    const gone = () => ctl.abort();
    req.signal.addEventListener("abort", gone, { once: true });
    const id = typeof q.queryId === "string" ? q.queryId : undefined;
    if (id) running.set(id, ctl);
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
      return new Response(b as BodyInit, { headers });
    } finally {
      req.signal.removeEventListener("abort", gone);
      if (id) running.delete(id);
    }
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    const m = req.method;
    if (m === "GET" && (path === "/" || path === "/ui")) {
      return new Response(await ui(), { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (path === "/health") return json({ ok: true, tables: (await olap.tables()).length });
    if (path === "/metrics") return olap.metricsResponse();
    if (path === "/query" && m === "POST") return await runQuery(req, await body(req));
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
      return await runQuery(req, q);
    }
    const cancel = /^\/queries\/([^/]+)$/.exec(path);
    if (cancel && m === "DELETE") {
      const ctl = running.get(decodeURIComponent(cancel[1]!));
      if (!ctl) throw new OlapError(404, "unknown_query", `no running query "${cancel[1]}"`);
      ctl.abort();
      return json({ cancelled: cancel[1] });
    }
    if (path === "/explain" && m === "POST") {
      const q = await body(req);
      if (typeof q.sql !== "string") throw new OlapError(400, "bad_request", "sql must be a string");
      const ex = await olap.explain(q.sql, {
        analyze: q.analyze === true,
        params: q.params as Params | undefined,
        timeoutMs: typeof q.timeoutMs === "number" ? q.timeoutMs : undefined,
      });
      return json(ex);
    }
    if (path === "/tables" && m === "GET") return json({ tables: await olap.tables() });
    const t = /^\/tables\/([a-z_][a-z0-9_]*)(\/(ingest|compact))?$/.exec(path);
    if (t && m === "GET" && !t[2]) return json(await olap.describe(t[1]!));
    if (t && m === "POST" && t[3] === "ingest") {
      requireToken(req);
      const q = await body(req);
      if (typeof q.source !== "string") {
        throw new OlapError(400, "bad_request", "source must be a path or postgres:schema.table");
      }
      const meta = await olap.ingest(t[1]!, parseSource(q.source, q.format as string | undefined), {
        partitionBy: q.partitionBy as string | undefined,
        sortBy: q.sortBy as string[] | undefined,
        mode: q.mode as "replace" | "append" | undefined,
        storage: q.storage as "parquet" | "duckdb" | undefined,
      });
      return json(meta);
    }
    if (t && m === "POST" && t[3] === "compact") {
      requireToken(req);
      return json(await olap.compact(t[1]!));
    }
    if (path === "/rollups" && m === "GET") return json({ rollups: await olap.rollups() });
    if (path === "/rollups" && m === "POST") {
      requireToken(req);
      return json(await olap.declareRollup((await body(req)) as unknown as RollupSpec));
    }
    if (path === "/rollups/suggest" && m === "GET") {
      return json({ suggestions: await olap.suggestRollups(Number(url.searchParams.get("min") ?? 2)) });
    }
    if (path === "/log") return json({ queries: olap.log.slice(-200).reverse() });
    if (path === "/slow") return json({ slowMs: olap.options.slowMs, queries: olap.slowLog.slice().reverse() });
    if (path === "/chart" && m === "POST") {
      const q = await body(req);
      const rows = await olap.rows(String(q.sql), q.params as Params | undefined, { limit: 5000 });
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
        mark: { type: String(q.mark ?? "bar"), tooltip: true },
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
  }, async (req) => {
    try {
      return await handle(req);
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
