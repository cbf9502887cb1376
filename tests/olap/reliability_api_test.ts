/**
 * Issue 16 (reliability round), the olap API's limits and access control:
 * body and SQL size limits, a bounded and redacted query log, who sees the
 * log, the ingest sandbox, who may cancel a query, the token, and input
 * validation that names the field.
 */
import assert from "node:assert/strict";
import { Olap, resolveToken, serve, TokenCheck } from "@mercury/olap";
import { olapCli, servedSales, tempDir, until } from "./_fixtures.ts";

const TOKEN = "t0ken-for-tests";
const AUTH = { authorization: `Bearer ${TOKEN}` };

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path.replace(/^\//, "")}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers,
  });

/** The status and JSON error of an answer (its body read whole). */
async function failure(
  res: Response | Promise<Response>,
): Promise<{ status: number; kind: string; message: string; hint?: string }> {
  const r = await res;
  const j = await r.json();
  return { status: r.status, kind: j.error?.kind, message: j.error?.message, hint: j.error?.hint };
}

/** Sends `head` and `body` over a raw connection and returns what the server answers within `ms` ("" if nothing). */
async function raw(url: string, head: string, body: Uint8Array[], ms: number): Promise<string> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const enc = new TextEncoder();
  try {
    await conn.write(enc.encode(head));
    for (const b of body) await conn.write(b);
    const buf = new Uint8Array(4096);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
    ]);
    clearTimeout(timer);
    return n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "olap API limits: body size, SQL length, bounded redacted log, log visibility",
  async fn(t) {
    await using served = await servedSales({ slowMs: 0 }, {
      token: TOKEN,
      maxBodyBytes: 64 * 1024,
      maxSqlChars: 20_000,
    });
    const { env, server } = served;
    const url = server.url;
    await t.step("a body over the limit is a 413 JSON error", async () => {
      const e = await failure(post(url, "/query", { sql: `select '${"x".repeat(100_000)}'` }));
      assert.equal(e.status, 413);
      assert.equal(e.kind, "body_too_large");
      assert.match(e.message, /65536 bytes/);
    });
    await t.step("a 100 MB content-length is refused before its body arrives", async () => {
      const head = `POST /query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `content-length: ${100 * 1024 * 1024}\r\n\r\n`;
      const answer = await raw(url, head, [new TextEncoder().encode('{"sql": "select 1 -- ')], 3000);
      assert.match(answer, /^HTTP\/1\.1 413/, `answer: ${JSON.stringify(answer.slice(0, 80))}`);
      assert.match(answer, /body_too_large/);
    });
    await t.step("a chunked body is refused once it passes the limit, without waiting for its end", async () => {
      const head =
        `POST /query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`;
      const chunk = "x".repeat(16 * 1024);
      const chunks = [`{"sql": "select 1 -- `, ...Array(6).fill(chunk)].map((c) =>
        new TextEncoder().encode(`${c.length.toString(16)}\r\n${c}\r\n`)
      );
      const answer = await raw(url, head, chunks, 3000);
      assert.match(answer, /^HTTP\/1\.1 413/, `answer: ${JSON.stringify(answer.slice(0, 80))}`);
    });
    await t.step("SQL over maxSqlChars is a 413 sql_too_long on every route that takes SQL", async () => {
      const sql = `select 1 as x -- ${"y".repeat(30_000)}`;
      for (
        const res of [
          post(url, "/query", { sql }),
          fetch(`${url}query?sql=${encodeURIComponent(sql.slice(0, 25_000))}`),
          post(url, "/explain", { sql }),
          post(url, "/chart", { sql, x: "x", y: "x" }),
        ]
      ) {
        const e = await failure(res);
        assert.equal(e.status, 413, e.message);
        assert.equal(e.kind, "sql_too_long");
        assert.match(e.message, /more than 20000/);
        assert.match(e.hint!, /--max-sql-chars/);
      }
    });
    await t.step("the log keeps a bounded excerpt of long statements; suggestions still work", async () => {
      for (let i = 0; i < 5; i++) {
        const r = await post(url, "/query", { sql: `select ${i} as x /* ${"z".repeat(19_000)} */` });
        assert.equal(r.status, 200);
        await r.body?.cancel();
      }
      for (let i = 0; i < 2; i++) {
        const r = await post(url, "/query", { sql: "select region, sum(qty) as q from sales group by region" });
        await r.body?.cancel();
      }
      const text = await (await fetch(`${url}log`)).text();
      assert.ok(text.length < 20_000, `GET /log is ${text.length} bytes`);
      const long = JSON.parse(text).queries.filter((e: { sqlChars: number }) => e.sqlChars > 19_000);
      assert.equal(long.length, 5);
      for (const e of long) {
        assert.ok(e.sql.length <= 2100, `an entry keeps ${e.sql.length} characters`);
        assert.match(e.sql, /… \(\+\d+ chars\)$/);
      }
      const s = await (await fetch(`${url}rollups/suggest`)).json();
      assert.ok(
        s.suggestions.some((x: { spec: { dimensions: string[] } }) => x.spec.dimensions.join() === "region"),
        JSON.stringify(s),
      );
    });
    await t.step(
      "/log and /slow: writes and token holders' statements only for token holders, literals redacted",
      async () => {
        const w = await post(url, "/query", {
          sql: "create table secrets as select 'password=hunter2' as p, 4242 as n",
        }, AUTH);
        assert.equal(w.status, 200, await w.text());
        const r = await post(url, "/query", {
          sql: "select count(*) as n from sales where region = 'eu' and qty > 17",
        });
        assert.equal(r.status, 200);
        await r.body?.cancel();
        for (const route of ["log", "slow"]) {
          const anon = await (await fetch(`${url}${route}`)).text();
          assert.doesNotMatch(anon, /hunter2|4242|secrets/, `anonymous ${route}`);
          assert.match(anon, /where region = \? and qty > \?/, `anonymous ${route}`);
          assert.doesNotMatch(anon, /'eu'|> 17/);
          const mine = await (await fetch(`${url}${route}`, { headers: AUTH })).text();
          assert.match(mine, /create table secrets as select \? as p, \? as n/, `token holder's ${route}`);
          assert.doesNotMatch(mine, /hunter2|4242/);
        }
        const file = await Deno.readTextFile(`${env.dir}/slow_queries.ndjson`);
        assert.match(file, /create table secrets/);
        assert.doesNotMatch(file, /hunter2/);
        const wrong = await fetch(`${url}log`, { headers: { authorization: "Bearer nope" } });
        assert.equal(wrong.status, 401);
        await wrong.body?.cancel();
      },
    );
    await t.step("logLiterals keeps the literals", async () => {
      const [dir, rm] = await tempDir();
      const olap = await Olap.open({ dataDir: dir, logLiterals: true });
      try {
        await olap.rows("select 'kept' as k, 42 as n");
        assert.equal(olap.log.at(-1)!.sql, "select 'kept' as k, 42 as n");
      } finally {
        await olap.close();
        await rm();
      }
    });
  },
});

Deno.test({
  name: "olap API access: ingest sandbox, who cancels a query, the token on every write route",
  async fn(t) {
    await using served = await servedSales({}, { token: TOKEN });
    const { env, server } = served;
    const url = server.url;
    const [other, rmOther] = await tempDir();
    try {
      await t.step("ingest reads files only under the data dir or --ingest-allow dirs (403 naming both)", async () => {
        await Deno.symlink("/etc/passwd", `${env.dir}/link.csv`);
        await Deno.copyFile(`${env.dir}/sales.csv`, `${other}/elsewhere.csv`);
        for (
          const source of [
            "/etc/passwd",
            `${env.dir}/link.csv`,
            `${env.dir}/../../etc/passwd`,
            `${other}/elsewhere.csv`,
          ]
        ) {
          const e = await failure(post(url, "/tables/stolen/ingest", { source, format: "csv" }, AUTH));
          assert.equal(e.status, 403, `${source}: ${e.message}`);
          assert.equal(e.kind, "forbidden");
          assert.ok(e.message.includes(source), e.message);
          assert.match(e.hint!, /--ingest-allow/);
        }
        const tables = (await (await fetch(`${url}tables`)).json()).tables.map((x: { name: string }) => x.name);
        assert.ok(!tables.includes("stolen"));
        const allowed = serve(env.olap, { port: 0, token: TOKEN, ingestAllow: [other] });
        try {
          const ok = await post(allowed.url, "/tables/copied/ingest", { source: `${other}/elsewhere.csv` }, AUTH);
          assert.equal(ok.status, 200, await ok.text());
          const still = await failure(post(allowed.url, "/tables/stolen/ingest", { source: "/etc/passwd" }, AUTH));
          assert.equal(still.status, 403);
        } finally {
          await allowed.shutdown();
        }
      });
      await t.step(
        "only the starter's address or a token holder cancels a query; a running queryId is not reused",
        async () => {
          const long = { sql: "select count(*) from range(1000000000000)", queryId: "mine-1", timeoutMs: 15_000 };
          const running = post(url, "/query", long);
          await until("mine-1 runs", () => env.olap.executor.busy.running === 1);
          // Bounded, so that a server which runs it anyway answers (408) instead of hanging the test.
          const again = await failure(post(url, "/query", { ...long, timeoutMs: 2000 }));
          assert.equal(again.status, 409);
          assert.equal(again.kind, "query_id_in_use");
          const elsewhere = Deno.createHttpClient({ localAddress: "127.0.0.2" });
          try {
            const e = await failure(fetch(`${url}queries/mine-1`, { method: "DELETE", client: elsewhere }));
            assert.equal(e.status, 403);
            assert.equal(e.kind, "not_your_query");
            const m = await (await fetch(`${url}metrics`)).text();
            assert.match(m, /^olap_queries_running 1$/m, "the query was stopped by another client");
            const c = await fetch(`${url}queries/mine-1`, { method: "DELETE", client: elsewhere, headers: AUTH });
            assert.equal(c.status, 200);
            await c.body?.cancel();
          } finally {
            elsewhere.close();
          }
          assert.equal((await failure(running)).status, 499);
        },
      );
      await t.step("a missing or wrong token is a 401 on every write route", async () => {
        const writes: [string, unknown][] = [
          ["/query", { sql: "create table w as select 1 as a" }],
          ["/tables/w/ingest", { source: `${env.dir}/sales.csv` }],
          ["/tables/sales/compact", {}],
          ["/rollups", { name: "r", table: "sales", dimensions: ["region"], measures: [] }],
        ];
        for (const [path, body] of writes) {
          for (
            const headers of [{}, { authorization: "Bearer nope" }, { authorization: TOKEN }] as Record<
              string,
              string
            >[]
          ) {
            const e = await failure(post(url, path, body, headers));
            assert.equal(e.status, 401, `${path} ${JSON.stringify(headers)}: ${e.message}`);
            assert.match(e.message, /missing or wrong token/);
          }
        }
        const read = await fetch(`${url}tables`, { headers: { authorization: "Bearer nope" } });
        assert.equal(read.status, 401);
        await read.body?.cancel();
        const readOnly = serve(env.olap, { port: 0 });
        try {
          const e = await failure(post(readOnly.url, "/query", { sql: "create table w as select 1 as a" }));
          assert.equal(e.status, 403);
          assert.equal(e.kind, "read_only");
        } finally {
          await readOnly.shutdown();
        }
      });
      await t.step("TokenCheck and resolveToken", async () => {
        const check = new TokenCheck(TOKEN);
        assert.equal(check.matches(`Bearer ${TOKEN}`), true);
        for (const h of [null, "", TOKEN, `Bearer ${TOKEN} `, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`]) {
          assert.equal(check.matches(h), false, String(h));
        }
        assert.equal(new TokenCheck("").configured, false);
        const file = `${other}/token`;
        await Deno.writeTextFile(file, "from-file\n");
        assert.equal(await resolveToken({ file, token: "ignored" }, new Map()), "from-file");
        assert.equal(await resolveToken({}, new Map([["MERCURY_OLAP_TOKEN", "env"]])), "env");
        await Deno.writeTextFile(file, "\n");
        await assert.rejects(resolveToken({ file }, new Map()), /token file is empty/);
      });
    } finally {
      await rmOther();
    }
  },
});

Deno.test({
  name: "olap API input: every route's malformed body is a 400 naming the field; /chart marks",
  async fn() {
    await using served = await servedSales({}, { token: TOKEN });
    const { server } = served;
    const url = server.url;
    const cases: [string, unknown, number, RegExp][] = [
      [
        "/chart",
        { sql: "select region, count(*) as n from sales group by 1", x: "region", y: "n", mark: "pie" },
        400,
        /^mark must be one of bar, line, point, area/,
      ],
      ["/chart", { sql: 5 }, 400, /^sql must be a string/],
      ["/chart", { sql: "select 1 as a", x: ["a"] }, 400, /^x must be a string/],
      ["/chart", { sql: "select 1 as a", width: "wide" }, 400, /^width must be/],
      ["/explain", { sql: "select 1", analyze: "yes" }, 400, /^analyze must be true or false/],
      ["/explain", { sql: "select 1", params: 5 }, 400, /^params must be a list or an object/],
      ["/explain", { sql: "select 1", timeoutMs: "soon" }, 400, /^timeoutMs must be/],
      ["/tables/x/ingest", { source: 5 }, 400, /^source must be a path/],
      ["/tables/x/ingest", { source: "a.csv", sortBy: "ts" }, 400, /^sortBy must be a list of strings/],
      ["/tables/x/ingest", { source: "a.csv", mode: "upsert" }, 400, /^mode must be one of replace, append/],
      [
        "/tables/x/ingest",
        { source: "a.csv", storage: "s3" },
        400,
        /^storage must be one of duckdb\+parquet, parquet, duckdb/,
      ],
      ["/tables/x/ingest", { source: "a.csv", partitionBy: 1 }, 400, /^partitionBy must be a string/],
      ["/rollups", { name: "R-1", table: "sales", dimensions: ["region"] }, 400, /^name must be an identifier/],
      ["/rollups", { name: "r", table: "sales", dimensions: "region" }, 400, /^dimensions must be/],
      [
        "/rollups",
        { name: "r", table: "sales", dimensions: ["region"], measures: [null] },
        400,
        /^measures\[0\] must be/,
      ],
      [
        "/rollups",
        { name: "r", table: "sales", dimensions: ["region"], measures: [{ agg: "sum" }] },
        400,
        /^measures\[0\]\.column must be/,
      ],
      [
        "/rollups",
        { name: "r", table: "sales", dimensions: ["region"], measures: [{ agg: "median", column: "qty" }] },
        400,
        /^measures\[0\]\.agg must be one of/,
      ],
    ];
    for (const [path, body, status, msg] of cases) {
      const e = await failure(post(url, path, body, AUTH));
      assert.equal(e.status, status, `${path} ${JSON.stringify(body)}: ${e.status} ${e.message}`);
      assert.match(e.message, msg, `${path} ${JSON.stringify(body)}`);
    }
    const min = await failure(fetch(`${url}rollups/suggest?min=abc`));
    assert.equal(min.status, 400);
    assert.match(min.message, /^min must be a positive integer/);
    const chart = await post(url, "/chart", {
      sql: "select region, count(*) as n from sales group by 1",
      x: "region",
      y: "n",
      mark: "line",
    });
    assert.equal(chart.status, 200);
    assert.match(await chart.text(), /<svg/);
  },
});

Deno.test({
  name: "olap serve --token-file and --ingest-allow: the banner does not show the token; writes take it",
  async fn() {
    const [dir, rm] = await tempDir();
    const file = `${dir}/token.txt`;
    await Deno.writeTextFile(file, `${TOKEN}\n`);
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    await Deno.writeTextFile(`${dir}/b/in.csv`, "k,v\na,1\nb,2\n");
    const child = olapCli([
      "serve",
      "--data-dir",
      `${dir}/data`,
      "--port",
      "0",
      "--token-file",
      file,
      "--ingest-allow",
      `${dir}/a`,
      "--ingest-allow",
      `${dir}/b`,
    ]);
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let banner = "";
      while (!banner.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        banner += value;
      }
      reader.releaseLock();
      const url = /on (http:\/\/\S+\/)/.exec(banner)?.[1];
      assert.ok(url, `banner: ${banner}`);
      assert.ok(!banner.includes(TOKEN), banner);
      assert.match(banner, /writes with the token/);
      const w = await post(url, "/query", { sql: "create table t as select 1 as a" }, AUTH);
      assert.equal(w.status, 200, await w.text());
      const no = await post(url, "/query", { sql: "create table u as select 1 as a" });
      assert.equal(no.status, 401);
      await no.body?.cancel();
      const ing = await post(url, "/tables/kv/ingest", { source: `${dir}/b/in.csv` }, AUTH);
      assert.equal(ing.status, 200, await ing.text());
      const out = await failure(post(url, "/tables/pw/ingest", { source: "/etc/passwd", format: "csv" }, AUTH));
      assert.equal(out.status, 403);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await rm();
    }
  },
});
