/** The shared hostile-input suite (tests/_hostile.ts) against the olap API. */
import { serve } from "@mercury/olap";
import { hostileHttpSuite } from "../_hostile.ts";
import { integration } from "../_helpers.ts";
import { salesEngine } from "./_fixtures.ts";

Deno.test({
  name: "olap API survives hostile clients (oversized and malformed bodies, stalled senders, clients not reading)",
  ...integration,
  async fn(t) {
    const env = await salesEngine();
    try {
      await hostileHttpSuite(t, {
        name: "olap",
        start: () => {
          const s = serve(env.olap, { port: 0, token: "hostile-token" });
          return Promise.resolve({ url: s.url, close: () => s.shutdown() });
        },
        json: { path: "query" },
        maxBodyBytes: 1 << 20,
        // A cheap query, so the probe needs a DuckDB connection like any client would.
        probe: { path: "query", body: JSON.stringify({ sql: "select 1 as one", noCache: true }) },
        large: { path: "query", body: JSON.stringify({ sql: "select * from range(3000000) t(i)", noCache: true }) },
      });
    } finally {
      await env.close();
    }
  },
});
