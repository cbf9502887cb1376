/**
 * The options and run counts of a stream worker (`Processor`), apart from it
 * so that `ThreadedProcessor` and commands can name them without loading it.
 *
 * @module
 */
import type { Registry } from "@mercury/core";
import type { Sql } from "@mercury/core/services/postgres";
import type { CheckpointStore } from "./checkpoint_store.ts";
import type { Topology } from "./topology.ts";

/** Options of `Processor`. */
export interface ProcessorOptions<E> {
  brokers: string[];
  topic: string;
  /** Pipeline name: the checkpoint and result namespace (default: the topic). */
  pipeline?: string;
  /** Consumer group (default `mercury-stream-<pipeline>`). */
  group?: string;
  /**
   * Static group membership: a restarted worker with the same id takes its old
   * place at once instead of waiting for the session to time out.
   */
  instanceId?: string;
  topology: Topology<E>;
  /** PostgreSQL for the default exactly-once sink. */
  sql?: Sql;
  /** Another checkpoint store (e.g. a Kafka transactional sink); default: PostgreSQL. */
  store?: (pipeline: string) => Promise<CheckpointStore>;
  /** Dead-letter topic for malformed and late records (default `<topic>.dlq`). */
  dlqTopic?: string;
  /** Checkpoint at least this often (default 1000 ms). */
  checkpointMs?: number;
  /**
   * With a store that logs observations (PostgreSQL), write the open windows
   * themselves only this often (default 60 s); checkpoints in between append
   * the observations taken, and a restart replays them.
   */
  snapshotMs?: number;
  /** Records per processing step: enrichment and aggregation run on this many at a time (default 5000). */
  batchSize?: number;
  /** Bytes per fetch response (default 1 MiB, ~8,000 events): a checkpoint can follow each response. */
  fetchMaxBytes?: number;
  /**
   * Process at most this many events per second, on average since the worker started (default: no limit) — a
   * backfill or replay that must not starve the database, the broker or the live pipelines beside it.
   */
  maxEventsPerSecond?: number;
  /** Stop once every partition's checkpoint reached the topic's end. */
  untilDone?: boolean;
  /**
   * `group` (default): join the consumer group and read what it assigns.
   * `manual`: read only the partitions given to `Processor.assign`
   * (a coordinator in the group hands them out, e.g. `ThreadedProcessor` to its
   * threads); the group's Kafka offsets are then the coordinator's to commit
   * (see `onCommit`), and `untilDone` waits for the assigned partitions only.
   */
  assignment?: "group" | "manual";
  /**
   * With `assignment: "manual"` and `untilDone`: called (once per assignment)
   * when every assigned partition is checkpointed to its end, instead of
   * stopping — the coordinator decides when to stop, and may assign more.
   */
  onDone?: () => void;
  /** Called after each checkpoint committed, with each partition's next offset in it. */
  onCommit?: (offsets: { partition: number; nextOffset: bigint }[]) => void;
  /** Metrics registry (default: a new one). */
  registry?: Registry;
  log?: (line: string) => void;
  /**
   * Deadline of each Kafka request (and of connecting), in ms (default 10 s).
   * Starting against a broker that does not answer within it is an
   * `unavailable` error; a fetch that does not is retried, then restarts the stream.
   */
  requestTimeoutMs?: number;
}

/** Counts of one run. */
export interface ProcessorStats {
  events: number;
  results: number;
  late: number;
  dead: number;
  checkpoints: number;
  fenced: number;
  restarts: number;
}
