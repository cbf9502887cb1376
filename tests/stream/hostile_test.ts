/**
 * The stream plugin's HTTP servers under the shared hostile-input suite
 * (tests/_hostile.ts): a worker's `/metrics` server and the live dashboard.
 * Neither takes a request body, so the suite's body cases are skipped; what
 * is checked is that clients that never finish a request (or never read an
 * answer) do not starve another client, and that the server keeps serving.
 */
import assert from "node:assert/strict";
import { Registry } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { Dashboard, ensureTopic, LagReader, PostgresSink, serveMetrics } from "@mercury/stream";
import { connectKafka } from "@mercury/core/services/kafka";
import { resolveEndpoints } from "@mercury/core";
import { hostileHttpSuite } from "../_hostile.ts";
import { uniqueName } from "../_helpers.ts";

Deno.test({
  name: "stream metrics server: the shared hostile-input suite",
  async fn(t) {
    const registry = new Registry();
    // A large exposition (about 2 MB), for clients that never read it.
    const c = registry.counter("mercury_hostile_test_total", "a counter with many series", ["series"]);
    for (let i = 0; i < 20_000; i++) c.inc({ series: `s${i}_${"x".repeat(60)}` });
    await hostileHttpSuite(t, {
      name: "stream /metrics",
      start: () => {
        const s = serveMetrics(registry, 0);
        return Promise.resolve({ url: `http://127.0.0.1:${s.port}/`, close: () => s.shutdown() });
      },
      probe: { path: "healthz" },
      large: { path: "metrics" },
    });
  },
});

Deno.test({
  name: "stream dashboard: the shared hostile-input suite",
  async fn(t) {
    const pg = await connectPostgres({ max: 2 });
    const redis = await connectRedis();
    const topic = uniqueName("hostile_dash");
    const brokers = resolveEndpoints().kafka.brokers;
    await ensureTopic(brokers, topic, { partitions: 2 });
    const sink = await PostgresSink.open(pg.sql, topic); // the tables the dashboard reads
    const lag = new LagReader(brokers, topic, topic, pg.sql);
    const dash = new Dashboard({ pipeline: topic, topic, sql: pg.sql, redis: redis.client, lag });
    try {
      await dash.sample();
      assert.equal(dash.samples.length, 1);
      await hostileHttpSuite(t, {
        name: "stream dashboard",
        start: () => {
          const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, dash.handler());
          return Promise.resolve({ url: `http://127.0.0.1:${s.addr.port}/`, close: () => s.shutdown() });
        },
        probe: { path: "api/samples" },
        large: { path: "api/panels" },
      });
    } finally {
      await lag.close();
      await sink.reset();
      const k = await connectKafka();
      try {
        await k.admin.deleteTopics({ topics: [topic] });
      } finally {
        await k.close();
      }
      await pg.close();
      await redis.close();
    }
  },
});
