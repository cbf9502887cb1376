import assert from "node:assert/strict";
import { connectKafka } from "@mercury/core/services/kafka";
import { MercuryError } from "@mercury/core";
import { uniqueName } from "../_helpers.ts";

Deno.test({
  name: "Kafka: produce, consume in a group, and commit offsets on the real broker",
  async fn() {
    const k = await connectKafka();
    const topic = uniqueName("mercury_test");
    const group = uniqueName("mercury_group");
    try {
      const health = await k.health();
      assert.equal(health.ok, true, health.detail);
      assert.ok(await k.admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }));

      const producer = k.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const messages = Array.from({ length: 300 }, (_, i) => ({ key: `user-${i % 17}`, value: String(i) }));
      await producer.send({ topic, acks: -1, messages });
      await producer.disconnect();

      const offsets = await k.admin.fetchTopicOffsets(topic);
      assert.equal(offsets.length, 3);
      assert.equal(offsets.reduce((s, o) => s + Number(o.high), 0), 300);

      const consumer = k.kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen = new Map<string, string[]>();
      await new Promise<void>((resolve, reject) => {
        let count = 0;
        const timer = setTimeout(() => reject(new Error(`only ${count} of 300 messages within 30s`)), 30000);
        consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const key = message.key!.toString();
            seen.set(key, [...(seen.get(key) ?? []), message.value!.toString()]);
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            if (++count === 300) {
              clearTimeout(timer);
              resolve();
            }
          },
        }).catch(reject);
      });
      await consumer.disconnect();

      // Every message arrived once, and per key in the order produced.
      const all = [...seen.values()].flat().map(Number).sort((a, b) => a - b);
      assert.deepEqual(all, messages.map((_, i) => i));
      for (const values of seen.values()) {
        const nums = values.map(Number);
        assert.deepEqual(nums, [...nums].sort((a, b) => a - b));
      }
      // The group's committed offsets equal the partitions' end offsets.
      const [committed] = await k.admin.fetchOffsets({ groupId: group, topics: [topic] });
      const byPartition = new Map(offsets.map((o) => [o.partition, o.high]));
      for (const p of committed!.partitions) assert.equal(p.offset, byPartition.get(p.partition));
    } finally {
      await k.admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await k.admin.deleteGroups([group]).catch(() => {});
      await k.close();
    }
  },
});

Deno.test({
  name: "connectKafka() names the broker and a hint when nothing listens",
  async fn() {
    await assert.rejects(connectKafka({ brokers: ["127.0.0.1:1"], timeoutMs: 1500 }), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.equal(err.code, "unavailable");
      assert.match(err.message, /cannot reach Kafka at 127\.0\.0\.1:1/);
      assert.match(err.hint ?? "", /MERCURY_KAFKA_BROKERS/);
      return true;
    });
  },
});
