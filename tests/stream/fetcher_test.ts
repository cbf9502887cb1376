/**
 * The worker's fetch path against the real broker: every codec, read_committed
 * around an aborted and a committed transaction, a start inside a batch, and an
 * offset out of range — each compared with what `@platformatic/kafka`'s own
 * consumer reads from the same partition.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { resolveEndpoints } from "@mercury/core";
import { ensureTopic, Fetcher, FetchError } from "@mercury/stream";
import { Producer } from "@platformatic/kafka";
import { uniqueName } from "../_helpers.ts";
import { readWithClient, type Rec } from "./_kafka.ts";

const brokers = resolveEndpoints().kafka.brokers;
const [host, port] = [brokers[0]!.slice(0, brokers[0]!.lastIndexOf(":")), Number(brokers[0]!.split(":").pop())];

const decoder = new TextDecoder();

/** Everything the Fetcher returns from `from` up to `end` (exclusive) of each partition. */
async function fetchAll(
  topic: string,
  from: Map<number, number>,
  end: Map<number, number>,
  isolationLevel: 0 | 1 = 1,
): Promise<Rec[]> {
  const f = new Fetcher({
    topic,
    clientId: "fetcher-test",
    isolationLevel,
    leader: () => Promise.resolve({ host, port }),
  });
  f.assign(from);
  const out: Rec[] = [];
  try {
    for (let i = 0; i < 200 && [...end].some(([p, e]) => (f.positions.get(p) ?? 0) < e); i++) {
      f.visit(await f.next(), (partition, offset, timestamp, buf, ks, ke, vs, ve) => {
        out.push({
          partition,
          offset,
          timestamp,
          key: ks < 0 ? null : decoder.decode(buf.subarray(ks, ke)),
          value: vs < 0 ? null : decoder.decode(buf.subarray(vs, ve)),
        });
      });
    }
  } finally {
    f.close();
  }
  return out;
}

const byPosition = (a: Rec, b: Rec) => a.partition - b.partition || a.offset - b.offset;

Deno.test({
  name: "Fetcher: every compression codec decodes to what the client's consumer reads",
  async fn() {
    for (const compression of ["none", "gzip", "snappy", "lz4", "zstd"] as const) {
      const topic = uniqueName(`fetch-${compression}`);
      await ensureTopic(brokers, topic, { partitions: 2 });
      // Idempotent: a send the client retried on a slow broker (seen under load) must not write a batch twice.
      const producer = new Producer({
        clientId: "fetcher-test",
        bootstrapBrokers: brokers,
        compression,
        idempotent: true,
        acks: -1,
      });
      const messages = Array.from({ length: 3000 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: i % 7 === 0 ? undefined : Buffer.from(`k${i}`),
        value: i % 11 === 0 ? undefined : Buffer.from(JSON.stringify({ i, pad: "é".repeat(i % 50) })),
        timestamp: BigInt(1_767_225_600_000 + i),
        headers: new Map([[Buffer.from("h"), Buffer.from(String(i))]]),
      }));
      for (let i = 0; i < messages.length; i += 500) await producer.send({ messages: messages.slice(i, i + 500) });
      await producer.close();
      const ours = await fetchAll(topic, new Map([[0, 0], [1, 0]]), new Map([[0, 1500], [1, 1500]]));
      const theirs = await readWithClient(topic, 3000);
      assert.equal(ours.length, 3000, compression);
      assert.deepEqual(ours.sort(byPosition), theirs.sort(byPosition), compression);
      assert.equal(ours.filter((r) => r.key === null).length, 429);
      assert.equal(ours.filter((r) => r.value === null).length, 273);
    }
  },
});

Deno.test({
  name: "Fetcher: read_committed skips an aborted transaction and the control markers; a start inside a batch",
  async fn() {
    const topic = uniqueName("fetch-txn");
    await ensureTopic(brokers, topic, { partitions: 1 });
    const producer = new Producer({
      clientId: "fetcher-test",
      bootstrapBrokers: brokers,
      transactionalId: uniqueName("fetcher-txn"),
      idempotent: true,
      acks: -1,
      producerId: -1n,
      producerEpoch: -1,
    });
    const batch = (tag: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ topic, partition: 0, value: Buffer.from(`${tag}-${i}`) }));
    let tx = await producer.beginTransaction();
    await tx.send({ messages: batch("committed-a", 100) });
    await tx.commit();
    tx = await producer.beginTransaction();
    await tx.send({ messages: batch("aborted", 50) });
    await tx.send({ messages: batch("aborted-again", 50) });
    await tx.abort();
    tx = await producer.beginTransaction();
    await tx.send({ messages: batch("committed-b", 100) });
    await tx.commit();
    await producer.close();
    // 100 + commit marker + 100 + abort marker + 100 + commit marker = 303 offsets.
    const end = new Map([[0, 303]]);

    const committed = await fetchAll(topic, new Map([[0, 0]]), end, 1);
    assert.equal(committed.length, 200);
    assert.ok(committed.every((r) => r.value!.startsWith("committed-")));
    assert.deepEqual(committed.map((r) => r.value), (await readWithClient(topic, 200, 1)).map((r) => r.value));
    const uncommitted = await fetchAll(topic, new Map([[0, 0]]), end, 0);
    assert.equal(uncommitted.length, 300, "read_uncommitted sees the aborted records, never the markers");

    // From offset 40, inside the first batch: nothing before it.
    const tail = await fetchAll(topic, new Map([[0, 40]]), end, 1);
    assert.equal(tail[0]!.offset, 40);
    assert.equal(tail[0]!.value, "committed-a-40");
    assert.equal(tail.length, 160);
  },
});

Deno.test({
  name: "Fetcher: an offset past the log's end is a FetchError naming the partition",
  async fn() {
    const topic = uniqueName("fetch-range");
    await ensureTopic(brokers, topic, { partitions: 1 });
    const f = new Fetcher({ topic, clientId: "fetcher-test", leader: () => Promise.resolve({ host, port }) });
    f.assign(new Map([[0, 1000]]));
    // Right after creation (or a broker restart) the leader may not be known yet (a retriable error): ask again.
    const fetch = async () => {
      for (let i = 0;; i++) {
        try {
          return await f.next();
        } catch (err) {
          if (!(err instanceof FetchError) || err.code === 1 || !err.retriable || i > 300) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    try {
      await assert.rejects(fetch(), (err: unknown) => {
        assert.ok(err instanceof FetchError);
        assert.equal(err.code, 1);
        assert.equal(err.partition, 0);
        assert.match(err.message, new RegExp(`offset 1000 of ${topic}/0 is out of range`));
        return true;
      });
    } finally {
      f.close();
    }
  },
});
