/**
 * The time-series routes (`POST /timeseries/...`) over a real engine and server: each builder's answer checked
 * against properties of the data (and against the library builder run directly), and bad bodies answered with one
 * 400 naming the field.
 */
import assert from "node:assert/strict";
import { asofJoin, funnel, gapFill, serve } from "@mercury/olap";
import { duck, salesEngine } from "./_fixtures.ts";

type Answer = { columns: { name: string }[]; rows: unknown[][] };

Deno.test({
  name: "olap time-series routes: gap fill, ASOF join, moving aggregate, sessions, retention and funnel over HTTP",
  async fn() {
    const env = await salesEngine();
    // Rates per region, one a day: the right side of the ASOF join.
    const rates = `${env.dir}/rates.csv`;
    await duck(
      `copy (select ['eu', 'us', 'apac'][1 + i % 3] as region, timestamp '2024-01-01' + to_hours(24 * (i // 3)) as ts,
      cast(i as integer) as rate from range(30) t(i)) to '${rates}' (format csv, header true)`,
    );
    await env.olap.ingest("rates", { file: rates });
    const server = serve(env.olap, { port: 0 });
    const post = async (op: string, body: Record<string, unknown>) => {
      const r = await fetch(`${server.url}timeseries/${op}`, { method: "POST", body: JSON.stringify(body) });
      return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
    };
    const ok = async (op: string, body: Record<string, unknown>) => {
      const r = await post(op, body);
      assert.equal(r.status, 200, `${op}: ${r.body}`);
      const a = JSON.parse(r.body) as Answer;
      const names = a.columns.map((c) => c.name);
      return { names, rows: a.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))) };
    };
    try {
      const total = (await env.olap.rows("select count(*) as n, sum(qty) as q from sales"))[0]!;

      // Gap fill: one row per hour from the first to the last, sums of qty preserved.
      const g = await ok("gap-fill", { table: "sales", time: "ts", every: "1 hour", values: ["qty"], agg: "sum" });
      const hours = g.rows.map((r) => Date.parse(String(r.ts)));
      assert.ok(hours.every((h, i) => i === 0 || h - hours[i - 1]! === 3_600_000), "consecutive hours");
      const direct = await env.olap.rows(
        gapFill({ from: "sales", time: "ts", every: "1 hour", values: ["qty"], agg: "sum" }),
      );
      assert.equal(g.rows.length, direct.length);
      assert.deepEqual(g.rows.map((r) => Number(r.qty)), direct.map((r) => Number(r.qty)));
      const buckets = (await env.olap.rows(
        "select count(distinct time_bucket(interval 1 hour, ts)) as n from sales",
      ))[0]!.n;
      assert.ok(g.rows.length >= Number(buckets));

      // ASOF join: each sale gets the latest rate of its region at or before it.
      const j = await ok("asof-join", {
        table: "sales",
        right: "rates",
        time: "ts",
        columns: ["rate"],
        by: ["region"],
      });
      assert.equal(j.rows.length, Number(total.n));
      const ref = await env.olap.rows(
        `select count(*) as n from (${
          asofJoin({
            left: "sales",
            right: "rates",
            leftTime: "ts",
            rightTime: "ts",
            columns: ["rate"],
            by: ["region"],
          })
        }) where rate is not null`,
      );
      assert.equal(j.rows.filter((r) => r.rate !== null).length, Number(ref[0]!.n));
      // Rates of day d (from 0) are 3d + the region's index, valid from midnight.
      const day3 = j.rows.filter((r) => String(r.ts).startsWith("2024-01-03T"));
      assert.ok(day3.length > 0);
      for (const r of day3) assert.equal(Number(r.rate), 3 * 2 + ["eu", "us", "apac"].indexOf(String(r.region)));

      // Moving aggregate: one row per sale, the window sum at least the row's own value.
      const m = await ok("moving", {
        table: "sales",
        time: "ts",
        value: "qty",
        window: "1 day",
        agg: "sum",
        by: ["region"],
      });
      assert.equal(m.rows.length, Number(total.n));
      assert.ok(m.names.includes("sum_qty"));
      assert.ok(m.rows.every((r) => Number(r.sum_qty) >= Number(r.qty)));

      // Sessions per region: sales of a region are 51 minutes apart, so a 30-minute gap makes each its own
      // session, a 1-hour gap one session per region.
      const short = await ok("sessionize", { table: "sales", user: "region", time: "ts", gap: "30 minutes" });
      const long = await ok("sessionize", { table: "sales", user: "region", time: "ts", gap: "1 hour" });
      const maxSession = (rows: Record<string, unknown>[]) =>
        Math.max(...rows.filter((r) => r.region === "eu").map((r) => Number(r.session_id)));
      assert.equal(maxSession(short.rows), short.rows.filter((r) => r.region === "eu").length);
      assert.equal(maxSession(long.rows), 1);

      // Retention by day: every cohort starts at 100 %.
      const ret = await ok("retention", { table: "sales", user: "region", time: "ts", period: "day" });
      assert.ok(ret.rows.length > 0);
      assert.ok(ret.rows.filter((r) => Number(r.period_offset) === 0).every((r) => Number(r.share) === 1));

      // Funnel: as the library builder, users never increase from step to step; CSV works too.
      const body = { table: "sales", user: "region", time: "ts", event: "product", steps: ["a", "b", "c"] };
      const f = await ok("funnel", body);
      const lib = await env.olap.rows(funnel({ ...body, from: "sales" }));
      assert.deepEqual(f.rows.map((r) => Number(r.users)), lib.map((r) => Number(r.users)));
      assert.equal(Number(f.rows[0]!.users), 3);
      assert.ok(f.rows.every((r, i) => i === 0 || Number(r.users) <= Number(f.rows[i - 1]!.users)));
      const csv = await post("funnel", { ...body, format: "csv" });
      assert.equal(csv.status, 200);
      assert.match(csv.type, /text\/csv/);
      assert.equal(csv.body.trim().split("\n")[0], "step,event,users,conversion");

      // Bad bodies: one 400 naming the field; unknown table 404; nothing runs.
      const bad: [string, Record<string, unknown>, number, string, RegExp][] = [
        ["gap-fill", { table: "sales", time: "ts", values: ["qty"] }, 400, "every", /^every must be an interval/],
        [
          "gap-fill",
          { table: "sales", time: "ts", every: "1 hour'; drop table sales; --", values: ["qty"] },
          400,
          "every",
          /^every must be an interval such as "1 hour"/,
        ],
        ["moving", { table: "(select 1)", time: "ts", value: "qty", window: "1 day" }, 400, "table", /not a subquery/],
        [
          "moving",
          { table: "sales", time: "ts", value: "qty", window: "1 day", agg: "median" },
          400,
          "agg",
          /^agg must be one of/,
        ],
        [
          "retention",
          { table: "sales", user: "region", time: "ts", period: "year" },
          400,
          "period",
          /^period must be one of day, week, month/,
        ],
        ["funnel", { ...body, steps: ["a"] }, 400, "steps", /^steps must list at least 2 steps/],
        [
          "asof-join",
          { table: "sales", right: "rates", time: "ts", columns: [] },
          400,
          "columns",
          /^columns must list at least 1/,
        ],
        ["sessionize", { table: "nope", user: "region", time: "ts", gap: "1 hour" }, 404, "", /table "nope"|nope/],
      ];
      for (const [op, b, status, where, message] of bad) {
        const r = await post(op, b);
        assert.equal(r.status, status, `${op} ${JSON.stringify(b)}: ${r.body}`);
        const e = JSON.parse(r.body).error;
        assert.match(e.message, message);
        if (where) assert.equal(e.where, where);
      }
      assert.equal(Number((await env.olap.rows("select count(*) as n from sales"))[0]!.n), Number(total.n));
    } finally {
      await server.shutdown();
      await env.close();
    }
  },
});
