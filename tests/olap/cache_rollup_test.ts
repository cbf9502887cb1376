import assert from "node:assert/strict";
import { Olap } from "@mercury/olap";
import { uniqueName } from "../_helpers.ts";
import { salesCsv, salesEngine, tempDir } from "./_fixtures.ts";

const text = async (a: { body: ReadableStream<Uint8Array> | Uint8Array }) =>
  a.body instanceof Uint8Array ? new TextDecoder().decode(a.body) : await new Response(a.body).text();

Deno.test({
  name: "result cache: keyed by table versions, a write invalidates exactly the entries that read it",
  async fn(t) {
    const env = await salesEngine();
    const { olap } = env;
    try {
      const other = await salesCsv(env.dir, 100, "other.csv");
      await olap.ingest("other", { file: other });
      const qs = "select region, sum(qty) as q from sales group by region order by region";
      const qo = "select count(*) as n from other";
      await t.step("miss, then hit with the same bytes; volatile queries are never cached", async () => {
        const a = await olap.query(qs);
        assert.equal(a.cache, "miss");
        const first = await text(a);
        const b = await olap.query(qs);
        assert.equal(b.cache, "hit");
        assert.equal(await text(b), first);
        assert.equal((await olap.query(qo)).cache, "miss");
        assert.equal((await olap.query("select random() as r")).cache, "bypass");
        assert.equal((await olap.query("select random() as r")).cache, "bypass");
      });
      await t.step("writing `other` leaves the `sales` entry; writing `sales` drops it", async () => {
        await olap.ingest("other", { file: other });
        assert.equal((await olap.query(qs)).cache, "hit");
        assert.equal((await olap.query(qo)).cache, "miss");
        await olap.ingest("sales", { file: `${env.dir}/sales.csv` });
        const after = await olap.query(qs);
        assert.equal(after.cache, "miss");
        await text(after);
      });
      await t.step("parameters and formats are part of the key", async () => {
        const q = "select count(*) as n from sales where region = $1";
        const eu = await olap.rows(q, ["eu"]);
        const us = await olap.rows(q, ["us"]);
        assert.equal(Number(eu[0]!.n) + Number(us[0]!.n) + Number((await olap.rows(q, ["apac"]))[0]!.n), 2000);
        assert.equal((await olap.query(q, { params: ["eu"], format: "csv" })).cache, "miss");
      });
      await t.step("the LRU stays under its byte bound", async () => {
        const small = await Olap.open({ dataDir: env.dir, cacheBytes: 4000, restrictFiles: false });
        try {
          for (let i = 0; i < 20; i++) {
            await text(await small.query(`select range as i, 'pad' as p from range(${10 + i})`));
          }
          const s = small.cache!.stats();
          assert.ok(s.bytes <= 4000 && s.entries > 0 && s.entries < 20, JSON.stringify(s));
        } finally {
          await small.close();
        }
      });
    } finally {
      await env.close();
    }
  },
});

Deno.test({
  name: "result cache in Redis: two engines on one data dir share entries",
  async fn() {
    const [dir, rm] = await tempDir();
    const prefix = `${uniqueName("olaptest")}:`;
    const a = await Olap.open({ dataDir: dir, redisPrefix: prefix, restrictFiles: false });
    const b = await Olap.open({ dataDir: dir, redisPrefix: prefix, restrictFiles: false });
    try {
      await a.ingest("sales", { file: await salesCsv(dir, 500) });
      const q = "select region, count(*) as n from sales group by 1 order by 1";
      const first = await a.query(q);
      assert.equal(first.cache, "miss");
      const bytes = await text(first);
      const fromB = await b.query(q);
      assert.equal(fromB.cache, "hit");
      assert.equal(await text(fromB), bytes);
      // A write through `a` bumps the version `b` reads from catalog.json: b misses.
      await a.ingest("sales", { file: await salesCsv(dir, 600, "s2.csv") });
      const after = await b.query(q);
      assert.equal(after.cache, "miss");
      assert.match(await text(after), /"rowCount":3/);
    } finally {
      await a.close();
      await b.close();
      const { connectRedis } = await import("@mercury/core/services/redis");
      const r = await connectRedis();
      const keys = await r.client.keys(`${prefix}*`);
      if (keys.length) await r.client.del(...keys);
      await r.close();
      await rm();
    }
  },
});

Deno.test({
  name: "rollups: queries a rollup answers are rewritten to it and give identical results",
  async fn(t) {
    const env = await salesEngine();
    const { olap } = env;
    try {
      const meta = await olap.declareRollup({
        name: "by_region_product_day",
        table: "sales",
        dimensions: ["region", "product", "day"],
        measures: [
          { agg: "sum", column: "qty" },
          { agg: "avg", column: "amount" },
          { agg: "min", column: "amount" },
          { agg: "max", column: "qty" },
          { agg: "count", column: "amount" },
        ],
      });
      assert.ok(meta.rows < 2000 && meta.rows > 0);
      const answered = [
        "select region, sum(qty) as q from sales group by region order by region",
        "select region, product, count(*), sum(qty), max(qty), min(amount) from sales group by all order by all",
        "select day, count(amount) as n, avg(amount) as a from sales where region = 'eu' group by day order by day",
        "select region, sum(qty) * 2 + count(*) as score from sales where product in ('a', 'b') group by 1 having sum(qty) > 10 order by 2 desc",
        "select region, product, sum(qty) from sales group by rollup (region, product) order by 1 nulls first, 2 nulls first",
        "select count(*) as n, sum(qty) as q from sales",
      ];
      for (const sql of answered) {
        await t.step(`rewritten: ${sql.slice(0, 70)}`, async () => {
          const direct = await olap.query(sql, { rollups: false, noCache: true });
          assert.equal(direct.rollup, undefined);
          const viaRollup = await olap.query(sql, { noCache: true });
          assert.equal(viaRollup.rollup, "by_region_product_day", viaRollup.sql);
          assert.match(viaRollup.sql, /rollup_by_region_product_day/);
          const [a, b] = [JSON.parse(await text(viaRollup)), JSON.parse(await text(direct))];
          assert.deepEqual(a.columns, b.columns);
          if (!/avg/.test(sql)) assert.deepEqual(a.rows, b.rows); // integer and decimal aggregates: exact
          else {
            // avg divides a re-aggregated sum: equal up to floating-point rounding (DuckDB's avg uses long double).
            assert.equal(a.rows.length, b.rows.length);
            a.rows.forEach((r: unknown[], i: number) =>
              r.forEach((v, j) => {
                const w = b.rows[i][j];
                if (typeof v === "number") {
                  assert.ok(Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${v} vs ${w}`);
                } else assert.deepEqual(v, w);
              })
            );
          }
        });
      }
      await t.step("not answerable (another column, distinct, raw rows): left alone", async () => {
        for (
          const sql of [
            "select qty, count(*) from sales group by qty",
            "select region, count(distinct product) from sales group by region",
            "select * from sales limit 3",
            "select region, stddev(qty) from sales group by region",
            "select region, sum(qty * 2) from sales group by region",
          ]
        ) {
          assert.equal((await olap.query(sql, { noCache: true })).rollup, undefined, sql);
        }
      });
      await t.step("a write to the source rebuilds the rollup; answers still match", async () => {
        await olap.ingest("sales", { file: await salesCsv(env.dir, 700, "s3.csv") }, {
          partitionBy: "day=cast(ts as date)",
        });
        const sql = answered[0]!;
        const r = await olap.query(sql, { noCache: true });
        assert.equal(r.rollup, "by_region_product_day");
        assert.equal(await text(r), await text(await olap.query(sql, { rollups: false, noCache: true })));
        assert.ok((await olap.rollups()).every((x) => x.fresh));
      });
      await t.step("suggestions from the query log", async () => {
        for (let i = 0; i < 3; i++) {
          await text(
            await olap.query(
              `select device_like, sum(qty) from (select product as device_like, qty from sales) group by 1`,
            ),
          );
          await text(
            await olap.query(`select product, avg(qty) as a from sales where region = 'us' group by product`, {
              rollups: false,
            }),
          );
        }
        const s = await olap.suggestRollups(3);
        const hit = s.find((x) => x.spec.table === "sales" && x.spec.dimensions.join() === "product,region");
        assert.ok(hit, JSON.stringify(s));
        assert.ok(hit.spec.measures.some((m) => m.agg === "avg" && m.column === "qty"), JSON.stringify(hit.spec));
        assert.ok(hit.queries >= 3);
      });
    } finally {
      await env.close();
    }
  },
});
