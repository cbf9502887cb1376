/**
 * The observation log: binary chunks round-trip every observation exactly, and
 * replaying chunks (binary and the older text lines) onto a restored snapshot
 * rebuilds the state a worker had; the PostgreSQL sink stores and loads both.
 */
import assert from "node:assert/strict";
import {
  decodeObservationChunk,
  decodeObservations,
  encodeObservation,
  FencedError,
  type Observation,
  ObservationLog,
  type PartitionCheckpoint,
  PostgresSink,
  replayObservations,
  tumbling,
  WindowAggregator,
  type WindowResult,
} from "@mercury/stream";
import { connectPostgres } from "@mercury/core/services/postgres";
import { uniqueName } from "../_helpers.ts";

function observations(n: number): Observation[] {
  const tiers = [{ tier: "gold" }, { tier: "std\tx" }, { tier: "ünï\n" }];
  const out: Observation[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      // Tabs and backslashes, Latin-1 (one byte per code unit) and long keys (multi-byte lengths).
      key: i % 1001 === 0
        ? "ü".repeat(5000 + i)
        : i % 1001 === 500
        ? "ü日".repeat(300)
        : i % 97 === 0
        ? `u\t${i % 5}\\n`
        : `u${(i * 7919) % 500}`,
      ts: 1_767_225_600_000 + i * 13 - (i % 11) * 500,
      value: i % 13 === 0 ? 0 : (i * 0.37) % 1000 + 1e-9 * i,
      distinct: i % 31 === 0 ? "日本" : `d${i % 700}`,
      ...(i % 4 === 0 ? {} : { attrs: tiers[i % 3]! }),
    });
  }
  return out;
}

Deno.test("ObservationLog: a chunk decodes to exactly the observations appended, across growth and reuse", () => {
  const log = new ObservationLog();
  const all = observations(5000);
  // The worker refills one object per event: the log must copy, not keep it.
  const o: Observation = { key: "", ts: 0, value: 0, distinct: "" };
  for (const x of all) {
    Object.assign(o, x);
    if (!("attrs" in x)) o.attrs = undefined;
    log.append(o);
  }
  assert.equal(log.length, 5000);
  const chunk = log.take();
  assert.equal(log.length, 0);
  const back = decodeObservationChunk(chunk);
  assert.equal(back.length, all.length);
  for (let i = 0; i < all.length; i++) assert.deepEqual(back[i], all[i], `observation ${i}`);
  // The log starts over after take(): a second chunk holds only what came after.
  log.append(all[1]!);
  assert.deepEqual(decodeObservationChunk(log.take()), [all[1]]);
  assert.deepEqual(decodeObservationChunk(new ObservationLog().take()), []);
  // No bigger than the text lines it replaces.
  const text = new TextEncoder().encode(all.map(encodeObservation).join("\n"));
  assert.ok(chunk.length < text.length, `${chunk.length} bytes vs ${text.length}`);
});

Deno.test("decodeObservationChunk: a damaged chunk is an error naming it, never wrong observations", () => {
  const log = new ObservationLog();
  for (const x of observations(10)) log.append(x);
  const chunk = log.take();
  assert.throws(() => decodeObservationChunk(chunk.subarray(0, chunk.length - 4)), /observation log chunk: .*expected/);
  assert.throws(() => decodeObservationChunk(new TextEncoder().encode("u1\t5\t1\td")), /not a MOL1 chunk/);
});

Deno.test("replayObservations: binary and text chunks replayed onto a snapshot rebuild the straight run", () => {
  const options = { window: tumbling(60_000), maxOutOfOrdernessMs: 5_000 };
  const all = observations(20_000);
  const straight = new WindowAggregator(options);
  const emitted: WindowResult[] = [];
  const worker = new WindowAggregator(options);
  let snapshot = worker.snapshot();
  let chunks: (string | Uint8Array)[] = [];
  let lines: string[] = [];
  const log = new ObservationLog();
  all.forEach((o, i) => {
    straight.add(o);
    if (worker.add(o) === "ok") {
      // The first half logs text lines (as older workers did), the rest binary chunks.
      if (i < 10_000) lines.push(encodeObservation(o));
      else log.append(o);
    }
    if (i % 1000 === 999) {
      emitted.push(...worker.advance());
      if (lines.length) chunks.push(lines.join("\n")), lines = [];
      if (log.length) chunks.push(log.take());
      if (i === 6999) {
        snapshot = worker.snapshot();
        chunks = [];
      }
    }
  });
  const restored = WindowAggregator.restore(options, JSON.parse(JSON.stringify(snapshot)));
  assert.ok(chunks.some((c) => typeof c === "string") && chunks.some((c) => c instanceof Uint8Array));
  const replayed = replayObservations(restored, chunks);
  assert.ok(replayed > 0);
  const sort = (r: WindowResult[]) => r.sort((a, b) => a.start - b.start || a.key.localeCompare(b.key));
  assert.deepEqual(sort(restored.openWindows()), sort(worker.openWindows()));
  straight.advance();
  assert.deepEqual(sort(restored.openWindows()), sort(straight.openWindows()));
});

/** A checkpoint of partition `partition` of topic "t" with no state and no counts, plus `c`. */
function checkpoint(
  c: Pick<PartitionCheckpoint, "expectedOffset" | "nextOffset"> & Partial<PartitionCheckpoint>,
): PartitionCheckpoint {
  return { topic: "t", partition: 0, state: { maxTs: null, open: [] }, events: 0, late: 0, dead: 0, ...c };
}

/** The observations as one log chunk. */
function chunkOf(all: Observation[]): Uint8Array {
  const log = new ObservationLog();
  for (const o of all) log.append(o);
  return log.take();
}

Deno.test({
  name: "PostgresSink: stores binary log chunks and still loads text lines written before them",
  async fn() {
    const pg = await connectPostgres({ max: 2 });
    const pipeline = uniqueName("obslog");
    try {
      const sink = await PostgresSink.open(pg.sql, pipeline);
      const all = observations(300);
      await sink.commit([], [
        checkpoint({ expectedOffset: null, nextOffset: 100n, delta: { maxTs: null, upserts: [], removed: [] } }),
      ]);
      // A text chunk as an older worker wrote it, then a binary one.
      await pg.sql`insert into stream_observation_log (pipeline, topic, partition, next_offset, obs)
        values (${pipeline}, 't', 0, 200, ${all.slice(0, 100).map(encodeObservation).join("\n")})`;
      await sink.commit([], [checkpoint({ expectedOffset: 100n, nextOffset: 300n, log: chunkOf(all.slice(100)) })]);
      const loaded = await sink.load("t", 0);
      assert.equal(loaded.nextOffset, 300n);
      assert.equal(loaded.log?.length, 2);
      assert.equal(typeof loaded.log![0], "string");
      assert.ok(loaded.log![1] instanceof Uint8Array);
      assert.deepEqual(decodeObservations(loaded.log![0] as string), all.slice(0, 100));
      assert.deepEqual(decodeObservationChunk(loaded.log![1] as Uint8Array), all.slice(100));
      await sink.reset();
      await sink.close();
    } finally {
      await pg.close();
    }
  },
});

Deno.test({
  name: "PostgresSink: two workers logging a partition to the same offset — the second is fenced, nothing doubled",
  async fn() {
    const pg = await connectPostgres({ max: 2 });
    const pipeline = uniqueName("obsfence");
    try {
      const a = await PostgresSink.open(pg.sql, pipeline);
      const b = await PostgresSink.open(pg.sql, pipeline);
      await a.commit([], [
        checkpoint({
          partition: 3,
          expectedOffset: null,
          nextOffset: 10n,
          delta: { maxTs: null, upserts: [], removed: [] },
          events: 10,
        }),
      ]);
      // Both loaded the partition at 10 and both reached the end of the topic at 50 (as after a rebalance).
      const toEnd = () =>
        checkpoint({ partition: 3, expectedOffset: 10n, nextOffset: 50n, log: chunkOf(observations(40)), events: 40 });
      await a.commit([], [toEnd()]);
      await assert.rejects(() => b.commit([], [toEnd()]), FencedError);
      const loaded = await a.load("t", 3);
      assert.equal(loaded.nextOffset, 50n);
      assert.equal(loaded.log?.length, 1);
      const [{ events }] = await pg.sql`select events::int from stream_checkpoints
        where pipeline = ${pipeline} and partition = 3` as unknown as [{ events: number }];
      assert.equal(events, 50);
      await a.reset();
      await a.close();
      await b.close();
    } finally {
      await pg.close();
    }
  },
});
