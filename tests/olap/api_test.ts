import assert from "node:assert/strict";
import { serve } from "@mercury/olap";
import { tableFromIPC } from "apache-arrow";
import ExcelJS from "exceljs";
import { duck, salesCsv, salesEngine, until } from "./_fixtures.ts";

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path.replace(/^\//, "")}`, { method: "POST", body: JSON.stringify(body), headers });

Deno.test({
  name: "HTTP API: formats, errors, catalog routes, explain, token, cancellation, metrics",
  async fn(t) {
    const env = await salesEngine({ concurrency: 2 });
    const server = serve(env.olap, { port: 0, token: "s3cret" });
    const url = server.url;
    const q = (body: unknown, headers?: Record<string, string>) => post(url, "/query", body, headers);
    try {
      const total = "select region, count(*) as n, sum(qty) as q from sales group by region order by region";
      await t.step("json: columns, rows, then the same answer from the cache", async () => {
        const r = await q({ sql: total });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get("x-olap-cache"), "miss");
        const j = await r.json();
        assert.deepEqual(j.columns.map((c: { name: string }) => c.name), ["region", "n", "q"]);
        assert.equal(j.rows.length, 3);
        assert.equal(j.rows.reduce((s: number, r: number[]) => s + r[1]!, 0), 2000);
        const again = await q({
          sql: "SELECT region,\n  COUNT(*)   AS n, sum(qty) AS q FROM sales GROUP  BY region ORDER BY region",
        });
        assert.equal(again.headers.get("x-olap-cache"), "hit");
        assert.deepEqual((await again.json()).rows, j.rows);
      });
      await t.step("parameters, positional and named", async () => {
        const r = await q({
          sql: "select count(*) as n from sales where region = $1 and qty < $2",
          params: ["eu", 10],
        });
        const n = (await r.json()).rows[0][0];
        const expected = await env.olap.rows("select count(*) as n from sales where region = 'eu' and qty < 10");
        assert.equal(n, expected[0]!.n);
        const named = await q({ sql: "select count(*) as n from sales where region = $r", params: { r: "us" } });
        assert.equal(named.status, 200);
      });
      await t.step("ndjson, csv, parquet, arrow, xlsx give the same rows", async () => {
        const sql = "select region, product, sum(qty) as q from sales group by all order by all";
        const ref = (await (await q({ sql })).json()).rows as unknown[][];
        const nd = (await (await q({ sql, format: "ndjson" })).text()).trim().split("\n").map((l) => JSON.parse(l));
        assert.deepEqual(nd.map((o) => [o.region, o.product, Number(o.q)]), ref);
        const csv = (await (await q({ sql, format: "csv" })).text()).trim().split("\n");
        assert.equal(csv[0], "region,product,q");
        assert.equal(csv.length, ref.length + 1);
        assert.equal(csv[1], ref[0]!.join(","));
        const pq = new Uint8Array(await (await q({ sql, format: "parquet" })).arrayBuffer());
        await Deno.writeFile(`${env.dir}/r.parquet`, pq);
        const back = await duck(`select count(*) as n, sum(q) as s from '${env.dir}/r.parquet'`);
        assert.equal(Number(back[0]!.n), ref.length);
        const arrowRes = await q({ sql, format: "arrow" });
        assert.equal(arrowRes.headers.get("content-type"), "application/vnd.apache.arrow.stream");
        const tbl = tableFromIPC(new Uint8Array(await arrowRes.arrayBuffer()));
        assert.equal(tbl.numRows, ref.length);
        assert.equal(tbl.getChild("region")!.get(0), ref[0]![0]);
        const xlsx = await q({ sql, format: "xlsx" });
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(await xlsx.arrayBuffer());
        const ws = wb.getWorksheet("result")!;
        assert.equal(ws.getRow(1).getCell(1).value, "region");
        assert.equal(ws.rowCount, ref.length + 1);
      });
      await t.step("a large result streams in chunks (arrow, 300k rows) and pages with limit/offset", async () => {
        const r = await q({
          sql: "select range as i, range * 0.5 as x from range(300000)",
          format: "arrow",
          noCache: true,
        });
        const reader = r.body!.getReader();
        let chunks = 0, bytes = 0;
        const parts: Uint8Array[] = [];
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          chunks++;
          bytes += value.byteLength;
          parts.push(value);
        }
        assert.ok(chunks > 3, `${chunks} chunks`);
        const all = new Uint8Array(bytes);
        let off = 0;
        for (const p of parts) (all.set(p, off), off += p.byteLength);
        assert.equal(tableFromIPC(all).numRows, 300000);
        const page = await (await q({ sql: "select range as i from range(100)", limit: 10, offset: 20 })).json();
        assert.deepEqual(page.rows.map((r: number[]) => r[0]), Array.from({ length: 10 }, (_, i) => 20 + i));
      });
      await t.step("GROUPING SETS, ROLLUP and CUBE", async () => {
        const rollup = await (await q({
          sql:
            "select region, product, sum(qty) as q, grouping(region, product) as g from sales group by rollup (region, product) order by g, region, product",
        })).json();
        const grand = rollup.rows.filter((r: unknown[]) => r[3] === 3);
        assert.equal(grand.length, 1);
        const perRegion = rollup.rows.filter((r: unknown[]) => r[3] === 1);
        assert.equal(perRegion.length, 3);
        assert.equal(perRegion.reduce((s: number, r: number[]) => s + r[2]!, 0), grand[0][2]);
        const cube =
          await (await q({ sql: "select region, product, count(*) as n from sales group by cube (region, product)" }))
            .json();
        assert.equal(cube.rows.length, 3 * 4 + 3 + 4 + 1);
        const sets = await (await q({
          sql: "select region, product, count(*) as n from sales group by grouping sets ((region), (product), ())",
        })).json();
        assert.equal(sets.rows.length, 3 + 4 + 1);
      });
      await t.step("bad input: 4xx JSON naming the problem; the server keeps serving", async () => {
        const cases: [unknown, number, string, RegExp][] = [
          [{ sql: "selec 1" }, 400, "syntax_error", /syntax error at or near "selec"/],
          [{ sql: "select * from nope" }, 404, "unknown_table", /nope does not exist/],
          [{ sql: "select nope from sales" }, 400, "binder_error", /nope/],
          [{ sql: "select * from sales where qty = $1", params: ["abc"] }, 400, "param_type_error", /abc/],
          [{ sql: "select * from sales where qty = $1", params: [[1]] }, 400, "bad_params", /\$1 is a list/],
          [{ sql: "select 1", format: "xml" }, 400, "bad_format", /xml/],
          [{ sql: "select count(*) from range(1000000000000)", timeoutMs: 200 }, 408, "timeout", /timeout of 200 ms/],
          // A token is configured: a write without it is a 401, like every other write route.
          [{ sql: "create table x (a int)" }, 401, "unauthorised", /missing or wrong token/],
          [{ sql: "select 1; select 2" }, 400, "multiple_statements", /one statement/],
        ];
        for (const [body, status, kind, msg] of cases) {
          const r = await q(body);
          const j = await r.json();
          assert.equal(r.status, status, JSON.stringify(j));
          assert.equal(j.error.kind, kind);
          assert.match(j.error.message, msg);
        }
        const pos = await (await q({ sql: "select region,\n  count(*) from sales\n where region = 'eu' grop by 1" }))
          .json();
        assert.deepEqual(pos.error.position, { line: 3, column: 22 });
        const bad = await fetch(`${url}query`, { method: "POST", body: "{not json" });
        assert.equal(bad.status, 400);
        await bad.body?.cancel();
        assert.equal((await q({ sql: "select 1 as one" })).status, 200);
      });
      await t.step("writes need the token", async () => {
        const wrong = await q({ sql: "create table scratch as select 1 as a" }, { authorization: "Bearer nope" });
        assert.equal(wrong.status, 401);
        await wrong.body?.cancel();
        const ok = await q({ sql: "create table scratch as select 1 as a" }, { authorization: "Bearer s3cret" });
        assert.equal(ok.status, 200, await ok.text());
        assert.deepEqual((await (await q({ sql: "select a from scratch" })).json()).rows, [[1]]);
        const ing = await post(url, "/tables/sales2/ingest", { source: `${env.dir}/sales.csv` });
        assert.equal(ing.status, 401);
        await ing.body?.cancel();
        const ing2 = await post(
          url,
          "/tables/sales2/ingest",
          { source: `${env.dir}/sales.csv`, partitionBy: "region" },
          {
            authorization: "Bearer s3cret",
          },
        );
        assert.equal(ing2.status, 200);
        assert.equal((await ing2.json()).partitions, 3);
      });
      await t.step("GET /tables and /tables/:name: schema, rows, partitions, column stats", async () => {
        const list = await (await fetch(`${url}tables`)).json();
        assert.ok(list.tables.some((x: { name: string }) => x.name === "sales"));
        const d = await (await fetch(`${url}tables/sales`)).json();
        assert.equal(d.rows, 2000);
        assert.equal(d.partitionValues.length, 24);
        assert.equal(d.partitionValues.reduce((s: number, p: { rows: number }) => s + Number(p.rows), 0), 2000);
        const qty = d.columnStats.find((c: { name: string }) => c.name === "qty");
        assert.equal(Number(qty.min), 0);
        assert.equal(Number(qty.max), 96);
        const missing = await fetch(`${url}tables/nope`);
        assert.equal(missing.status, 404);
        await missing.body?.cancel();
      });
      await t.step("explain: estimates; analyze: operator times, rows and pruned partitions", async () => {
        // A parquet table: Hive partitions pruned as files.
        await env.olap.ingest("sales_pq", { file: await salesCsv(env.dir, 2000, "pq.csv") }, {
          partitionBy: "day=cast(ts as date)",
          sortBy: ["ts"],
          storage: "parquet",
        });
        const sql = "select product, sum(qty) from sales_pq where day = date '2024-01-03' group by product";
        const plan = await (await post(url, "/explain", { sql })).json();
        assert.ok(plan.text.includes("READ_PARQUET"));
        const scan = JSON.stringify(plan.plan);
        assert.match(scan, /estimatedRows/);
        const an = await (await post(url, "/explain", { sql, analyze: true })).json();
        assert.equal(an.profile.rowsReturned, 4);
        assert.equal(an.profile.filesTotal, 24);
        assert.equal(an.profile.filesPruned, 23);
        assert.equal(typeof an.profile.bytesRead, "number"); // 0 when DuckDB's file cache already holds the data
        assert.match(an.text, /23\/24 files pruned/);
        assert.match(an.text, /READ_PARQUET.*ms.*rows/);
        // The default storage: the DuckDB serving table, its row groups skipped by zone maps.
        const native = await (await post(url, "/explain", { sql: sql.replace("sales_pq", "sales"), analyze: true }))
          .json();
        assert.equal(native.profile.rowsReturned, 4);
        assert.match(native.text, /SEQ_SCAN/);
        assert.match(native.text.split("\n")[0], /row groups pruned by zone maps \(estimate\)/);
      });
      await t.step("cancellation by queryId, and /metrics counts", async () => {
        const runningNow = async () =>
          Number(/^olap_queries_running (\d+)$/m.exec(await (await fetch(`${url}metrics`)).text())?.[1]);
        const running = q({ sql: "select count(*) from range(1000000000000)", queryId: "long-1", timeoutMs: 0 });
        await until("the long query runs", async () => await runningNow() === 1);
        const c = await fetch(`${url}queries/long-1`, { method: "DELETE" });
        assert.equal(c.status, 200);
        await c.body?.cancel();
        const r = await running;
        assert.equal(r.status, 499);
        assert.equal((await r.json()).error.kind, "cancelled");
        // A client that goes away before the answer is ready interrupts its query (no queryId needed).
        const client = new AbortController();
        const gone = fetch(`${url}query`, {
          method: "POST",
          body: JSON.stringify({ sql: "select count(*) from range(1000000000001)", timeoutMs: 0 }),
          signal: client.signal,
        }).catch((err) => err);
        await until("the abandoned query runs", async () => await runningNow() === 1);
        client.abort();
        assert.ok((await gone) instanceof Error);
        await until("the abandoned query stops", async () => await runningNow() === 0);
        const m = await (await fetch(`${url}metrics`)).text();
        assert.match(m, /^olap_cache_hits_total \d+$/m);
        assert.match(m, /^olap_queries_total\{format="json",status="408"\} 1$/m);
        assert.match(m, /^olap_query_seconds_count\{cache="miss"\} \d+$/m);
      });
    } finally {
      await server.shutdown();
      await env.close();
    }
  },
});
