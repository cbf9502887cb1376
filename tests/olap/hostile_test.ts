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
import { integration } from "../_helpers.ts";
import { salesEngine } from "./_fixtures.ts";

const TOKEN = "hostile-token";

Deno.test({
  name: "olap API survives hostile clients (oversized and malformed bodies, stalled senders, clients not reading)",
  ...integration,
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
