/**
 * Where a worker's results, open-window state and offsets go, atomically.
 * Two implementations: {@linkcode PostgresSink} (results, state and offsets in
 * one database transaction) and `KafkaTransactionalSink` (results, a state
 * changelog and the consumer offsets in one Kafka transaction).
 *
 * @module
 */
import type { Consumer, Message } from "@platformatic/kafka";
import type { AggregatorDelta, AggregatorOptions, AggregatorSnapshot, WindowResult } from "./aggregator.ts";

/** One partition's progress in a checkpoint. */
export interface PartitionCheckpoint {
  topic: string;
  partition: number;
  /** The next offset this worker loaded or last committed (null: never stored). */
  expectedOffset: bigint | null;
  /** The offset after the last record processed. */
  nextOffset: bigint;
  /** The whole open state (stores without incremental state). */
  state: AggregatorSnapshot;
  /** Only what changed since the previous snapshot (stores with incremental state): this checkpoint is a snapshot. */
  delta?: AggregatorDelta;
  /**
   * The observations taken since the previous checkpoint, a chunk of
   * `ObservationLog` (stores that log them): the state is the last snapshot
   * plus the log replayed.
   */
  log?: Uint8Array;
  /** The aggregator's options, stored with a snapshot so the log can be replayed offline (verification). */
  aggregator?: AggregatorOptions;
  events: number;
  late: number;
  dead: number;
  /** The last record processed (a Kafka transaction commits its offset). */
  lastMessage?: Message;
}

/** What a worker loads when it gets a partition. */
export interface LoadedPartition {
  nextOffset: bigint | null;
  state: AggregatorSnapshot | null;
  /**
   * Logged observations after the snapshot, oldest chunk first (replay them into the restored state):
   * binary chunks, or text from before them.
   */
  log?: (string | Uint8Array)[];
  /** The options the snapshot was taken with, when stored. */
  aggregator?: AggregatorOptions;
}

/** Thrown when another worker moved a partition on (the checkpoint was not written). */
export class FencedError extends Error {
  override name = "FencedError";
}

/** Atomic checkpoints of results + state + offsets. */
export interface CheckpointStore {
  /** One line for the log: where results go. */
  describe(): string;
  load(topic: string, partition: number): Promise<LoadedPartition>;
  /** Writes everything or nothing; throws {@linkcode FencedError} when fenced. */
  commit(results: WindowResult[], checkpoints: PartitionCheckpoint[], consumer: Consumer): Promise<void>;
  /** The stored next offset of every partition. */
  storedOffsets(topic: string, consumer?: Consumer): Promise<Map<number, bigint>>;
  /** Whether the store takes deltas (then `state` is not needed in checkpoints). */
  readonly incremental: boolean;
  /** Whether the store takes observation logs between snapshots (see `observation_log.ts`). */
  readonly logsObservations?: boolean;
  /** Whether the store already commits the consumer group's offsets itself. */
  readonly commitsGroupOffsets: boolean;
  close(): Promise<void>;
}
