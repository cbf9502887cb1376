/**
 * The live dashboard against real PostgreSQL and Redis: workers found through
 * Redis and scraped over HTTP, latency percentiles over the last seconds (not
 * since each worker started), counts as numbers, the page and its panels.
 */
import assert from "node:assert/strict";
import { bucketQuantile, Dashboard, PostgresSink, recentBuckets } from "@mercury/stream";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectRedis } from "@mercury/core/services/redis";
import { uniqueName } from "../_helpers.ts";

/** Prometheus text of the worker latency histogram with these cumulative bucket counts. */
function metrics(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([le, n]) => `mercury_stream_end_to_end_latency_seconds_bucket{le="${le}"} ${n}`)
    .join("\n") + "\n";
}

Deno.test("recentBuckets(): per worker now minus then; a new or restarted worker counts whole", () => {
  const b = (a: number, c: number) => new Map([[0.1, a], [Infinity, c]]);
  const then = new Map([["w1", b(100, 100)], ["w2", b(50, 80)]]);
  const now = new Map([["w1", b(100, 130)], ["w2", b(5, 5)], ["w3", b(7, 9)]]);
  // w1: 0 fast + 30 slow since; w2 restarted (counts went back): all 5/5; w3 new: all 7/9.
  assert.deepEqual([...recentBuckets(now, then)], [[0.1, 12], [Infinity, 44]]);
  assert.deepEqual([...recentBuckets(now, undefined)], [[0.1, 112], [Infinity, 144]]);
});

Deno.test({
  name: "Dashboard: latency over the last seconds from the workers' /metrics, numeric window columns, page",
  async fn() {
    const pg = await connectPostgres({ max: 2 });
    const redis = await connectRedis();
    const pipeline = uniqueName("dash");
    // One worker: 1,000 fast observations (≤ 0.1 s) before the dashboard starts, then 100 slow ones.
    let counts = { "0.1": 1000, "1": 1000, "5": 1000, "+Inf": 1000 };
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response(metrics(counts)));
    const key = `mercury:stream:worker:${pipeline}:w1`;
    try {
      await redis.client.set(key, `http://127.0.0.1:${server.addr.port}/metrics`, "EX", 60);
      const sink = await PostgresSink.open(pg.sql, pipeline);
      await pg.sql`insert into stream_checkpoints (pipeline, topic, partition, next_offset, events)
        values (${pipeline}, ${pipeline}, 0, 1100, 1100)`;
      await pg
        .sql`insert into stream_windows (pipeline, key, window_start, window_end, count, sum, distinct_count, p95, attrs)
        values (${pipeline}, 'u1', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 1100, 12345.678, 3, 42.5,
                '{"tier":"gold"}')`;
      const lag = { read: () => Promise.resolve([{ partition: 0, end: 1200, committed: 1100, lag: 100 }]) };
      const dash = new Dashboard({
        pipeline,
        topic: pipeline,
        sql: pg.sql,
        redis: redis.client,
        lag,
        latencyWindowMs: 0,
      });

      await dash.sample();
      // First scrape: everything the worker has seen, all fast.
      assert.ok(dash.samples[0]!.p99! <= 0.1, `first p99 ${dash.samples[0]!.p99}`);
      counts = { "0.1": 1000, "1": 1000, "5": 1100, "+Inf": 1100 };
      await dash.sample();
      // Since the last scrape only slow ones (1–5 s): a cumulative histogram would still say ≤ 0.1 s at p50.
      const last = dash.samples.at(-1)!;
      assert.ok(last.p50! > 1 && last.p50! <= 5, `recent p50 ${last.p50}`);
      assert.ok(
        bucketQuantile(new Map([[0.1, 1000], [1, 1000], [5, 1100], [Infinity, 1100]]), 0.5)! <= 0.1,
        "the cumulative view differs (the test can tell them apart)",
      );
      assert.equal(last.events, 1100);
      assert.equal(last.lag, 100);

      const panels = await dash.panels();
      assert.match(panels.stats!, /1 worker\(s\) · 1100 events counted/);
      for (const id of ["throughput", "latency", "lag"]) assert.match(panels[id]!, /<svg/, id);
      assert.match(panels.latency!, /last 0 s/);
      // count and devices come back as numbers (bigint columns would be strings, shown left-aligned as text).
      assert.match(panels.results!, /u1/);
      for (const column of ["count", "devices", "sum"]) {
        assert.match(panels.results!, new RegExp(`text-align:right">${column}<br><span[^>]*>number<`), column);
      }
      assert.match(panels.results!, />1100</);

      const handler = dash.handler();
      const page = await handler(new Request("http://x/"));
      assert.match(await page.text(), /Mercury stream pipeline/);
      const api = await (await handler(new Request("http://x/api/samples"))).json();
      assert.equal(api.length, 2);
      assert.equal((await handler(new Request("http://x/nope"))).status, 404);
      await sink.reset();
    } finally {
      await redis.client.del(key);
      await server.shutdown();
      await pg.close();
      await redis.close();
    }
  },
});
