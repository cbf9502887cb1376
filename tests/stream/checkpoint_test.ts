/**
 * The worker's checkpoint pieces on their own (split out of processor.ts):
 * which form each partition's state takes in a checkpoint (snapshot delta or
 * observation-log chunk), what the partitions count from afterwards, that a
 * fenced commit is not retried, and the fetch queue's back-pressure bound.
 */
import assert from "node:assert/strict";
import { Producer } from "@platformatic/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { resolveEndpoints } from "@mercury/core";
import { defaultTopology, FencedError, PostgresSink, tumbling } from "@mercury/stream";
import { commitCheckpoint, takeCheckpoint } from "../../plugins/stream/checkpoint.ts";
import { loadPartition, type PartitionState } from "../../plugins/stream/partition_state.ts";
import { QUEUE_BYTES, ResponseQueue } from "../../plugins/stream/fetch_pump.ts";
import { uniqueName } from "../_helpers.ts";

const topology = defaultTopology(tumbling(60_000), { maxOutOfOrdernessMs: 5000, allowedLatenessMs: 0 });
const T0 = Date.UTC(2026, 0, 1);

/** Adds `n` observations one second apart from `from` to `s`, as processing does (logged, results collected). */
function feed(s: PartitionState, n: number, from: number): void {
  for (let i = 0; i < n; i++) {
    const o = { key: `u${i % 3}`, ts: from + i * 1000, value: i, distinct: `d${i}`, attrs: undefined };
    if (s.agg.add(o) === "ok") s.log.append(o);
    s.next++;
    s.events++;
    s.dirty = true;
  }
  s.pending.push(...s.agg.advance());
}

Deno.test({
  name: "takeCheckpoint: a new partition snapshots, a stored one logs until its snapshot is due, final snapshots all",
  async fn() {
    const pg = await connectPostgres({ max: 2 });
    const pipeline = uniqueName("ckpt");
    const sink = await PostgresSink.open(pg.sql, pipeline);
    try {
      const parts = new Map<number, PartitionState>();
      for (const p of [0, 1]) parts.set(p, await loadPartition(sink, topology, "t", p, 60_000, () => {}));
      const ctx = { topic: "t", topology, sink, snapshotMs: 60_000, lastMessage: () => undefined };
      feed(parts.get(0)!, 90, T0); // 90 s of events: the first minute closes
      const first = takeCheckpoint(parts, false, ctx);
      // Only the dirty partition, never stored before: a snapshot (delta), with its closed windows' results.
      assert.deepEqual(first.checkpoints.map((c) => c.partition), [0]);
      assert.ok(first.checkpoints[0]!.delta && !first.checkpoints[0]!.log);
      assert.equal(first.checkpoints[0]!.expectedOffset, null);
      assert.equal(first.checkpoints[0]!.nextOffset, 90n);
      assert.deepEqual(first.results.map((r) => [r.key, r.count]).sort(), [["u0", 20], ["u1", 20], ["u2", 20]]);
      const s0 = parts.get(0)!;
      assert.deepEqual([s0.expected, s0.pending.length, s0.events, s0.dirty], [90n, 0, 0, false]);
      await sink.commit(first.results, first.checkpoints);

      // Stored now and its snapshot not due: the observations go as a log chunk, the offset moves on.
      feed(s0, 10, T0 + 90_000);
      const second = takeCheckpoint(parts, false, ctx);
      const c = second.checkpoints[0]!;
      assert.ok(c.log && !c.delta, "a log chunk, not a snapshot");
      assert.deepEqual([c.expectedOffset, c.nextOffset, c.events], [90n, 100n, 10]);
      assert.equal(s0.logged, 10);
      await sink.commit(second.results, second.checkpoints);

      // A final checkpoint snapshots a partition whose state lives in the log, dirty or not.
      const last = takeCheckpoint(parts, true, ctx);
      assert.deepEqual(last.checkpoints.map((x) => [x.partition, !!x.delta]), [[0, true]]);
      assert.equal(s0.logged, 0);
      await sink.commit(last.results, last.checkpoints);
      // What was committed loads back as the same state.
      const back = await loadPartition(sink, topology, "t", 0, 60_000, () => {});
      assert.deepEqual([back.expected, back.agg.size], [100n, s0.agg.size]);
    } finally {
      await sink.reset();
      await pg.close();
    }
  },
});

Deno.test({
  name: "commitCheckpoint: a fenced checkpoint fails at once (no retry), nothing written",
  async fn() {
    const pg = await connectPostgres({ max: 2 });
    const pipeline = uniqueName("ckpt_fence");
    const sink = await PostgresSink.open(pg.sql, pipeline);
    const dlq = new Producer({ clientId: "ckpt-test", bootstrapBrokers: resolveEndpoints().kafka.brokers });
    try {
      const base = { topic: "t", partition: 0, state: { maxTs: null, open: [] }, events: 1, late: 0, dead: 0 };
      await sink.commit([], [{ ...base, expectedOffset: null, nextOffset: 5n }]);
      const retries: string[] = [];
      const target = {
        sink,
        consumer: undefined!,
        dlq,
        dlqTopic: "t.dlq",
        topic: "t",
        log: (l: string) => retries.push(l),
      };
      const t0 = performance.now();
      await assert.rejects(
        commitCheckpoint(target, [], [{ ...base, expectedOffset: 3n, nextOffset: 9n }], []),
        FencedError,
      );
      assert.deepEqual(retries, []);
      assert.ok(performance.now() - t0 < 5000);
      assert.equal((await sink.storedOffsets("t")).get(0), 5n);
    } finally {
      await dlq.close().catch(() => {});
      await sink.reset();
      await pg.close();
    }
  },
});

Deno.test("ResponseQueue: full at its byte bound, and counts bytes out as responses leave", () => {
  const q = new ResponseQueue();
  const half = { partitions: [], bytes: QUEUE_BYTES / 2 };
  q.push(half);
  assert.equal(q.full, false);
  q.push({ ...half });
  assert.equal(q.full, true);
  assert.equal(q.shift(), half);
  assert.deepEqual([q.length, q.full], [1, false]);
  q.clear();
  assert.deepEqual([q.length, q.full, q.shift()], [0, false, undefined]);
});
