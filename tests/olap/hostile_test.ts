/**
 * The shared hostile-input suite (tests/_hostile.ts) against the olap API, once, with the settings that make each
 * of its points bite: a token configured (and sent with every request, so token checks run on every route), a
 * pool of two connections with six clients that never read their large answers (three times the pool, under the
 * default per-client cap of 8, so the probe from the same address runs a query rather than getting a 429), a
 * 1 MiB spool and a 500 ms stall bound (each stalled answer frees its connection), and a probe that is a real
 * query over a table, so it needs a DuckDB connection like any client would.
 */
import { serve } from "@mercury/olap";
import { hostileHttpSuite } from "../_hostile.ts";
import { salesEngine } from "./_fixtures.ts";

const TOKEN = "hostile-token";

Deno.test({
  name: "olap API survives hostile clients (oversized and malformed bodies, stalled senders, clients not reading)",
  async fn(t) {
    const env = await salesEngine({ concurrency: 2, spoolBytes: 1 << 20, stallMs: 500, timeoutMs: 0 });
    try {
      await hostileHttpSuite(t, {
        name: "olap",
        clients: 6,
        headers: { authorization: `Bearer ${TOKEN}` },
        start: () => {
          const s = serve(env.olap, { port: 0, token: TOKEN });
          return Promise.resolve({ url: s.url, close: () => s.shutdown() });
        },
        json: { path: "query" },
        maxBodyBytes: 1 << 20,
        probe: { path: "query", body: JSON.stringify({ sql: "select count(*) as n from sales", noCache: true }) },
        large: {
          path: "query",
          body: JSON.stringify({ sql: "select range, md5(range::varchar) from range(20000000)", noCache: true }),
        },
      });
    } finally {
      await env.close();
    }
  },
});

const SALES = { table: "sales", time: "ts" };
const GAP_FILL = {
  ...SALES,
  every: "1 hour",
  values: ["qty"],
  by: ["region"],
  method: "locf",
  agg: "sum",
  format: "json",
  limit: 10,
  offset: 0,
};

Deno.test({
  name: "olap time-series routes survive hostile clients: each bad, unknown or huge field is a 400 naming it",
  async fn(t) {
    const env = await salesEngine({ concurrency: 2, spoolBytes: 1 << 20, stallMs: 500, timeoutMs: 0 });
    try {
      await hostileHttpSuite(t, {
        name: "olap time-series",
        clients: 6,
        start: () => {
          const s = serve(env.olap, { port: 0 });
          return Promise.resolve({ url: s.url, close: () => s.shutdown() });
        },
        json: { path: "timeseries/gap-fill" },
        maxBodyBytes: 1 << 20,
        probe: { path: "timeseries/retention", body: JSON.stringify({ ...SALES, user: "region", period: "week" }) },
        // About 34,000 rows a minute apart, over and over: megabytes of answer.
        large: {
          path: "timeseries/moving",
          body: JSON.stringify({ ...SALES, value: "qty", window: "1 day", by: ["region", "product"] }),
        },
        fields: [
          {
            path: "timeseries/gap-fill",
            valid: GAP_FILL,
            cases: [
              // A tiny interval over a small table: a grid of 2·10^12 buckets, refused before it is built.
              { name: "every 1 microsecond", body: { ...GAP_FILL, every: "1 microsecond" }, field: "every" },
              { name: "every 0 hours", body: { ...GAP_FILL, every: "0 hours" }, field: "every" },
              { name: "every 10^30 hours", body: { ...GAP_FILL, every: `1${"0".repeat(30)} hours` }, field: "every" },
              { name: "5,000 values", body: { ...GAP_FILL, values: Array(5000).fill("qty") }, field: "values" },
              { name: "20,000 by columns", body: { ...GAP_FILL, by: Array(20000).fill("region") }, field: "by" },
              { name: "a subquery as table", body: { ...GAP_FILL, table: "(select 1)" }, field: "table" },
              { name: "limit 2^63", body: { ...GAP_FILL, limit: 2 ** 63 }, field: "limit" },
            ],
          },
          {
            path: "timeseries/asof-join",
            valid: { ...SALES, right: "sales", rightTime: "ts", columns: ["qty"], by: ["region"] },
          },
          {
            path: "timeseries/moving",
            valid: { ...SALES, value: "qty", window: "7 days", agg: "sum", by: ["region"], as: "m" },
            cases: [{
              name: "a window of 10^20 years",
              body: { ...SALES, value: "qty", window: `1${"0".repeat(20)} years` },
              field: "window",
            }],
          },
          {
            path: "timeseries/sessionize",
            valid: { ...SALES, user: "region", gap: "30 minutes" },
            cases: [{
              name: "a gap of 10^11 years",
              body: { ...SALES, user: "region", gap: "99999999999 years" },
              field: "gap",
            }],
          },
          { path: "timeseries/retention", valid: { ...SALES, user: "region", period: "week" } },
          {
            path: "timeseries/funnel",
            valid: { ...SALES, user: "region", event: "product", steps: ["a", "b"], within: "1 day" },
            cases: [{
              name: "1,000 steps",
              body: {
                ...SALES,
                user: "region",
                event: "product",
                steps: Array.from({ length: 1000 }, (_, i) => `s${i}`),
              },
              field: "steps",
            }],
          },
        ],
      });
    } finally {
      await env.close();
    }
  },
});
