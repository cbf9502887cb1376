/**
 * {@linkcode readCommitted} (how the Kafka sink's results and changelog are
 * read back) against the real broker: records of an aborted transaction are
 * dropped, committed and non-transactional records kept, in offset order per
 * partition, and a transaction still open when the read starts is not waited
 * for.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Producer } from "@platformatic/kafka";
import { ensureTopic, readCommitted } from "@mercury/stream";
import { resolveEndpoints } from "@mercury/core";
import { uniqueName } from "../_helpers.ts";

const brokers = resolveEndpoints().kafka.brokers;

function producer(id: string): Producer {
  return new Producer({
    clientId: "mercury-read-committed-test",
    bootstrapBrokers: brokers,
    transactionalId: id,
    idempotent: true,
    acks: -1,
    producerId: -1n,
    producerEpoch: -1,
  });
}

const msgs = (topic: string, tag: string, n: number, partition: number) =>
  Array.from({ length: n }, (_, i) => ({
    topic,
    partition,
    key: Buffer.from(`${tag}-${i}`),
    value: Buffer.from(JSON.stringify({ tag, i })),
  }));

Deno.test({
  name:
    "readCommitted: aborted transactions dropped, committed and plain records kept, open transactions not awaited unless settling",
  async fn() {
    const topic = uniqueName("readcommitted");
    await ensureTopic(brokers, topic, { partitions: 2 });
    const tx = producer(`${topic}-tx`);
    const open = producer(`${topic}-open`);
    const plain = new Producer({ clientId: "mercury-read-committed-test", bootstrapBrokers: brokers, acks: -1 });
    try {
      let t = await tx.beginTransaction();
      await t.send({ messages: [...msgs(topic, "c1", 50, 0), ...msgs(topic, "c1", 30, 1)] });
      await t.commit();
      t = await tx.beginTransaction();
      await t.send({ messages: [...msgs(topic, "a", 40, 0), ...msgs(topic, "a", 40, 1)] });
      await t.abort();
      await plain.send({ messages: msgs(topic, "p", 10, 1) });
      t = await tx.beginTransaction();
      await t.send({ messages: msgs(topic, "c2", 20, 0) });
      await t.commit();
      // Left open: its records are past partition 0's last stable offset.
      const o = await open.beginTransaction();
      await o.send({ messages: msgs(topic, "o", 5, 0) });
      try {
        const t0 = performance.now();
        const read = await readCommitted(brokers, topic, 500, 5000);
        const ms = performance.now() - t0;
        const tags = (p: number) => read.filter((r) => r.partition === p).map((r) => r.key.replace(/-\d+$/, ""));
        const count = (p: number, tag: string) => tags(p).filter((x) => x === tag).length;
        assert.deepEqual([count(0, "c1"), count(0, "c2"), count(1, "c1"), count(1, "p")], [50, 20, 30, 10]);
        assert.equal(read.filter((r) => r.key.startsWith("a-") || r.key.startsWith("o-")).length, 0);
        for (const p of [0, 1]) {
          const offsets = read.filter((r) => r.partition === p).map((r) => r.offset);
          assert.deepEqual(offsets, [...offsets].sort((x, y) => (x < y ? -1 : 1)), `partition ${p} out of order`);
        }
        assert.equal(JSON.parse(read.find((r) => r.key === "c2-19")!.value).i, 19);
        assert.ok(ms < 5000, `took ${Math.round(ms)} ms with a transaction open`);
        // Settling waits for the open transaction up to its deadline, then reads without it.
        const s0 = performance.now();
        const settled = await readCommitted(brokers, topic, 500, 5000, 800);
        const settleMs = performance.now() - s0;
        assert.ok(settleMs >= 800, `settled in ${Math.round(settleMs)} ms with a transaction open`);
        assert.equal(settled.filter((r) => r.key.startsWith("o-")).length, 0);
      } finally {
        await o.abort();
      }
      // Nothing open: settling costs nothing and sees every committed record.
      const s1 = performance.now();
      const after = await readCommitted(brokers, topic, 500, 5000, 5000);
      assert.ok(performance.now() - s1 < 3000, `settled in ${Math.round(performance.now() - s1)} ms with nothing open`);
      assert.equal(after.length, 50 + 20 + 30 + 10);
    } finally {
      await Promise.all([tx.close(), open.close(), plain.close()]);
    }
  },
});
