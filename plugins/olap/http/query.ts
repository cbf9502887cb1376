/**
 * Query routes: `POST /query`, `GET /query` (downloads), `DELETE /queries/:id`
 * and `POST /explain`. A client may have `maxQueriesPerClient` queries under
 * way (running, or with an answer not yet all taken); more get a 429. A query
 * with a `queryId` may be cancelled by the address that started it or by a
 * token holder.
 *
 * @module
 */
import { Hono } from "hono";
import type { QueryOptions } from "../engine.ts";
import { OlapError } from "../errors.ts";
import { EXTENSIONS, parseFormat } from "../formats.ts";
import { checkSqlLength, explainBody, parseInput, queryBody } from "../http_input.ts";
import { jsonBody } from "./body.ts";
import { type ApiEnv, type ApiState, authorised, json, unauthorised } from "./context.ts";
import type { z } from "zod";

type QueryRequest = z.output<typeof queryBody>;

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

/** The query routes over `s`. */
export function queryRoutes(s: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  async function runQuery(req: Request, q: QueryRequest, who: string): Promise<Response> {
    const t0 = performance.now();
    const underWay = s.perClient.get(who) ?? 0;
    if (underWay >= s.maxQueriesPerClient) {
      const e = new OlapError(429, "too_many_queries", `${underWay} queries from ${who} are under way`, {
        hint: `at most ${s.maxQueriesPerClient} at once per client: read the answers you asked for, then retry`,
      });
      return json(e.toJSON(), 429, { "retry-after": "1" });
    }
    const format = parseFormat(q.format);
    // Cancellation: DELETE /queries/:queryId interrupts the query; a client that goes away before the answer is
    // ready aborts request.signal, which interrupts it too (watched only until then: under Deno's legacy abort
    // semantics the signal also fires after every successful response); once the answer streams, a client that
    // goes away cancels the body stream, which stops it.
    const ctl = new AbortController();
    const opts: QueryOptions = {
      params: q.params,
      format,
      limit: q.limit,
      offset: q.offset,
      timeoutMs: q.timeoutMs,
      noCache: q.noCache,
      signal: ctl.signal,
      allowWrites: authorised(s, req),
    };
    // Watched and registered only once the request is valid: everything after this is undone in `finally`.
    const gone = () => ctl.abort();
    req.signal.addEventListener("abort", gone, { once: true });
    const id = q.queryId || undefined;
    if (id) s.running.set(id, ctl);
    s.perClient.set(who, (s.perClient.get(who) ?? 0) + 1);
    let counted = true;
    let handedOver = false;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const n = (s.perClient.get(who) ?? 1) - 1;
      if (n > 0) s.perClient.set(who, n);
      else s.perClient.delete(who);
    };
    try {
      const a = await s.olap.query(q.sql, opts);
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
      if (id) s.running.delete(id);
    }
  }

  /** Runs a query for `who`; with a token configured, a write without it is a 401 like every other write route. */
  async function startQuery(req: Request, q: QueryRequest, who: string): Promise<Response> {
    checkSqlLength(q.sql, s.maxSqlChars);
    const id = q.queryId || undefined;
    if (id && s.running.has(id)) {
      throw new OlapError(409, "query_id_in_use", `a query "${id.slice(0, 80)}" is already running`, {
        hint: "use a fresh queryId for each query",
      });
    }
    if (id) s.starters.set(id, who);
    try {
      return await runQuery(req, q, who);
    } catch (err) {
      if (err instanceof OlapError && err.kind === "read_only" && s.tokens.configured) throw unauthorised();
      throw err;
    } finally {
      if (id) s.starters.delete(id);
    }
  }

  app.post("/query", jsonBody(s, queryBody), (c) => startQuery(c.req.raw, c.get("body"), c.env.who));
  app.get("/query", (c) => {
    const q: Record<string, unknown> = c.req.query();
    if (typeof q.params === "string") {
      try {
        q.params = JSON.parse(q.params);
      } catch {
        throw new OlapError(400, "bad_params", "the params query parameter is not JSON", {
          hint: 'e.g. params=["eu",10]',
          where: "params",
        });
      }
    }
    return startQuery(c.req.raw, parseInput(queryBody, q), c.env.who);
  });
  app.delete("/queries/:id", (c) => {
    const id = c.req.param("id");
    const ctl = s.running.get(id);
    if (!ctl) throw new OlapError(404, "unknown_query", `no running query "${id}"`);
    if (s.starters.get(id) !== c.env.who && !authorised(s, c.req.raw)) {
      throw new OlapError(403, "not_your_query", `query "${id}" was started by another client`, {
        hint: "only the address that started a query, or a token holder, may cancel it",
      });
    }
    ctl.abort();
    return json({ cancelled: id });
  });
  app.post("/explain", jsonBody(s, explainBody), async (c) => {
    const { sql, ...opts } = c.get("body");
    checkSqlLength(sql, s.maxSqlChars);
    return json(await s.olap.explain(sql, opts));
  });
  return app;
}
