/**
 * A stream worker on several cores: one process, one member of the consumer
 * group, and N threads (Deno workers), each running a {@linkcode Processor}
 * over its share of the partitions the group assigned. A {@linkcode Processor}
 * is one event loop on one core; threads use the others. On a 2-core machine
 * shared with the broker and the database the gain is small (1.0–1.1× at the
 * medians, see the plugin's README): it grows with cores to spare.
 *
 * Exactly-once holds as it does between worker processes: each thread
 * checkpoints its partitions to PostgreSQL with the offsets they were loaded
 * at, so a partition moved between threads is fenced, never counted twice.
 * The coordinator commits the group's Kafka offsets after the threads'
 * database commits (never ahead of them).
 *
 * A thread cannot share functions with the process, so the topology is given
 * as a module: `{ url, export, args }`, where the export builds the topology
 * from `args` (plain data) inside each thread.
 *
 * @example
 * ```ts ignore
 * import { DEFAULT_PIPELINE, ThreadedProcessor, tumbling } from "@mercury/stream";
 *
 * const worker = new ThreadedProcessor({
 *   brokers, topic: "events", sql: pg.sql, threads: 2, untilDone: true,
 *   topology: {
 *     url: DEFAULT_PIPELINE,
 *     export: "defaultPipeline",
 *     args: { window: tumbling(60_000), maxOutOfOrdernessMs: 5_000, allowedLatenessMs: 0, enrich: true },
 *   },
 * });
 * const stats = await worker.run();
 * ```
 *
 * @module
 */
import type { Consumer } from "@platformatic/kafka";
import { MercuryError, Registry } from "@mercury/core";
import type { Sql } from "@mercury/core/services/postgres";
import type { ProcessorOptions, ProcessorStats } from "./processor.ts";
import { assignedPartitions, checkTopic, groupConsumer, joinGroup, partitionList, retryStart } from "./group.ts";
import { PostgresSink } from "./postgres_sink.ts";
import { ensureTopic } from "./produce.ts";

/**
 * A topology that each thread builds for itself: the module at `url`, its
 * export `export` (default `"default"`) called with `args`, returning a
 * `Topology` or `{ topology, close }` (or a promise of either).
 */
export interface TopologyModule {
  url: string;
  export?: string;
  /** Plain data (structured-cloned into each thread). */
  args?: unknown;
}

/** The processor options a thread takes as they are (plain data). */
type ThreadProcessorOptions = Pick<
  ProcessorOptions<unknown>,
  | "brokers"
  | "topic"
  | "pipeline"
  | "group"
  | "dlqTopic"
  | "checkpointMs"
  | "snapshotMs"
  | "batchSize"
  | "fetchMaxBytes"
  | "untilDone"
  | "requestTimeoutMs"
  | "maxEventsPerSecond"
>;

/** Options of {@linkcode ThreadedProcessor}. */
export interface ThreadedProcessorOptions extends ThreadProcessorOptions {
  /** Worker threads (at least 1). */
  threads: number;
  topology: TopologyModule;
  /** PostgreSQL: the coordinator checks the group's offsets against it; each thread connects on its own. */
  sql: Sql;
  /** Static group membership (see {@linkcode ProcessorOptions.instanceId}). */
  instanceId?: string;
  /** Metrics registry: the threads' metrics are merged into it (default: a new one). */
  registry?: Registry;
  log?: (line: string) => void;
}

/** Coordinator → thread. */
export type ToThread =
  | { type: "start"; options: ThreadProcessorOptions; topology: TopologyModule }
  | { type: "assign"; partitions: number[] }
  | { type: "stop" };

/** Thread → coordinator. */
export type FromThread =
  | { type: "ready" }
  | { type: "log"; line: string }
  | { type: "metrics"; text: string }
  | { type: "committed"; offsets: { partition: number; nextOffset: bigint }[] }
  /** With untilDone: these partitions (the thread's assignment) are checkpointed to their end. */
  | { type: "done"; partitions: number[] }
  | { type: "finished"; stats: ProcessorStats }
  | { type: "failed"; message: string; stack?: string };

/**
 * Spreads `owned` partitions over `threads` threads by weight (a partition's
 * backlog: its records not yet checkpointed; default 1 each), keeping each
 * partition where it was (`previous`: partition → thread) while its thread
 * holds no more than its share, and placing the others heaviest first on the
 * least loaded thread. A moved partition costs a reload and, if the old thread
 * commits after the new one loaded, a fenced checkpoint; an unbalanced split
 * leaves one thread working alone at the end of a backlog.
 *
 * @example
 * ```ts
 * import { placePartitions } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const first = placePartitions(new Map(), [0, 1, 2, 3], 2);
 * assert.deepEqual([...first.values()].sort(), [0, 0, 1, 1]);
 * // Partitions 4 and 5 join; 0..3 stay where they were.
 * const next = placePartitions(first, [0, 1, 2, 3, 4, 5], 2);
 * for (const p of [0, 1, 2, 3]) assert.equal(next.get(p), first.get(p));
 * assert.equal([...next.values()].filter((t) => t === 0).length, 3);
 * // By backlog: the heaviest partition alone, the two lighter ones together.
 * const backlog = [10_000, 6_000, 5_000];
 * const weighted = placePartitions(new Map(), [0, 1, 2], 2, (p) => backlog[p]!);
 * assert.deepEqual([weighted.get(0), weighted.get(1), weighted.get(2)], [0, 1, 1]);
 * ```
 */
export function placePartitions(
  previous: ReadonlyMap<number, number>,
  owned: readonly number[],
  threads: number,
  weight: (partition: number) => number = () => 1,
): Map<number, number> {
  const w = new Map(owned.map((p) => [p, Math.max(0, weight(p))]));
  let total = 0;
  for (const v of w.values()) total += v;
  const share = total / threads;
  const load = new Array<number>(threads).fill(0);
  const placed = new Map<number, number>();
  for (const p of [...owned].sort((a, b) => a - b)) {
    const t = previous.get(p);
    if (t === undefined || t >= threads) continue;
    if (load[t] === 0 || load[t]! + w.get(p)! <= share) {
      placed.set(p, t);
      load[t]! += w.get(p)!;
    }
  }
  const rest = owned.filter((p) => !placed.has(p)).sort((a, b) => w.get(b)! - w.get(a)! || a - b);
  for (const p of rest) {
    const t = load.indexOf(Math.min(...load));
    placed.set(p, t);
    load[t]! += w.get(p)!;
  }
  return placed;
}

/** Two sorted partition lists are the same. */
const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((p, j) => p === b[j]);

interface Thread {
  worker: Worker;
  partitions: number[];
  ready: PromiseWithResolvers<void>;
  done: boolean;
  finished: boolean;
  metrics: string;
}

/** Runs a topology module on N threads as one member of the consumer group. */
export class ThreadedProcessor {
  readonly options: ThreadedProcessorOptions;
  readonly pipeline: string;
  readonly registry: Registry;
  /** Summed over the threads once they finished. */
  readonly stats: ProcessorStats = { events: 0, results: 0, late: 0, dead: 0, checkpoints: 0, fenced: 0, restarts: 0 };
  #threads: Thread[] = [];
  #placement = new Map<number, number>();
  #consumer?: Consumer;
  #done = Promise.withResolvers<void>();
  #stopping = false;
  /** The group assigned partitions at least once. */
  #assigned = false;
  #assigning: Promise<void> = Promise.resolve();
  #rebalances;

  constructor(options: ThreadedProcessorOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new MercuryError("usage", `threads must be a whole number ≥ 1, got ${options.threads}`, {
        where: "ThreadedProcessor",
      });
    }
    this.options = options;
    this.pipeline = options.pipeline ?? options.topic;
    this.registry = options.registry ?? new Registry();
    this.#rebalances = this.registry.counter("mercury_stream_rebalances_total", "Consumer group rebalances seen");
  }

  get #group(): string {
    return this.options.group ?? `mercury-stream-${this.pipeline}`;
  }

  #log(line: string): void {
    this.options.log?.(line);
  }

  /** Starts the threads and joins the group; resolves when stopped (or, with `untilDone`, when every thread is done). */
  async run(): Promise<ProcessorStats> {
    const { brokers, topic } = this.options;
    await checkTopic(brokers, topic, this.options.requestTimeoutMs);
    // Created here once, so the threads do not race to create the tables.
    const sink = await PostgresSink.open(this.options.sql, this.pipeline);
    this.#log(`sink: ${sink.describe()}; ${this.options.threads} threads`);
    await ensureTopic(brokers, this.options.dlqTopic ?? `${topic}.dlq`, {
      partitions: 1,
      requestTimeoutMs: this.options.requestTimeoutMs,
    });
    const start: ToThread = {
      type: "start",
      options: {
        brokers,
        topic,
        pipeline: this.pipeline,
        group: this.#group,
        dlqTopic: this.options.dlqTopic,
        checkpointMs: this.options.checkpointMs,
        snapshotMs: this.options.snapshotMs,
        batchSize: this.options.batchSize,
        fetchMaxBytes: this.options.fetchMaxBytes,
        untilDone: this.options.untilDone,
        requestTimeoutMs: this.options.requestTimeoutMs,
        // The process's limit, shared evenly: each thread holds to its part.
        maxEventsPerSecond: this.options.maxEventsPerSecond && this.options.maxEventsPerSecond / this.options.threads,
      },
      topology: this.options.topology,
    };
    for (let i = 0; i < this.options.threads; i++) {
      const worker = new Worker(new URL("./thread_worker.ts", import.meta.url), { type: "module" });
      const thread: Thread = {
        worker,
        partitions: [],
        ready: Promise.withResolvers(),
        done: false,
        finished: false,
        metrics: "",
      };
      this.#threads.push(thread);
      this.registry.addSource(() => thread.metrics);
      worker.onmessage = (e: MessageEvent<FromThread>) => this.#onMessage(i, thread, e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.#done.reject(new Error(`stream thread ${i} failed: ${e.message}`));
      };
      worker.postMessage(start);
    }
    try {
      // Threads load their modules and build their topologies before this worker joins the group.
      await Promise.race([Promise.all(this.#threads.map((t) => t.ready.promise)), this.#done.promise]);
      await this.#join(sink);
      await this.#done.promise;
    } finally {
      // Threads still running finish their batch and write a last checkpoint.
      for (const t of this.#threads) if (!t.finished) t.worker.postMessage({ type: "stop" } satisfies ToThread);
      await this.#allFinished(30_000);
      for (const t of this.#threads) if (!t.finished) t.worker.terminate();
      await this.#consumer?.close(true).catch(() => {});
    }
    return this.stats;
  }

  /** Stops every thread after its current batch, each with a last checkpoint. */
  stop(): void {
    this.#stopping = true;
    this.#done.resolve();
  }

  async #allFinished(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.#threads.some((t) => !t.finished) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #onMessage(i: number, thread: Thread, m: FromThread): void {
    if (m.type === "ready") thread.ready.resolve();
    else if (m.type === "log") this.#log(`thread ${i}: ${m.line}`);
    else if (m.type === "done") {
      // A report for an assignment the thread no longer has is stale.
      thread.done = sameList(m.partitions, thread.partitions);
      this.#checkDone();
    } else if (m.type === "metrics") thread.metrics = m.text;
    else if (m.type === "committed") {
      // The group's offsets follow the database's checkpoints, never ahead of them.
      const offsets = m.offsets.map((o) => ({
        topic: this.options.topic,
        partition: o.partition,
        offset: o.nextOffset,
        leaderEpoch: -1,
      }));
      void this.#consumer?.commit({ offsets }).catch(() => {});
    } else if (m.type === "finished") {
      thread.finished = true;
      for (const k of Object.keys(this.stats) as (keyof ProcessorStats)[]) this.stats[k] += m.stats[k];
      if (this.#threads.every((t) => t.finished)) this.#done.resolve();
    } else if (m.type === "failed") {
      thread.finished = true;
      this.#done.reject(new Error(`stream thread ${i}: ${m.message}`));
    }
  }

  /** Joins the consumer group; each assignment is spread over the threads. */
  async #join(sink: PostgresSink): Promise<void> {
    const topic = this.options.topic;
    const consumer = groupConsumer(
      this.options.brokers,
      this.pipeline,
      this.#group,
      this.options.instanceId,
      this.options.requestTimeoutMs,
    );
    consumer.on("error", (err: Error) => {
      if (this.#consumer !== consumer || this.#stopping) return;
      this.#log(`consumer group error: ${err.message}; rejoining`);
      this.#consumer = undefined;
      this.#assigned = false; // not done: the group assigns again after the rejoin
      // The threads give up their partitions (committing what they hold) until the group assigns again.
      this.#assign([]);
      void consumer.close(true).catch(() => {}).then(() => this.#rejoin(sink));
    });
    consumer.on("consumer:group:join", () => {
      if (this.#consumer !== consumer) return;
      this.#rebalances.inc();
      const owned = assignedPartitions(consumer, topic);
      this.#log(`assigned partitions: ${partitionList(owned)}`);
      // Assignments are taken in order: a later rebalance waits for this one's backlog reading.
      this.#assigning = this.#assigning.then(async () => {
        const backlog = await this.#backlog(consumer, sink).catch(() => undefined);
        if (this.#consumer !== consumer) return;
        this.#assigned = true;
        this.#assign(owned, backlog);
        this.#checkDone();
      });
    });
    await joinGroup(consumer, {
      brokers: this.options.brokers,
      topic,
      group: this.#group,
      store: sink,
      requestTimeoutMs: this.options.requestTimeoutMs,
      checked: () => (this.#consumer = consumer),
    });
  }

  async #rejoin(sink: PostgresSink): Promise<void> {
    await retryStart(() => this.#join(sink), () => this.#stopping, (err) => this.#done.reject(err));
  }

  /**
   * With untilDone: stops once every thread with partitions reported them
   * checkpointed to their end (threads stop themselves only when told, so a
   * rebalance can still hand them partitions).
   */
  #checkDone(): void {
    if (!this.options.untilDone || !this.#assigned || this.#stopping) return;
    if (!this.#threads.every((t) => t.done || t.partitions.length === 0)) return;
    this.#log(`done: every partition of ${this.options.topic} is checkpointed to its end`);
    this.stop();
  }

  /** Each partition's records not yet checkpointed (end offset − the store's next offset). */
  async #backlog(consumer: Consumer, sink: PostgresSink): Promise<Map<number, number>> {
    const topic = this.options.topic;
    const [ends, stored] = await Promise.all([
      consumer.listOffsets({ topics: [topic] }).then((o) => o.get(topic) ?? []),
      sink.storedOffsets(topic),
    ]);
    return new Map(ends.map((end, p) => [p, Number(end - (stored.get(p) ?? 0n))]));
  }

  /** Tells each thread whose share changed what it reads now; partitions spread by backlog when it is known. */
  #assign(owned: number[], backlog?: Map<number, number>): void {
    // +1: partitions without backlog still count (a live stream fills them evenly).
    const weight = backlog ? (p: number) => (backlog.get(p) ?? 0) + 1 : undefined;
    this.#placement = placePartitions(this.#placement, owned, this.#threads.length, weight);
    this.#threads.forEach((t, i) => {
      const mine = [...this.#placement].filter(([, ti]) => ti === i).map(([p]) => p).sort((a, b) => a - b);
      if (sameList(mine, t.partitions)) return;
      t.partitions = mine;
      t.done = false;
      t.worker.postMessage({ type: "assign", partitions: mine } satisfies ToThread);
    });
  }
}
