import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { resolveEndpoints } from "@mercury/core";
import { connectRedis } from "@mercury/core/services/redis";
import { changelogDimension, type EnrichedEvent, ensureTopic, openChangelog, redisDimension } from "@mercury/stream";
import { Admin, Producer } from "@platformatic/kafka";
import { uniqueName } from "../_helpers.ts";

const brokers = resolveEndpoints().kafka.brokers;
const event = (user: string): EnrichedEvent => ({ id: user, user, device: "d", amount: 1, ts: 0 });

Deno.test({
  name: "a compacted Kafka topic as a changelog: latest value per key, tombstones delete, updates follow",
  async fn() {
    const topic = uniqueName("regions");
    await ensureTopic(brokers, topic, { partitions: 2, compact: true });
    const producer = new Producer({ clientId: "t", bootstrapBrokers: brokers });
    const send = (key: string, value: string | null) =>
      producer.send({
        messages: [{ topic, key: Buffer.from(key), value: value === null ? undefined : Buffer.from(value) }],
      });
    await send("u1", "eu");
    await send("u2", "us");
    await send("u1", "apac"); // an update
    await send("u3", "eu");
    await send("u3", null); // a tombstone
    const changelog = await openChangelog(brokers, topic);
    try {
      assert.equal(changelog.get("u1"), "apac");
      assert.equal(changelog.get("u2"), "us");
      assert.equal(changelog.get("u3"), undefined);
      const enriched = await changelogDimension(changelog, "region")([event("u1"), event("u9")]);
      assert.deepEqual(enriched.map((e) => e.attrs), [{ region: "apac" }, { region: "unknown" }]);
      // It keeps following the topic.
      await send("u9", "latam");
      for (let i = 0; i < 50 && changelog.get("u9") === undefined; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(changelog.get("u9"), "latam");
    } finally {
      await changelog.close();
      await producer.close();
      const admin = new Admin({ clientId: "t", bootstrapBrokers: brokers });
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.close();
    }
  },
});

Deno.test({
  name: "redisDimension(): one pipelined lookup per batch, cached, with a default for unknown keys",
  async fn() {
    const redis = await connectRedis();
    const prefix = uniqueName("dim");
    try {
      await redis.client.hset(`${prefix}:a`, { tier: "gold" });
      let calls = 0;
      const counting = new Proxy(redis.client, {
        get(target, prop, receiver) {
          if (prop === "pipeline") calls++;
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const enrich = redisDimension({ redis: counting, keyOf: (u) => `${prefix}:${u}`, fields: { tier: "none" } });
      const out = await enrich([event("a"), event("b"), event("a")]);
      assert.deepEqual(out.map((e) => e.attrs?.tier), ["gold", "none", "gold"]);
      await enrich([event("a"), event("b")]);
      assert.equal(calls, 1, "the second batch should come from the cache");
    } finally {
      await redis.client.del(`${prefix}:a`);
      await redis.close();
    }
  },
});
