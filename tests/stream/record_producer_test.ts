/**
 * The lean producer against the real broker: what `@platformatic/kafka`'s
 * consumer reads back is exactly what was appended (keys, values, nulls,
 * non-ASCII text, text or bytes, timestamps), keys land where Kafka's Java partitioner puts
 * them, every codec is accepted (the broker checks each batch's CRC-32C), and
 * a refused batch is a ProduceError naming the partition.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { resolveEndpoints } from "@mercury/core";
import { crc32c, ensureTopic, ProduceError, RecordProducer } from "@mercury/stream";
import { murmur2 } from "@platformatic/kafka";
import { uniqueName } from "../_helpers.ts";
import { readWithClient } from "./_kafka.ts";

const brokers = resolveEndpoints().kafka.brokers;

Deno.test("crc32c(): the Castagnoli check values", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
  // Slices: the same bytes at another position give the same CRC.
  const shifted = new Uint8Array(1003);
  shifted.set(bytes, 3);
  assert.equal(crc32c(shifted, 3, 1003), crc32c(bytes));
});

Deno.test({
  name: "RecordProducer: records read back exactly, keys partitioned as Kafka's Java client, every codec",
  async fn() {
    for (const compression of ["none", "gzip", "snappy", "lz4", "zstd"] as const) {
      const topic = uniqueName(`produce-${compression}`);
      await ensureTopic(brokers, topic, { partitions: 5 });
      const producer = await RecordProducer.open({ brokers, topic, compression, inFlight: 3 });
      const sent: { key: string | null; value: string | null; timestamp: number }[] = [];
      const base = 1_767_225_600_000;
      for (let i = 0; i < 4000; i++) {
        const key = i % 13 === 0 ? null : `user-${i % 97}${i % 5 === 0 ? "é" : ""}`;
        const value = i % 17 === 0 ? null : JSON.stringify({ i, text: "ü".repeat(i % 9), pad: "x".repeat(i % 200) });
        const timestamp = base + i * 7 - (i % 3) * 1000; // out of order within a batch
        // Every fourth record goes in as bytes instead of text: the same record on the wire.
        const bytes = (x: string | null) => (x === null || i % 4 !== 1 ? x : new TextEncoder().encode(x));
        producer.append(bytes(key), bytes(value), timestamp);
        sent.push({ key, value, timestamp });
        if (i % 700 === 699) await producer.send();
      }
      await producer.flush();
      assert.equal(producer.acknowledged, 4000);
      await producer.close();
      const got = await readWithClient(topic, 4000);
      assert.equal(got.length, 4000, compression);
      // Per partition, in order; keyed records where the Java partitioner puts them.
      const expected = new Map<number, typeof sent>();
      const byKey = sent.filter((r) => r.key !== null);
      for (const r of byKey) {
        const p = (murmur2(Buffer.from(r.key!)) & 0x7fffffff) % 5;
        if (!expected.has(p)) expected.set(p, []);
        expected.get(p)!.push(r);
      }
      for (const [p, rows] of expected) {
        const mine = got.filter((r) => r.partition === p && r.key !== null).map(({ key, value, timestamp }) => ({
          key,
          value,
          timestamp,
        }));
        assert.deepEqual(mine, rows, `${compression}: partition ${p}`);
      }
      const keyless = got.filter((r) => r.key === null).map((r) => r.value);
      assert.deepEqual(keyless.sort(), sent.filter((r) => r.key === null).map((r) => r.value).sort());
    }
  },
});

Deno.test({
  name: "RecordProducer: a burst bigger than a batch is split (one hot key, and keyless), order kept",
  async fn() {
    const topic = uniqueName("produce-burst");
    await ensureTopic(brokers, topic, { partitions: 3 });
    const producer = await RecordProducer.open({ brokers, topic, inFlight: 2 });
    // 12,000 × ~110 bytes for one key: ~1.3 MB, more than the broker takes in one batch.
    for (let i = 0; i < 12_000; i++) producer.append("hot", `{"i":${i},"pad":"${"x".repeat(90)}"}`, Date.now());
    for (let i = 0; i < 12_000; i++) producer.append(null, `{"j":${i},"pad":"${"y".repeat(90)}"}`, Date.now());
    await producer.flush();
    assert.equal(producer.acknowledged, 24_000);
    await producer.close();
    const got = await readWithClient(topic, 24_000);
    const hot = got.filter((r) => r.key === "hot").map((r) => JSON.parse(r.value!).i);
    assert.deepEqual(hot, Array.from({ length: 12_000 }, (_, i) => i));
    assert.equal(new Set(got.filter((r) => r.key === null).map((r) => r.partition)).size, 3);
  },
});

Deno.test({
  name: "RecordProducer: an unknown topic and a refused batch are clear errors",
  async fn() {
    await assert.rejects(
      RecordProducer.open({ brokers, topic: uniqueName("no-such-topic") }),
      (err: unknown) => err instanceof ProduceError && /^unknown topic "no-such-topic/.test(err.message),
    );
    const topic = uniqueName("produce-too-large");
    await ensureTopic(brokers, topic, { partitions: 1, maxMessageBytes: 10_000 });
    const producer = await RecordProducer.open({ brokers, topic, batchBytes: 60_000 });
    // The first batch is refused while the next ones wait behind it: the run ends, it does not hang.
    for (let i = 0; i < 3; i++) producer.append("k", "x".repeat(50_000), Date.now());
    await assert.rejects(producer.flush(), (err: unknown) => {
      assert.ok(err instanceof ProduceError);
      assert.equal(err.partition, 0);
      assert.match(err.message, new RegExp(`${topic}/0: MESSAGE_TOO_LARGE`));
      return true;
    });
    assert.equal(producer.acknowledged, 0);
    await producer.close();
  },
});
