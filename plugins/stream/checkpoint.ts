/**
 * A stream worker's checkpoints: what one holds (every dirty partition's
 * progress, its final windows, and its state as a snapshot delta, a chunk of
 * the observation log or a whole snapshot, as the store takes it), and how it
 * is committed (dead letters first, then the store's atomic commit, retried
 * while the database or the broker is away).
 *
 * @module
 */
import type { Producer } from "@platformatic/kafka";
import { retry } from "@mercury/core/retry";
import type { WindowResult } from "./aggregator.ts";
import { type CheckpointStore, FencedError, type PartitionCheckpoint } from "./checkpoint_store.ts";
import { type DeadLetter, sendDeadLetters } from "./dead_letters.ts";
import {
  aggregatorOptions,
  DEFAULT_SNAPSHOT_MS,
  MAX_LOGGED,
  type PartitionState,
  snapshotPhase,
} from "./partition_state.ts";
import type { Topology } from "./topology.ts";

/** What {@linkcode takeCheckpoint} needs besides the partitions. */
export interface CheckpointContext<E> {
  topic: string;
  topology: Topology<E>;
  sink: CheckpointStore;
  snapshotMs?: number;
  /** The offset message of partition `p`'s record at `offset` (stores that commit the group's offsets). */
  lastMessage: (p: number, offset: number) => PartitionCheckpoint["lastMessage"];
}

/**
 * Takes a checkpoint of every dirty partition of `parts` (with `final`, also
 * of those whose state still lives in the log): their results and
 * checkpoints. The partitions then count from there: their expected offsets
 * are the checkpoint's, their pending results and counts are cleared.
 */
export function takeCheckpoint<E>(
  parts: Map<number, PartitionState>,
  final: boolean,
  ctx: CheckpointContext<E>,
): { results: WindowResult[]; checkpoints: PartitionCheckpoint[] } {
  const { topic, sink } = ctx;
  const snapshotMs = ctx.snapshotMs ?? DEFAULT_SNAPSHOT_MS;
  const dirty = [...parts.entries()].filter(([, s]) => s.dirty || (final && s.logged > 0));
  const results = dirty.flatMap(([, s]) => s.pending);
  const now = Date.now();
  const snapshotDue = (s: PartitionState) =>
    final || !sink.logsObservations || s.expected === null || s.logged + s.log.length >= MAX_LOGGED ||
    now - s.snapshotAt >= snapshotMs;
  const aggregator = aggregatorOptions(ctx.topology);
  const state = (
    p: number,
    s: PartitionState,
  ): Pick<PartitionCheckpoint, "state" | "delta" | "log" | "aggregator"> => {
    if (!sink.incremental) return { state: s.agg.snapshot() };
    if (!snapshotDue(s)) {
      s.logged += s.log.length;
      const log = s.log.take();
      return { state: { maxTs: Number.isFinite(s.agg.maxTs) ? s.agg.maxTs : null, open: [] }, log };
    }
    s.log.take();
    s.logged = 0;
    s.snapshotAt = now - snapshotPhase(p, ctx.snapshotMs);
    return { state: { maxTs: null, open: [] }, delta: s.agg.delta(), aggregator };
  };
  const checkpoints: PartitionCheckpoint[] = dirty.map(([p, s]) => ({
    topic,
    partition: p,
    expectedOffset: s.expected,
    nextOffset: BigInt(s.next),
    ...state(p, s),
    events: s.events,
    late: s.late,
    dead: s.dead,
    lastMessage: sink.commitsGroupOffsets && s.next > 0 ? ctx.lastMessage(p, s.next - 1) : undefined,
  }));
  for (const [, s] of dirty) {
    s.expected = BigInt(s.next);
    s.pending = [];
    s.events = s.late = s.dead = 0;
    s.dirty = false;
  }
  return { results, checkpoints };
}

/** Where {@linkcode commitCheckpoint} sends dead letters and writes the checkpoint. */
export interface CommitTarget {
  sink: CheckpointStore;
  /** Passed to the store's commit (a Kafka transactional store commits the group's offsets through it). */
  consumer: Parameters<CheckpointStore["commit"]>[2];
  dlq: Producer;
  dlqTopic: string;
  topic: string;
  log: (line: string) => void;
}

/**
 * Sends the dead letters (at least once: a crash or a retry before the
 * commit re-sends them), then commits results and checkpoints atomically.
 * While the database or the broker is away nothing was committed, so the same
 * checkpoint is retried (60 attempts, 1 s apart). A fence, or a data,
 * integrity or statement error (SQLSTATE classes 22, 23, 42), would fail the
 * same way again: those are thrown at once ({@linkcode FencedError} among them).
 */
export async function commitCheckpoint(
  target: CommitTarget,
  results: WindowResult[],
  checkpoints: PartitionCheckpoint[],
  dead: readonly DeadLetter[],
): Promise<void> {
  let deadSent = false;
  await retry(async () => {
    if (!deadSent) await sendDeadLetters(target.dlq, target.dlqTopic, target.topic, dead);
    deadSent = true;
    await target.sink.commit(results, checkpoints, target.consumer);
  }, {
    attempts: 60,
    baseMs: 1000,
    factor: 1,
    retryable: (err) =>
      !(err instanceof FencedError) &&
      !/^(22|23|42)[0-9A-Z]{3}$/.test(String((err as { code?: unknown }).code ?? "")),
    onRetry: (err) => {
      const inner = (err as { errors?: { message: string; errors?: { message: string }[] }[] }).errors?.[0];
      const why = inner?.errors?.[0]?.message ?? inner?.message ?? "";
      target.log(`checkpoint failed (${(err as Error).message}${why ? ": " + why : ""}); retrying`);
    },
  });
}
