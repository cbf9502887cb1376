/**
 * The backlog reader ({@linkcode LagReader}) and the commands built on it —
 * `dashboard` and `autoscale` — against a broker that accepts TCP and never
 * answers: `error[unavailable]` (exit 69) naming the broker within the
 * request deadline, instead of hanging.
 */
import assert from "node:assert/strict";
import { connectPostgres } from "@mercury/core/services/postgres";
import { Dashboard, ensureTopic, LagReader, PostgresSink, produceEvents } from "@mercury/stream";
import { resolveEndpoints } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectRedis } from "@mercury/core/services/redis";
import { silentPeer } from "../_hostile.ts";
import { runScript, uniqueName } from "../_helpers.ts";

Deno.test({
  name: "LagReader.read() against a silent broker: unavailable naming it within the request deadline",
  async fn() {
    const peer = silentPeer();
    const pg = await connectPostgres({ max: 1 });
    const lag = new LagReader([peer.address], "events", uniqueName("lag"), pg.sql, 1000);
    try {
      const t0 = performance.now();
      await assert.rejects(lag.read(), (err: Error & { code?: string }) => {
        assert.equal(err.code, "unavailable");
        assert.match(err.message, new RegExp(`cannot reach Kafka at ${peer.address}`));
        return true;
      });
      const ms = performance.now() - t0;
      assert.ok(ms < 5000, `took ${Math.round(ms)} ms (deadline 1000 ms)`);
    } finally {
      await lag.close();
      peer.close();
      await pg.close();
    }
  },
});

Deno.test({
  name: "stream dashboard and autoscale against a silent broker exit 69 naming it within 20 s",
  async fn(t) {
    const peer = silentPeer();
    const pipeline = uniqueName("lagdl");
    const pg = await connectPostgres({ max: 1 });
    // The dashboard's first sample reads the checkpoints table before Kafka.
    const sink = await PostgresSink.open(pg.sql, pipeline);
    try {
      for (const args of [["dashboard", "--port", "0"], ["autoscale", "--max", "1", "--duration", "60s"]]) {
        await t.step(args[0]!, async () => {
          const t0 = performance.now();
          const r = await runScript(
            "tasks/mercury.ts",
            ["stream", ...args, "--topic", pipeline, "--request-timeout", "2s"],
            { MERCURY_KAFKA_BROKERS: peer.address },
          );
          const ms = performance.now() - t0;
          assert.equal(r.code, 69, r.stdout + r.stderr);
          const errors = r.stderr.split("\n").filter((l) => l.startsWith("error"));
          assert.equal(errors.length, 1, r.stderr);
          assert.match(errors[0]!, /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:\d+/);
          assert.ok(errors[0]!.includes(`(at ${peer.address})`), errors[0]);
          assert.match(errors[0]!, /hint: .*deno task services up kafka.*MERCURY_KAFKA_BROKERS/);
          assert.ok(ms < 20_000, `took ${Math.round(ms)} ms`);
        });
      }
    } finally {
      await sink.reset();
      peer.close();
      await pg.close();
    }
  },
});

Deno.test({
  name: "Dashboard.start(): with a silent broker the samples wait for each other instead of piling up",
  async fn() {
    const peer = silentPeer();
    const pipeline = uniqueName("lagpile");
    const pg = await connectPostgres({ max: 2 });
    const redis = await connectRedis();
    const sink = await PostgresSink.open(pg.sql, pipeline);
    const reader = new LagReader([peer.address], pipeline, pipeline, pg.sql, 3000);
    let inFlight = 0;
    let most = 0;
    let reads = 0;
    const lag = {
      read: async () => {
        reads++;
        most = Math.max(most, ++inFlight);
        try {
          return await reader.read();
        } finally {
          inFlight--;
        }
      },
    };
    const dash = new Dashboard({ pipeline, topic: pipeline, sql: pg.sql, redis: redis.client, lag });
    try {
      dash.start();
      // Ticks at 1, 2, 3 and 4 s; each read waits 3 s for the silent broker.
      await new Promise((r) => setTimeout(r, 4500));
      assert.ok(reads >= 1, "the dashboard sampled");
      assert.equal(most, 1, `${most} lag reads were under way at once`);
    } finally {
      dash.stop();
      await reader.close();
      peer.close();
      await sink.reset();
      await redis.close();
      await pg.close();
    }
  },
});

Deno.test({
  name: "Dashboard.sample() and LagReader.read() on a database no worker has used yet: zero events, lag = end offsets",
  async fn() {
    const main = await connectPostgres({ max: 1 });
    const db = `mercury_fresh_${crypto.randomUUID().slice(0, 8)}`;
    await main.sql.unsafe(`create database ${db}`);
    const url = new URL(main.url);
    url.pathname = `/${db}`;
    const fresh = await connectPostgres({ url: url.toString(), max: 2 });
    const redis = await connectRedis();
    const brokers = resolveEndpoints().kafka.brokers;
    const topic = uniqueName("fresh");
    await ensureTopic(brokers, topic, { partitions: 2 });
    await produceEvents({
      brokers,
      topic,
      count: 100,
      eventsPerSec: 0,
      users: 5,
      disorderMs: 0,
      lateShare: 0,
      malformedShare: 0,
      seed: 1,
      start: Date.now(),
      stepMs: 1,
    });
    const lag = new LagReader(brokers, topic, topic, fresh.sql);
    try {
      const parts = await lag.read();
      assert.equal(parts.reduce((s, p) => s + p.lag, 0), 100);
      const dash = new Dashboard({ pipeline: topic, topic, sql: fresh.sql, redis: redis.client, lag });
      await dash.sample();
      assert.equal(dash.samples[0]!.events, 0);
      assert.equal(dash.samples[0]!.lag, 100);
      assert.match((await dash.panels()).results!, /No final windows yet/);
    } finally {
      await lag.close();
      await fresh.close();
      await main.sql.unsafe(`drop database if exists ${db} with (force)`);
      await main.close();
      await redis.close();
      const k = await connectKafka();
      try {
        await k.admin.deleteTopics({ topics: [topic] });
      } finally {
        await k.close();
      }
    }
  },
});
