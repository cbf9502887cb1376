/**
 * `POST /timeseries/<route>/sql` over a real server: for each of the six routes it answers the SQL the route runs
 * (the library builder's text for the same options), that SQL sent to `POST /query` gives the route's own answer,
 * and a bad body gets the same 400 naming the field as the route does, without running anything.
 */
import assert from "node:assert/strict";
import { asofJoin, funnel, gapFill, movingAggregate, retention, serve, sessionize } from "@mercury/olap";
import { duck, salesEngine } from "./_fixtures.ts";

const CASES: [op: string, body: Record<string, unknown>, sql: string][] = [
  [
    "gap-fill",
    { table: "sales", time: "ts", every: "2 hours", values: ["qty", "amount"], by: ["region"], method: "linear" },
    gapFill({
      from: "sales",
      time: "ts",
      every: "2 hours",
      values: ["qty", "amount"],
      by: ["region"],
      method: "linear",
    }),
  ],
  [
    "asof-join",
    { table: "sales", right: "rates", time: "ts", columns: ["rate"], by: ["region"] },
    asofJoin({ left: "sales", right: "rates", leftTime: "ts", rightTime: "ts", columns: ["rate"], by: ["region"] }),
  ],
  [
    "moving",
    { table: "sales", time: "ts", value: "qty", window: "6 hours", agg: "max", by: ["product"] },
    movingAggregate({ from: "sales", time: "ts", value: "qty", window: "6 hours", agg: "max", by: ["product"] }),
  ],
  [
    "sessionize",
    { table: "sales", user: "product", time: "ts", gap: "40 minutes" },
    sessionize({ from: "sales", user: "product", time: "ts", gap: "40 minutes" }),
  ],
  [
    "retention",
    { table: "sales", user: "product", time: "ts", period: "week" },
    retention({ from: "sales", user: "product", time: "ts", period: "week" }),
  ],
  [
    "funnel",
    { table: "sales", user: "product", time: "ts", event: "region", steps: ["eu", "us", "apac"], within: "1 day" },
    funnel({
      from: "sales",
      user: "product",
      time: "ts",
      event: "region",
      steps: ["eu", "us", "apac"],
      within: "1 day",
    }),
  ],
];

Deno.test({
  name: "olap POST /timeseries/<route>/sql: the route's SQL, the same answer through /query, 400s naming the field",
  async fn(t) {
    const env = await salesEngine();
    const rates = `${env.dir}/rates.csv`;
    await duck(
      `copy (select ['eu', 'us', 'apac'][1 + i % 3] as region, timestamp '2024-01-01' + to_hours(24 * (i // 3)) as ts,
      cast(i as integer) as rate from range(30) t(i)) to '${rates}' (format csv, header true)`,
    );
    await env.olap.ingest("rates", { file: rates });
    const server = serve(env.olap, { port: 0 });
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: "POST", body: JSON.stringify(body) });
    try {
      for (const [op, body, expected] of CASES) {
        await t.step(`${op}: the SQL is the builder's and answers as the route does`, async () => {
          const res = await post(`timeseries/${op}/sql`, body);
          assert.equal(res.status, 200);
          const { sql } = await res.json() as { sql: string };
          assert.equal(sql, expected);
          const viaRoute = await (await post(`timeseries/${op}`, { ...body, format: "csv" })).text();
          const viaQuery = await (await post("query", { sql, format: "csv" })).text();
          assert.ok(viaRoute.split("\n").length > 2, `${op} answered ${viaRoute.slice(0, 200)}`);
          assert.equal(viaQuery, viaRoute);
        });
      }
      await t.step("a bad body is the route's 400 naming the field", async () => {
        for (
          const [op, body, field] of [
            ["gap-fill", { table: "sales", time: "ts", every: "often", values: ["qty"] }, "every"],
            ["funnel", { table: "sales", user: "u", time: "ts", event: "e", steps: ["one"] }, "steps"],
            ["moving", { table: "(select 1)", time: "ts", value: "qty", window: "1 day" }, "table"],
            ["retention", { table: "sales", user: "u", time: "ts", period: "year" }, "period"],
            ["sessionize", { table: "sales", user: "u", time: "ts", gap: "1 hour", extra: 1 }, "extra"],
          ] as const
        ) {
          const viaSql = await post(`timeseries/${op}/sql`, body);
          const viaRoute = await post(`timeseries/${op}`, body);
          assert.equal(viaSql.status, 400);
          const e = (await viaSql.json()).error;
          assert.equal(e.where, field, `${op}: ${JSON.stringify(e)}`);
          assert.match(e.message, new RegExp(field));
          assert.deepEqual(e, (await viaRoute.json()).error);
        }
      });
    } finally {
      await server.shutdown();
      await env.close();
    }
  },
});
