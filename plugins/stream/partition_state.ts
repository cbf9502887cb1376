/**
 * A stream worker's state of one partition, and how it is rebuilt from the
 * checkpoint store: the stored snapshot restored into a `WindowAggregator`,
 * then the observation log logged after it replayed onto it.
 *
 * @module
 */
import { type AggregatorOptions, WindowAggregator, type WindowResult } from "./aggregator.ts";
import type { CheckpointStore } from "./checkpoint_store.ts";
import { ObservationLog, replayObservations } from "./observation_log.ts";
import type { Topology } from "./topology.ts";

/** One partition's state in a worker. */
export interface PartitionState {
  partition: number;
  agg: WindowAggregator;
  expected: bigint | null;
  /** The offset after the last record counted (records below it are in the checkpoint or this state). */
  next: number;
  pending: WindowResult[];
  events: number;
  late: number;
  dead: number;
  dirty: boolean;
  /** Observations since the last checkpoint (stores that log them). */
  log: ObservationLog;
  /** Observations logged since the last snapshot. */
  logged: number;
  snapshotAt: number;
}

/** A snapshot is due at the latest after this many logged observations (bounds replay on restart). */
export const MAX_LOGGED = 500_000;

/**
 * The snapshot interval when none is given, in ms. A snapshot writes every open window that changed since the last
 * one, so its cost grows with the keys, not the events: with 100,000 live keys, snapshots every 10 s took most of
 * the sink's and the worker's CPU (`bench:stream:live`: 5,000 events/s sustained at 10 s, 30,000 at 60 s). Replay on
 * restart stays bounded by {@linkcode MAX_LOGGED} observations per partition whatever the interval.
 */
export const DEFAULT_SNAPSHOT_MS = 60_000;

/** The aggregator options of a topology (stored with snapshots, used to restore them). */
export function aggregatorOptions<E>(t: Topology<E>): AggregatorOptions {
  return { window: t.window, maxOutOfOrdernessMs: t.maxOutOfOrdernessMs, allowedLatenessMs: t.allowedLatenessMs };
}

/**
 * Partitions take their snapshots at staggered moments, so no checkpoint writes all state at once.
 *
 * @example
 * ```ts
 * import { snapshotPhase } from "./partition_state.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(snapshotPhase(4, 16_000), 4_000);
 * assert.equal(snapshotPhase(20, 16_000), 4_000);
 * ```
 */
export function snapshotPhase(p: number, snapshotMs = DEFAULT_SNAPSHOT_MS): number {
  return ((p % 16) / 16) * snapshotMs;
}

/** Loads partition `p` of `topic` from the store: its snapshot with the observation log replayed onto it. */
export async function loadPartition<E>(
  sink: CheckpointStore,
  topology: Topology<E>,
  topic: string,
  p: number,
  snapshotMs: number | undefined,
  log: (line: string) => void,
): Promise<PartitionState> {
  const loaded = await sink.load(topic, p);
  const agg = WindowAggregator.restore(aggregatorOptions(topology), loaded.state);
  const replayed = replayObservations(agg, loaded.log ?? []);
  if (replayed) log(`partition ${p}: replayed ${replayed} logged observations onto the snapshot`);
  return {
    partition: p,
    agg,
    expected: loaded.nextOffset,
    next: Number(loaded.nextOffset ?? 0n),
    pending: [],
    events: 0,
    late: 0,
    dead: 0,
    dirty: false,
    log: new ObservationLog(),
    logged: replayed,
    snapshotAt: Date.now() - snapshotPhase(p, snapshotMs),
  };
}
