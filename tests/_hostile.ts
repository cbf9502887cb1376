/**
 * A shared hostile-input suite for every HTTP server of the project (the hono
 * pattern: one suite, many implementations). A server's test describes how to
 * start it and which routes to use; the suite then checks what a careless or
 * hostile client must get:
 *
 * - a body over the server's limit → 413 with a JSON error, without the server
 *   reading a huge body first (a `content-length` far over the limit is
 *   answered at once);
 * - malformed or non-object JSON → 400 with a JSON error;
 * - a body with one hostile field (unknown, of another type, a nested object in a list, a huge, negative or
 *   past-double number) → a 4xx JSON error naming the field, for each route listed in `fields`;
 * - clients that never finish sending a request, or never read a large answer,
 *   do not starve another client's cheap request;
 * - with a silent upstream (a peer that accepts TCP and never answers), a
 *   request that needs it gets a 5xx JSON error within a bound instead of
 *   hanging.
 *
 * Servers read bodies with `readJsonObject` / `readBody` from
 * `@mercury/core/http_body` (one limit and one error shape: a `BodyError`
 * with status 413 or 400), rather than a copy of their own.
 *
 * @example
 * ```ts ignore
 * Deno.test("olap server survives hostile clients", async (t) => {
 *   await hostileHttpSuite(t, {
 *     name: "olap",
 *     start: async () => { const s = serve(olap, { port: 0 }); return { url: s.url, close: () => s.shutdown() }; },
 *     json: { path: "query" },
 *     maxBodyBytes: 1 << 20,
 *     probe: { path: "health" },
 *     large: { path: "query", body: JSON.stringify({ sql: "select * from range(5000000)" }) },
 *   });
 * });
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadBound } from "./_helpers.ts";

/** A request the suite sends; `path` is relative to the server's base URL (no leading slash). */
export interface HostileRequest {
  path: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** A running server under test. */
export interface RunningServer {
  /** Base URL ending in "/". */
  url: string;
  close(): Promise<void>;
}

/** How to start and probe one server. */
export interface HostileTarget {
  name: string;
  start(): Promise<RunningServer>;
  /**
   * A route that takes a JSON object body (POST unless `method` says otherwise). A server with only GET routes (a
   * metrics endpoint, a dashboard) leaves it out and skips the body cases.
   */
  json?: HostileRequest;
  /** The server's request-body limit in bytes (needed with `json`). */
  maxBodyBytes?: number;
  /** A cheap request that must keep answering (status < 500) while hostile clients hold connections. */
  probe: HostileRequest;
  /** A request whose answer is large (megabytes), for clients that never read it. */
  large?: HostileRequest;
  /** Headers every request of the suite carries (e.g. an authorization token). */
  headers?: Record<string, string>;
  /** How many hostile clients to open at once (default 12). */
  clients?: number;
  /** How long the probe may take while hostile clients are connected (default 5000 ms). */
  probeWithinMs?: number;
  /**
   * Routes with typed body fields. For each, the suite sends `valid` (must answer 2xx), then `valid` with one field
   * made hostile at a time (an unknown field added; each field of another JSON type; each list holding a nested
   * object; each number huge, negative, and past a double's range as raw JSON text), then the route's own `cases`:
   * every one must get a 4xx JSON error whose text names the field, and the server must keep serving.
   */
  fields?: FieldRoute[];
  /** A server started against a silent upstream, and a request that needs the upstream. */
  upstream?: {
    start(silentPeer: string): Promise<RunningServer>;
    request: HostileRequest;
    /** The bound on the answer (default 15000 ms). */
    withinMs?: number;
  };
}

/** A route whose body fields the suite attacks one at a time (see {@linkcode HostileTarget.fields}). */
export interface FieldRoute {
  /** Relative to the server's base URL; POSTed. */
  path: string;
  /** A body the route accepts with a 2xx. */
  valid: Record<string, unknown>;
  /** More hostile bodies (an object, or raw JSON text), each refused with a 4xx whose text names `field`. */
  cases?: { name: string; body: Record<string, unknown> | string; field: string }[];
}

/** The hostile variants of `valid`, one field at a time: [what, raw JSON body, the field the answer must name]. */
export function fieldVariants(valid: Record<string, unknown>): [string, string, string][] {
  const out: [string, string, string][] = [];
  const put = (k: string, v: unknown) => JSON.stringify({ ...valid, [k]: v });
  out.push(["an unknown field", put("hostile_unknown_field", 1), "hostile_unknown_field"]);
  for (const [k, v] of Object.entries(valid)) {
    const other = typeof v === "string"
      ? 12345
      : typeof v === "number"
      ? "12345x"
      : typeof v === "boolean"
      ? "yes"
      : Array.isArray(v)
      ? { hostile: 1 }
      : "not an object";
    out.push([`${k} of another type (${JSON.stringify(other)})`, put(k, other), k]);
    if (Array.isArray(v)) out.push([`${k} holding a nested object`, put(k, [{ deep: [[1]] }]), k]);
    if (typeof v === "number") {
      out.push([`${k} huge (1e308)`, put(k, 1e308), k]);
      out.push([`${k} negative`, put(k, -1), k]);
      out.push([`${k} past a double (1e400)`, put(k, "__HOSTILE_INF__").replace('"__HOSTILE_INF__"', "1e400"), k]);
    }
  }
  return out;
}

/** Posts every hostile variant of each route's body: each gets a 4xx JSON error naming its field. */
async function fieldCases(
  t: Deno.TestContext,
  target: HostileTarget,
  base: string,
  headers: Record<string, string>,
): Promise<void> {
  for (const route of target.fields ?? []) {
    await t.step(`${target.name}: POST /${route.path} refuses each hostile field with a 4xx naming it`, async () => {
      const ok = await send(base, { path: route.path, body: JSON.stringify(route.valid) }, headers);
      const okText = ok.status < 300 ? "" : await ok.text();
      await ok.body?.cancel();
      assert.ok(ok.status >= 200 && ok.status < 300, `the valid body got ${ok.status}: ${okText.slice(0, 200)}`);
      const cases: [string, string, string][] = [
        ...fieldVariants(route.valid),
        ...(route.cases ?? []).map((c): [string, string, string] => [
          c.name,
          typeof c.body === "string" ? c.body : JSON.stringify(c.body),
          c.field,
        ]),
      ];
      for (const [what, body, field] of cases) {
        const res = await send(base, { path: route.path, body }, headers);
        const text = await res.text();
        const say = `${route.path}, ${what}: got ${res.status}: ${text.slice(0, 300)}`;
        assert.ok(res.status >= 400 && res.status < 500, say);
        assert.doesNotThrow(() => JSON.parse(text), `${say} (not JSON)`);
        assert.ok(text.includes(field), `${say} (does not name ${field})`);
      }
      await probeWithin(base, target, target.probeWithinMs ?? 5000, `after the hostile fields of /${route.path}`);
    });
  }
}

/**
 * A TCP peer on a free port that accepts connections and never answers: `host:port`, and a function that closes it.
 * `onConnection` makes it misbehave otherwise (close at once, answer garbage); connections stay open until `close()`.
 */
export function silentPeer(
  onConnection?: (conn: Deno.Conn) => void,
): { address: string; port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const c of listener) {
        conns.push(c);
        onConnection?.(c);
      }
    } catch { /* closed */ }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    close() {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      try {
        listener.close();
      } catch { /* already closed */ }
    },
  };
}

async function send(base: string, r: HostileRequest, extra: Record<string, string> = {}): Promise<Response> {
  return await fetch(new URL(r.path, base), {
    method: r.method ?? (r.body === undefined ? "GET" : "POST"),
    body: r.body,
    headers: { ...extra, ...r.headers },
  });
}

async function expectJsonError(res: Response, status: number, what: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status}: ${text.slice(0, 200)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    assert.fail(`${what}: the error body is not JSON: ${text.slice(0, 200)}`);
  }
  assert.ok(parsed !== null && typeof parsed === "object", `${what}: the error body is not a JSON object`);
}

/** Times a probe; fails when it does not answer (< 500) within `ms`. */
async function probeWithin(base: string, t: HostileTarget, bound: number, what: string): Promise<void> {
  const ms = loadBound(bound);
  const t0 = performance.now();
  const res = await fetch(new URL(t.probe.path, base), {
    method: t.probe.method ?? (t.probe.body === undefined ? "GET" : "POST"),
    body: t.probe.body,
    headers: { ...t.headers, ...t.probe.headers },
    signal: AbortSignal.timeout(ms),
  }).catch((err) => assert.fail(`${what}: the probe did not answer within ${ms} ms (${(err as Error).message})`));
  await res.body?.cancel();
  assert.ok(res.status < 500, `${what}: the probe answered ${res.status}`);
  const took = performance.now() - t0;
  assert.ok(took < ms, `${what}: the probe took ${took.toFixed(0)} ms (bound ${ms} ms)`);
}

/** Opens a raw TCP connection to the server and writes `head` (and never reads). */
async function rawClient(base: string, head: string): Promise<Deno.TcpConn> {
  const u = new URL(base);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  await conn.write(new TextEncoder().encode(head));
  return conn;
}

function requestHead(base: string, r: HostileRequest, headers: Record<string, string>, bodyLength?: number): string {
  const u = new URL(r.path, base);
  const all: Record<string, string> = { host: u.host, "content-type": "application/json", ...headers, ...r.headers };
  const len = bodyLength ?? (r.body === undefined ? undefined : new TextEncoder().encode(r.body).length);
  if (len !== undefined) all["content-length"] = String(len);
  const method = r.method ?? (r.body === undefined ? "GET" : "POST");
  return `${method} ${u.pathname}${u.search} HTTP/1.1\r\n` +
    Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
}

/** The request-body cases: over the limit (declared, streamed, announced as 1 GB) and malformed JSON. */
async function bodyCases(
  t: Deno.TestContext,
  target: HostileTarget,
  base: string,
  headers: Record<string, string>,
  within: number,
  jsonReq: (body: string) => HostileRequest,
  max: number,
): Promise<void> {
  const route = target.json!;
  await t.step(`${target.name}: a body one byte over the limit gets 413`, async () => {
    const body = '{"x":"' + "a".repeat(Math.max(0, max - 7)) + '"}';
    assert.ok(body.length > max);
    await expectJsonError(await send(base, jsonReq(body), headers), 413, "oversized body");
  });

  await t.step(`${target.name}: a streamed body over the limit (no content-length) gets 413`, async () => {
    const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent > max + chunk.length) return ctl.close();
        sent += chunk.length;
        ctl.enqueue(chunk);
      },
    });
    const res = await fetch(new URL(route.path, base), {
      method: route.method ?? "POST",
      body: stream,
      headers: { "content-type": "application/json", ...headers, ...route.headers },
    });
    await expectJsonError(res, 413, "streamed oversized body");
  });

  await t.step(`${target.name}: a 1 GB content-length is refused without reading the body`, async () => {
    const conn = await rawClient(base, requestHead(base, jsonReq("{}"), headers, 1 << 30) + '{"x":"');
    try {
      const buf = new Uint8Array(4096);
      const n = await Promise.race([
        conn.read(buf),
        new Promise<null>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${within} ms`)), within)),
      ]);
      assert.ok(n, "the server closed the connection without an answer");
      const head = new TextDecoder().decode(buf.subarray(0, n));
      assert.match(head, /^HTTP\/1\.[01] 413 /, `expected 413, got: ${head.split("\r\n")[0]}`);
    } finally {
      conn.close();
    }
  });

  await t.step(`${target.name}: malformed JSON gets 400 with a JSON error`, async () => {
    for (const body of ['{"a":', "not json", "\u0000\u0001", "[]", "null", '"text"', "42"]) {
      await expectJsonError(await send(base, jsonReq(body), headers), 400, `body ${JSON.stringify(body)}`);
    }
  });
}

/** Runs the hostile-input cases against one server, each as a step of `t`. */
export async function hostileHttpSuite(t: Deno.TestContext, target: HostileTarget): Promise<void> {
  const server = await target.start();
  const base = server.url;
  const headers = target.headers ?? {};
  const clients = target.clients ?? 12;
  const within = target.probeWithinMs ?? 5000;
  const route = target.json ?? { path: target.probe.path, method: "POST" };
  const jsonReq = (body: string): HostileRequest => ({ ...route, method: route.method ?? "POST", body });
  try {
    if (target.json) await bodyCases(t, target, base, headers, within, jsonReq, target.maxBodyBytes ?? 1 << 20);
    await fieldCases(t, target, base, headers);

    await t.step(`${target.name}: clients that never finish their request do not starve others`, async () => {
      const conns: Deno.TcpConn[] = [];
      try {
        for (let i = 0; i < clients; i++) {
          conns.push(await rawClient(base, requestHead(base, jsonReq("{}"), headers, 1000) + '{"partial":'));
        }
        await probeWithin(base, target, within, `with ${clients} stalled senders`);
      } finally {
        for (const c of conns) c.close();
      }
    });

    if (target.large) {
      const large = target.large;
      await t.step(`${target.name}: clients that never read a large answer do not starve others`, async () => {
        const conns: Deno.TcpConn[] = [];
        try {
          for (let i = 0; i < clients; i++) {
            conns.push(await rawClient(base, requestHead(base, large, headers) + (large.body ?? "")));
          }
          // Give the server time to start answering them and fill its socket buffers.
          await new Promise((r) => setTimeout(r, 500));
          await probeWithin(base, target, within, `with ${clients} clients not reading`);
        } finally {
          for (const c of conns) c.close();
        }
      });
    }

    await t.step(`${target.name}: still serving after the hostile clients`, async () => {
      await probeWithin(base, target, within, "after the hostile cases");
    });
  } finally {
    await server.close();
  }

  if (target.upstream) {
    const up = target.upstream;
    await t.step(`${target.name}: a silent upstream gets a 5xx JSON error within a bound`, async () => {
      const peer = silentPeer();
      const bound = up.withinMs ?? 15000;
      try {
        const s = await up.start(peer.address);
        try {
          const t0 = performance.now();
          const res = await fetch(new URL(up.request.path, s.url), {
            method: up.request.method ?? (up.request.body === undefined ? "GET" : "POST"),
            body: up.request.body,
            headers: { "content-type": "application/json", ...headers, ...up.request.headers },
            signal: AbortSignal.timeout(bound + 5000),
          });
          const text = await res.text();
          const took = performance.now() - t0;
          assert.ok(res.status >= 500, `expected a 5xx, got ${res.status}: ${text.slice(0, 200)}`);
          assert.ok(took < bound, `answered after ${took.toFixed(0)} ms (bound ${bound} ms)`);
          assert.doesNotThrow(() => JSON.parse(text), `the error body is not JSON: ${text.slice(0, 200)}`);
        } finally {
          await s.close();
        }
      } finally {
        peer.close();
      }
    });
  }
}
