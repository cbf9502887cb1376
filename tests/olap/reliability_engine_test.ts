/**
 * The olap query engine's reliability: numbers that survive normalisation,
 * answers cut short by a timeout, clients that never read (the shared
 * hostile-client suite runs in hostile_test.ts).
 */
import assert from "node:assert/strict";
import { analyse, OlapError } from "@mercury/olap";
import { DuckDBInstance } from "@duckdb/node-api";
import { integration, loadBound } from "../_helpers.ts";
import { readAhead } from "../../plugins/olap/spool.ts";
import { olapCli, salesEngine, servedSales, until } from "./_fixtures.ts";

const post = (url: string, body: unknown) => fetch(`${url}query`, { method: "POST", body: JSON.stringify(body) });

Deno.test({
  name: "normalisation keeps every number: big integers get their own cache entries, 1e3 stays a DOUBLE",
  async fn(t) {
    await using served = await servedSales();
    const { env, server } = served;
    await t.step(
      "analyse: integers past 2^53 and float lexemes come back from DuckDB's printer as written",
      async () => {
        const c = await (await DuckDBInstance.create()).connect();
        try {
          const a = await analyse(c, "select * from t where x = 1234567890123456788");
          const b = await analyse(c, "select * from t where x = 1234567890123456789");
          assert.match(a.normalised, /1234567890123456788/);
          assert.match(b.normalised, /1234567890123456789/);
          assert.notEqual(a.normalised, b.normalised);
          const f = await analyse(c, "select 1e3, 0.1, 1.5e-7, 18446744073709551615, -9223372036854775808");
          assert.match(f.normalised, /1000\.0/);
          assert.match(f.normalised, /0\.1/);
          assert.match(f.normalised, /1\.5e-0?7/);
          assert.match(f.normalised, /18446744073709551615/);
        } finally {
          c.closeSync();
        }
      },
    );
    await t.step("library: two big integers, two answers; floats keep their type", async () => {
      const x = await env.olap.query("select 1234567890123456788 as x");
      assert.equal(x.cache, "miss");
      await new Response(x.body as BodyInit).text();
      const y = await env.olap.query("select 1234567890123456789 as x");
      assert.equal(y.cache, "miss");
      assert.deepEqual(await env.olap.rows("select 1234567890123456789 as x"), [{ x: "1234567890123456789" }]);
      assert.deepEqual(await env.olap.rows("select 1e3 as a, 0.1 as b, 1.5e-7 as c"), [{
        a: 1000,
        b: 0.1,
        c: 1.5e-7,
      }]);
      assert.deepEqual(await env.olap.rows("select count(*) as n from range(cast(1e4 as bigint))"), [{ n: 10000 }]);
    });
    await t.step(
      "HTTP: the second big integer is a miss with its own answer; 1e3 is 200, range(1e13) DuckDB's own binder error",
      async () => {
        const sql = (n: string) => `select count(*) as n, ${n} as k from sales where qty >= 0 and ${n} > 0`;
        const a = await post(server.url, { sql: sql("1234567890123456788") });
        assert.equal(a.status, 200);
        assert.equal(a.headers.get("x-olap-cache"), "miss");
        assert.deepEqual((await a.json()).rows, [[2000, "1234567890123456788"]]);
        const b = await post(server.url, { sql: sql("1234567890123456789") });
        assert.equal(b.headers.get("x-olap-cache"), "miss");
        assert.deepEqual((await b.json()).rows, [[2000, "1234567890123456789"]]);
        const again = await post(server.url, { sql: sql("1234567890123456789") });
        assert.equal(again.headers.get("x-olap-cache"), "hit");
        assert.deepEqual((await again.json()).rows, [[2000, "1234567890123456789"]]);
        for (
          const [q, rows] of [
            ["select 1e3 as x", [[1000]]],
            ["select 0.1 as x, 1.5e-7 as y", [[0.1, 1.5e-7]]],
            ["select range as r from range(cast(1e13 as bigint)) limit 2", [[0], [1]]],
          ] as const
        ) {
          const r = await post(server.url, { sql: q });
          const j = await r.json();
          assert.equal(r.status, 200, JSON.stringify(j));
          assert.deepEqual(j.rows, rows);
        }
        // range() has no DOUBLE overload: DuckDB's own binder error, not a parse failure of our making.
        const r = await post(server.url, { sql: "select * from range(1e13)" });
        const j = await r.json();
        assert.equal(r.status, 400);
        assert.equal(j.error.kind, "binder_error");
        assert.match(j.error.message, /range\(DOUBLE\)/);
      },
    );
  },
});

Deno.test({
  name: "a timeout while the answer streams: every format ends in an error, nothing is cached",
  // Sanitizers stay off here and in the two never-read tests below: under the shared machine's load (20–30 on 2
  // cores) these timing-bound tests failed their own asserts with and without them, so a clean sanitizer run is
  // still to be seen.
  ...integration,
  async fn(t) {
    await using served = await servedSales();
    const { env, server } = served;
    // A few million rows with a hash each: the first chunk comes at once, the whole answer takes seconds.
    const sql = "select range as i, md5(range::varchar) as h from range(3000000)";
    for (const format of ["json", "arrow", "xlsx", "parquet", "csv", "ndjson"]) {
      await t.step(format, async () => {
        for (let round = 0; round < 2; round++) {
          const r = await post(server.url, { sql, format, timeoutMs: 300 });
          // Under load the timeout can fire before the first bytes: then a 408 (no cache header on errors).
          if (r.status === 408) {
            assert.equal((await r.json()).error.kind, "timeout");
            continue;
          }
          assert.equal(r.headers.get("x-olap-cache"), "miss");
          assert.equal(r.status, 200);
          await assert.rejects(r.arrayBuffer(), "a cut-short body must not end as if complete");
        }
        assert.deepEqual(env.olap.cache!.stats(), { entries: 0, bytes: 0 });
      });
    }
    await t.step("library: reading the cut-short body throws the timeout", async () => {
      // A timeout before the first bytes is thrown by query() itself (408); after them, by the body.
      const a = await env.olap.query(sql, { format: "json", timeoutMs: 300 }).catch((e) => e);
      if (a instanceof OlapError) assert.equal(a.status, 408);
      else await assert.rejects(new Response(a.body as BodyInit).text());
      const s = await env.olap.executor.stream(sql, { timeoutMs: 300 });
      await assert.rejects(async () => {
        for await (const _ of s.chunks) { /* read all */ }
      }, /timeout of 300 ms/);
      assert.deepEqual(env.olap.cache!.stats(), { entries: 0, bytes: 0 });
    });
  },
});

/** Sends POST /query over a raw socket and never reads the answer. */
async function neverReads(port: number, body: unknown): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const json = new TextEncoder().encode(JSON.stringify(body));
  const head =
    `POST /query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n`;
  const bytes = new Uint8Array([...new TextEncoder().encode(head), ...json]);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  return conn;
}

Deno.test({
  name: "clients that never read: answers past the spool are dropped after stallMs and other queries go on",
  ...integration,
  async fn() {
    await using served = await servedSales({ concurrency: 2, spoolBytes: 1 << 20, stallMs: 1000, timeoutMs: 0 });
    const { env, server } = served;
    const big = "select range as i, md5(range::varchar) as h from range(50000000)";
    const stuck: Deno.TcpConn[] = [];
    try {
      for (const format of ["json", "csv", "arrow", "ndjson"]) {
        stuck.push(await neverReads(server.port, { sql: big, format, noCache: true }));
      }
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      const r = await fetch(`${server.url}query`, {
        method: "POST",
        body: JSON.stringify({ sql: "select count(*) as n from sales" }),
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(r.status, 200);
      assert.deepEqual((await r.json()).rows, [[2000]]);
      const ms = performance.now() - t0;
      assert.ok(ms < loadBound(4000), `the small query took ${ms.toFixed(0)} ms`);
      // The stalled answers gave their connections back though their sockets are still open.
      await until("no query running", () => env.olap.executor.busy.running === 0);
    } finally {
      for (const c of stuck) c.close();
    }
  },
});

Deno.test({
  name: "clients that never read: an answer that fits the spool frees its connection at once (default stallMs)",
  ...integration,
  async fn() {
    await using served = await servedSales({ concurrency: 2, timeoutMs: 0 });
    const { env, server } = served;
    // About 10 MB of JSON each: more than the socket buffers hold, less than the 16 MiB spool.
    const mid = "select range as i, md5(range::varchar) as h, md5(h) as h2 from range(110000)";
    const stuck: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 4; i++) stuck.push(await neverReads(server.port, { sql: mid, noCache: true }));
      await until("the four answers spooled and their connections freed", () => env.olap.executor.busy.running === 0);
      const t0 = performance.now();
      const r = await fetch(`${server.url}query`, {
        method: "POST",
        body: JSON.stringify({ sql: "select count(*) as n from sales" }),
        signal: AbortSignal.timeout(15_000),
      });
      assert.deepEqual((await r.json()).rows, [[2000]]);
      const ms = performance.now() - t0;
      assert.ok(ms < loadBound(2000), `the small query took ${ms.toFixed(0)} ms`);
    } finally {
      for (const c of stuck) c.close();
    }
  },
});

Deno.test({
  name: "per-client cap: past maxQueriesPerClient a client gets 429 with Retry-After, and its slots come back",
  async fn() {
    await using served = await servedSales({ concurrency: 4, spoolBytes: 1 << 20, stallMs: 60_000, timeoutMs: 0 }, {
      maxQueriesPerClient: 2,
    });
    const { env, server } = served;
    const big = "select range as i, md5(range::varchar) as h from range(50000000)";
    const stuck: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 2; i++) stuck.push(await neverReads(server.port, { sql: big, format: "csv", noCache: true }));
      await until("both running", () => env.olap.executor.busy.running === 2);
      const r = await post(server.url, { sql: "select 1 as x" });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get("retry-after"), "1");
      const j = await r.json();
      assert.equal(j.error.kind, "too_many_queries");
      assert.match(j.error.hint, /at most 2/);
      // A client that goes away gives its slots back.
      for (const c of stuck) c.close();
      stuck.length = 0;
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        const again = await post(server.url, { sql: "select 1 as x" });
        status = again.status;
        await again.body?.cancel();
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200);
      await until("no query running", () => env.olap.executor.busy.running === 0);
    } finally {
      for (const c of stuck) c.close();
    }
  },
});

Deno.test("readAhead: reads ahead up to its bound, hands out pieces, passes errors and cancels on", async () => {
  let pulled = 0;
  let cancelled: unknown;
  const source = (fail: boolean) =>
    new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (pulled === 8) return fail ? ctl.error(new Error("boom")) : ctl.close();
        pulled++;
        ctl.enqueue(new Uint8Array(1 << 20).fill(pulled));
      },
      cancel(reason) {
        cancelled = reason;
      },
    }, { highWaterMark: 0 });
  let ended = "";
  const s = readAhead(source(false), { bytes: 3 << 20, stallMs: 0, onEnd: (how) => (ended = how) });
  await until("three chunks read ahead", () => pulled >= 3);
  assert.equal(pulled, 3, "three 1 MiB chunks read ahead of a reader that has read nothing");
  const sizes: number[] = [];
  for await (const piece of s) sizes.push(piece.byteLength);
  assert.equal(sizes.length, 32);
  assert.ok(sizes.every((n) => n === 256 * 1024));
  assert.equal(ended, "done");

  pulled = 0;
  const f = readAhead(source(true), { bytes: 1 << 20, stallMs: 0, onEnd: (how) => (ended = how) });
  await assert.rejects(new Response(f).arrayBuffer());
  assert.equal(ended, "failed");

  pulled = 0;
  const c = readAhead(source(false), { bytes: 1 << 20, stallMs: 0, onEnd: (how) => (ended = how) });
  await c.getReader().cancel("bye");
  assert.equal(ended, "cancelled");
  assert.equal(cancelled, "bye");

  // A reader that never reads at all: the source is cancelled after stallMs, the stream errors.
  pulled = 0;
  cancelled = undefined;
  const never = readAhead(source(false), { bytes: 1 << 20, stallMs: 100, onEnd: (how) => (ended = how) });
  await until("the never-read stream stalls", () => ended === "stalled");
  assert.match(String(cancelled), /took nothing for 100 ms/);
  await assert.rejects(never.getReader().read(), /took nothing for 100 ms/);
});

Deno.test({
  name: "a query refused for a bad field leaves neither its queryId nor its client slot behind",
  async fn() {
    await using served = await servedSales({}, { maxQueriesPerClient: 1 });
    const { server } = served;
    for (const bad of [{ limit: -1 }, { offset: "x" }, { timeoutMs: -5 }]) {
      const r = await post(server.url, { sql: "select 1 as x", queryId: "q-bad", ...bad });
      assert.equal(r.status, 400);
      await r.body?.cancel();
    }
    const ok = await post(server.url, { sql: "select 1 as x", queryId: "q-bad" });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual((await ok.json()).rows, [[1]]);
  },
});

Deno.test({
  name: "olap query CLI: stdout read slowly (a pager) still gets the whole answer, past the stall bound",
  async fn() {
    const env = await salesEngine();
    await env.olap.close();
    try {
      const child = olapCli([
        "query",
        "select range as i, md5(range::varchar) as h from range(1000000)",
        "--data-dir",
        env.dir,
        "--format",
        "csv",
      ]);
      // Nothing read for longer than the default stallMs (5 s), while ~40 MB wait: more than the spool and the pipe.
      await new Promise((r) => setTimeout(r, 6500));
      const [out, status, err] = await Promise.all([
        new Response(child.stdout).text(),
        child.status,
        new Response(child.stderr).text(),
      ]);
      assert.equal(status.code, 0, err);
      const lines = out.trimEnd().split("\n");
      assert.equal(lines.length, 1_000_001);
      assert.match(lines.at(-1)!, /^999999,/);
    } finally {
      await env.close().catch(() => {});
    }
  },
});
