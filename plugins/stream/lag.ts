/**
 * Backlog of a pipeline: per partition, the topic's end offset minus the
 * pipeline's checkpointed next offset (what is not yet counted exactly once).
 *
 * @module
 */
import { Admin } from "@platformatic/kafka";
import type { Sql } from "@mercury/core/services/postgres";
import { closeWithin, DEFAULT_REQUEST_TIMEOUT_MS, platformaticTimeouts, withKafkaDeadline } from "./kafka_deadline.ts";

/**
 * A query's fallback when its table does not exist yet (SQLSTATE 42P01: no
 * worker has run against this database, so there is nothing to show); any
 * other error is rethrown.
 *
 * @example
 * ```ts
 * import { noTableYet } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(noTableYet([])(Object.assign(new Error("relation does not exist"), { code: "42P01" })), []);
 * assert.throws(() => noTableYet([])(Object.assign(new Error("syntax"), { code: "42601" })), /syntax/);
 * ```
 */
export function noTableYet<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if ((err as { code?: unknown })?.code === "42P01") return fallback;
    throw err;
  };
}

/** Lag of one partition. */
export interface PartitionLag {
  partition: number;
  end: number;
  committed: number;
  lag: number;
}

/**
 * Reads the backlog of `pipeline` over `topic`. Each read's Kafka requests
 * run under `requestTimeoutMs` (default 10 s): a broker that does not answer
 * makes {@linkcode LagReader.read} an `unavailable` error naming it.
 */
export class LagReader {
  #admin: Admin;
  readonly #brokers: string[];
  readonly #timeoutMs: number;
  constructor(
    brokers: string[],
    readonly topic: string,
    readonly pipeline: string,
    readonly sql: Sql,
    requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.#brokers = brokers;
    this.#timeoutMs = requestTimeoutMs;
    this.#admin = new Admin({
      clientId: "mercury-stream-lag",
      bootstrapBrokers: brokers,
      ...platformaticTimeouts(requestTimeoutMs),
    });
  }

  /** End offsets from Kafka, checkpoints from PostgreSQL. */
  async read(): Promise<PartitionLag[]> {
    const deadline = <T>(p: Promise<T>, what: string) => withKafkaDeadline(p, this.#timeoutMs, this.#brokers, what);
    const meta = await deadline(this.#admin.metadata({ topics: [this.topic] }), "metadata");
    const count = meta.topics.get(this.topic)?.partitionsCount ?? 0;
    const listed = await deadline(
      this.#admin.listOffsets({
        topics: [{
          name: this.topic,
          partitions: Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp: -1n })),
        }],
      }),
      "end offsets",
    );
    const ends: number[] = new Array(count).fill(0);
    for (const p of listed.find((t) => t.name === this.topic)?.partitions ?? []) {
      ends[p.partitionIndex] = Number(p.offset);
    }
    const rows = await this.sql`
      select partition, next_offset from stream_checkpoints where pipeline = ${this.pipeline} and topic = ${this.topic}`
      .catch(noTableYet([])); // no worker has checkpointed in this database yet
    const stored = new Map(rows.map((r) => [Number(r.partition), Number(r.next_offset)]));
    return ends.map((end, partition) => {
      const committed = stored.get(partition) ?? 0;
      return { partition, end, committed, lag: Math.max(0, end - committed) };
    });
  }

  /** Closes the admin client (bounded: closing one whose broker never answered can wait). */
  close(): Promise<void> {
    return closeWithin(() => this.#admin.close(), this.#timeoutMs);
  }
}
