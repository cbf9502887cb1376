/**
 * A stream worker: consumes a topic in a consumer group, runs a
 * {@linkcode Topology} per partition, and checkpoints results + state +
 * offsets into PostgreSQL in one transaction (exactly-once). Several workers
 * in one group share the partitions; a restarted or rebalanced worker resumes
 * from the last committed checkpoint and skips what it already counted.
 *
 * This module runs the worker; each concern lives in its own module:
 * group membership in `group.ts`, fetching in `fetch_pump.ts`, a
 * partition's state and its replay in `partition_state.ts`, processing a
 * fetch response in `process_response.ts`, checkpoints in `checkpoint.ts`,
 * dead letters in `dead_letters.ts`, metrics in `worker_metrics.ts`.
 *
 * @module
 */
import { type Consumer, Producer } from "@platformatic/kafka";
import { asMessage, offsetCommitMessage } from "./_platformatic.ts";
import { MercuryError, Registry } from "@mercury/core";
import type { WindowResult } from "./aggregator.ts";
import { assignedPartitions, checkTopic, groupConsumer, joinGroup, partitionList, retryStart } from "./group.ts";
import { type CheckpointStore, FencedError, type PartitionCheckpoint } from "./checkpoint_store.ts";
import { PostgresSink } from "./postgres_sink.ts";
import { ensureTopic } from "./produce.ts";
import type { Fetcher, FetchResponse } from "./fetcher.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, platformaticSecurity, withKafkaDeadline } from "./kafka_deadline.ts";
import { recordCommit, type WorkerMetrics, workerMetrics } from "./worker_metrics.ts";
import type { ProcessorOptions, ProcessorStats } from "./processor_options.ts";
import { loadPartition, type PartitionState } from "./partition_state.ts";
import { type DeadLetter, deadLetter, deadLetterLabel } from "./dead_letters.ts";
import { commitCheckpoint, takeCheckpoint } from "./checkpoint.ts";
import { pump, ResponseQueue, topicFetcher } from "./fetch_pump.ts";
import { processResponse } from "./process_response.ts";

export type { ProcessorOptions, ProcessorStats };

const DEBUG = Deno.env.get("MERCURY_DEBUG") === "1";

/** Runs a topology against Kafka with an exactly-once PostgreSQL sink. */
export class Processor<E> {
  readonly options: ProcessorOptions<E>;
  readonly pipeline: string;
  readonly registry: Registry;
  readonly stats: ProcessorStats = { events: 0, results: 0, late: 0, dead: 0, checkpoints: 0, fenced: 0, restarts: 0 };
  #sink!: CheckpointStore;
  #parts = new Map<number, PartitionState>();
  #loading = new Map<number, Promise<PartitionState>>();
  #consumer?: Consumer;
  #fetcher?: Fetcher;
  #dlq?: Producer;
  #dead: DeadLetter[] = [];
  #queue = new ResponseQueue();
  #syncing: Promise<void> = Promise.resolve();
  #busy = false;
  #stopped = false;
  #lastCheckpoint = Date.now();
  #lastData = Date.now();
  /** When processing started, for `maxEventsPerSecond`. */
  #rateStart = performance.now();
  #done!: PromiseWithResolvers<void>;
  #timer?: ReturnType<typeof setInterval>;
  #inflight?: Promise<void>;
  #needRestart = false;
  /** Partitions moved away: checkpoint without waiting for the interval. */
  #checkpointSoon = false;
  /** A checkpoint was fenced: reload the partitions from the database (see {@linkcode Processor.#reload}). */
  #needReload = false;
  #sampleEvery = 64;
  /** The partitions given to {@linkcode Processor.assign} (manual assignment; undefined until the first call). */
  #manual?: number[];
  /** Manual assignment: `onDone` was called for the current assignment. */
  #reportedDone = false;
  #latencySamples: number[] = [];
  #metrics: WorkerMetrics;

  constructor(options: ProcessorOptions<E>) {
    this.options = options;
    this.pipeline = options.pipeline ?? options.topic;
    this.registry = options.registry ?? new Registry();
    this.#metrics = workerMetrics(this.registry);
  }

  get #timeoutMs(): number {
    return this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  get #batchSize(): number {
    return this.options.batchSize ?? 5000;
  }

  get #group(): string {
    return this.options.group ?? `mercury-stream-${this.pipeline}`;
  }

  get #dlqTopic(): string {
    return this.options.dlqTopic ?? `${this.options.topic}.dlq`;
  }

  get #log(): (line: string) => void {
    return this.options.log ?? (() => {});
  }

  /** Starts consuming; resolves when stopped (or, with `untilDone`, when the topic is fully processed). */
  async run(): Promise<ProcessorStats> {
    this.#done = Promise.withResolvers<void>();
    await checkTopic(this.options.brokers, this.options.topic, this.#timeoutMs);
    if (this.options.store) this.#sink = await this.options.store(this.pipeline);
    else if (this.options.sql) this.#sink = await PostgresSink.open(this.options.sql, this.pipeline);
    else throw new MercuryError("config", "a Processor needs `sql` (PostgreSQL sink) or a `store`");
    if (this.options.assignment === "manual" && this.#sink.commitsGroupOffsets) {
      throw new MercuryError(
        "config",
        `${this.#sink.describe()} commits the group's offsets: it needs group assignment`,
        {
          hint: "use the PostgreSQL sink with manual assignment (threads)",
        },
      );
    }
    this.#log(`sink: ${this.#sink.describe()}`);
    this.#dlq = new Producer({
      clientId: `mercury-dlq-${this.pipeline}`,
      bootstrapBrokers: this.options.brokers,
      idempotent: true,
      timeout: this.#timeoutMs,
      connectTimeout: this.#timeoutMs,
      ...platformaticSecurity(),
    });
    await ensureTopic(this.options.brokers, this.#dlqTopic, { partitions: 1, requestTimeoutMs: this.#timeoutMs });
    await this.#start();
    this.#timer = setInterval(() => void this.#tick(), 50);
    let failed = false;
    try {
      await this.#done.promise;
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      clearInterval(this.#timer);
      if (!failed) await this.#flush();
      await this.#close();
    }
    return this.stats;
  }

  /** On a graceful stop: let the running batch finish and write a last checkpoint. */
  async #flush(): Promise<void> {
    for (let i = 0; i < 1000 && this.#busy; i++) await new Promise((r) => setTimeout(r, 10));
    await this.#inflight;
    if (!this.#needRestart && !this.#needReload && [...this.#parts.values()].some((p) => p.dirty || p.logged > 0)) {
      this.#checkpoint(true);
      await this.#inflight;
    }
  }

  /**
   * With `assignment: "manual"`: reads exactly these partitions from now on.
   * Partitions taken away keep their state until it is committed at once (the
   * next reader loads it from the store; see the class notes on fencing).
   */
  assign(partitions: readonly number[]): void {
    if (this.options.assignment !== "manual") {
      throw new MercuryError("config", 'Processor.assign() needs `assignment: "manual"`');
    }
    for (const p of this.#manual ?? []) {
      if (partitions.includes(p)) continue;
      this.#metrics.lag.remove({ partition: String(p) });
      this.#metrics.watermark.remove({ partition: String(p) });
    }
    this.#manual = [...partitions];
    this.#reportedDone = false;
    this.#log(`assigned partitions: ${partitionList(partitions)}`);
    this.#resync();
  }

  /** The partitions this worker reads. */
  #owned(consumer: Consumer): number[] {
    if (this.options.assignment === "manual") return this.#manual ?? [];
    return assignedPartitions(consumer, this.options.topic);
  }

  /** Stops after the current batch and writes a last checkpoint (a crash instead resumes from the previous one). */
  stop(): void {
    this.#stopped = true;
    this.#done?.resolve();
  }

  async #start(): Promise<void> {
    const topic = this.options.topic;
    const consumer = groupConsumer(
      this.options.brokers,
      this.pipeline,
      this.#group,
      this.options.instanceId,
      this.#timeoutMs,
    );
    if (this.options.assignment === "manual") {
      // No group membership: the consumer is only the metadata and offsets client.
      this.#consumer = consumer;
      await this.#startFetching(consumer);
      return;
    }
    // Group errors (a rebalance racing a join, a coordinator moving) restart the stream
    // from the checkpoints instead of killing the worker.
    consumer.on("error", (err: Error) => {
      if (this.#consumer !== consumer) return;
      this.#log(`consumer group error: ${err.message}; restarting the stream`);
      this.#needRestart = true;
    });
    consumer.on("consumer:group:join", () => {
      this.#metrics.rebalances.inc();
      // State of partitions that moved away is kept, not dropped: its records since the last
      // checkpoint are in it and will be committed with the next checkpoint. That is safe: the
      // checkpoint is fenced if the new owner has moved on (this worker then reloads everything),
      // and if the partition comes back untouched, fetching resumes after the last record counted.
      this.#log(`assigned partitions: ${partitionList(assignedPartitions(consumer, topic))}`);
      this.#resync();
    });
    await joinGroup(consumer, {
      brokers: this.options.brokers,
      topic,
      group: this.#group,
      store: this.#sink,
      requestTimeoutMs: this.#timeoutMs,
      checked: () => (this.#consumer = consumer),
    });
    await this.#startFetching(consumer);
  }

  /** A new fetcher (and its pump) for the assigned partitions, each from its checkpoint. */
  async #startFetching(consumer: Consumer): Promise<void> {
    const { fetcher, forgetLeaders } = topicFetcher(consumer, {
      topic: this.options.topic,
      clientId: `mercury-stream-${this.pipeline}-${Deno.pid}`,
      maxBytes: this.options.fetchMaxBytes ?? 1024 * 1024,
      requestTimeoutMs: this.#timeoutMs,
    });
    this.#fetcher = fetcher;
    this.#resync();
    await this.#syncing;
    void pump(fetcher, {
      queue: this.#queue,
      current: () => this.#fetcher === fetcher,
      running: () => !this.#stopped && this.#fetcher === fetcher,
      logStarts: () => this.#logStarts(this.#consumer!),
      skipTo: (p, start) => {
        const s = this.#parts.get(p);
        if (s && s.next < start) s.next = start;
      },
      forgetLeaders,
      lag: (p, behind) => this.#metrics.lag.set({ partition: String(p) }, behind),
      queued: () => {
        this.#lastData = Date.now();
        void this.#tick();
      },
      failed: () => {
        this.#needRestart = true;
        void this.#tick();
      },
      log: this.#log,
    });
  }

  /** Runs {@linkcode Processor.#syncAssignments} after any sync in progress. */
  #resync(): void {
    this.#syncing = this.#syncing.then(() => this.#syncAssignments()).catch((err) => {
      this.#log(`taking the new assignment failed: ${(err as Error).message}; restarting the stream`);
      this.#needRestart = true;
    });
  }

  /** Points the fetcher at the partitions the group assigned to this worker, each from its checkpoint. */
  async #syncAssignments(): Promise<void> {
    const consumer = this.#consumer;
    const fetcher = this.#fetcher;
    if (!consumer || !fetcher) return;
    const owned = this.#owned(consumer);
    const current = fetcher.positions;
    if (owned.length === current.size && owned.every((p) => current.has(p))) return;
    const next = new Map<number, number>();
    let earliest: number[] | undefined;
    for (const p of owned) {
      if (current.has(p)) {
        next.set(p, current.get(p)!);
        continue;
      }
      const s = await this.#partition(p);
      if (s.expected === null && s.next === 0) {
        // Never checkpointed: from the log's start.
        earliest ??= await this.#logStarts(consumer);
        s.next = earliest[p] ?? 0;
      }
      next.set(p, s.next);
    }
    if (this.#fetcher !== fetcher) return;
    // Partitions that moved away: their queued records are left to the new owner, and the state
    // this worker still holds for them is committed at once (the new owner loads what it finds).
    if ([...current.keys()].some((p) => !next.has(p))) this.#checkpointSoon = true;
    fetcher.assign(next);
  }

  /** Each partition's first offset still in the log. */
  async #logStarts(consumer: Consumer): Promise<number[]> {
    const topic = this.options.topic;
    return ((await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? []).map(Number);
  }

  /** Drops everything not checkpointed: partition state, queued responses, dead letters, the fetcher. */
  #forgetProgress(): void {
    this.stats.restarts++;
    this.#fetcher?.close();
    this.#fetcher = undefined;
    this.#queue.clear();
    this.#parts = new Map();
    this.#loading = new Map();
    this.#dead = [];
  }

  /**
   * After a fenced checkpoint: forgets every partition's state, the queued
   * responses and the fetcher (a response still in flight was fetched from the
   * old positions), and reloads from the database — keeping the group
   * membership, so the other workers see no new rebalance.
   */
  async #reload(): Promise<void> {
    if (this.#stopped) return;
    const consumer = this.#consumer;
    if (!consumer) return this.#restart();
    this.#forgetProgress();
    await this.#syncing;
    await this.#startFetching(consumer);
  }

  /** Leaves the group and starts over from the checkpoints (group errors, failed fetches). */
  async #restart(): Promise<void> {
    if (this.#stopped) return;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#forgetProgress();
    await consumer?.close(true).catch(() => {});
    await retryStart(() => this.#start(), () => this.#stopped, (err) => this.#done.reject(err));
  }

  async #tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      if (this.#needRestart || this.#needReload) {
        await this.#inflight;
        const full = this.#needRestart;
        this.#needRestart = this.#needReload = false;
        await (full ? this.#restart() : this.#reload().catch((err) => {
          this.#log(`reloading failed: ${(err as Error).message}; restarting the stream`);
          this.#needRestart = true;
        }));
      }
      const due = () =>
        !this.#inflight &&
        (this.#checkpointSoon || Date.now() - this.#lastCheckpoint >= (this.options.checkpointMs ?? 1000)) &&
        [...this.#parts.values()].some((p) => p.dirty);
      while (this.#queue.length && !this.#stopped && !this.#needRestart && !this.#needReload) {
        await this.#process(this.#queue.shift()!);
        if (due()) this.#checkpoint();
        await this.#throttle(() => due() && this.#checkpoint());
        // Yield to I/O between responses, or the commit in flight would wait for the whole backlog.
        await new Promise((r) => setTimeout(r, 0));
      }
      if (!this.#needRestart && !this.#needReload) this.#resync();
      if (due()) this.#checkpoint();
      if (
        this.options.untilDone && !this.#inflight && !this.#queue.length && Date.now() - this.#lastData > 1000 &&
        ![...this.#parts.values()].some((p) => p.dirty)
      ) {
        // A broker that is away now is retried on the next tick.
        await withKafkaDeadline(this.#checkDone(), this.#timeoutMs, this.options.brokers, "the end-of-input check")
          .catch((err) => this.#log(`end-of-input check failed: ${(err as Error).message}`));
      }
    } catch (err) {
      if (DEBUG) console.error("tick failed:", err);
      this.#done.reject(err);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Waits while processing is ahead of `maxEventsPerSecond`, a second at most between looks (so a stop is not delayed
   * and `each` can take a checkpoint that falls due meanwhile).
   */
  async #throttle(each: () => void): Promise<void> {
    const rate = this.options.maxEventsPerSecond;
    if (!rate) return;
    for (;;) {
      const ahead = (this.stats.events / rate) * 1000 - (performance.now() - this.#rateStart);
      if (ahead <= 1 || this.#stopped) return;
      await new Promise((r) => setTimeout(r, Math.min(ahead, 1000)));
      each();
    }
  }

  /** A partition's state, loaded from the store on first use (concurrent callers share one load). */
  #partition(p: number): Promise<PartitionState> {
    const s = this.#parts.get(p);
    if (s) return Promise.resolve(s);
    let loading = this.#loading.get(p);
    if (!loading) {
      const [parts, pending] = [this.#parts, this.#loading];
      loading = this.#load(p).then((s) => {
        if (this.#parts === parts) parts.set(p, s);
        return s;
      }).finally(() => pending.delete(p));
      pending.set(p, loading);
    }
    return loading;
  }

  #load(p: number): Promise<PartitionState> {
    return loadPartition(this.#sink, this.options.topology, this.options.topic, p, this.options.snapshotMs, this.#log);
  }

  /** Processes one fetch response (see `process_response.ts`), its partitions loaded first. */
  async #process(response: FetchResponse): Promise<void> {
    for (const part of response.partitions) {
      if (!this.#parts.has(part.partition)) await this.#partition(part.partition);
    }
    await processResponse({
      topology: this.options.topology,
      parts: this.#parts,
      fetcher: this.#fetcher!,
      logs: this.#sink.logsObservations === true,
      batchSize: this.#batchSize,
      metrics: this.#metrics,
      counted: (timestamp) => {
        if (++this.stats.events % this.#sampleEvery === 0) this.#latencySamples.push(timestamp);
      },
      lateEvent: () => this.stats.late++,
      deadLetter: (partition, offset, buf, ks, ke, vs, ve, reason, s) => {
        s.dead++;
        this.stats.dead++;
        this.#metrics.dead.inc({ reason: deadLetterLabel(reason) });
        this.#dead.push(deadLetter(partition, offset, buf, ks, ke, vs, ve, reason));
      },
    }, response);
  }

  /**
   * Takes a checkpoint: snapshots every dirty partition now, then commits it in
   * the background while processing goes on. One commit is in flight at a time,
   * so each checkpoint's expected offsets are the previous one's.
   */
  #checkpoint(final = false): void {
    const takeStart = performance.now();
    const { results, checkpoints } = takeCheckpoint(this.#parts, final, {
      topic: this.options.topic,
      topology: this.options.topology,
      sink: this.#sink,
      snapshotMs: this.options.snapshotMs,
      lastMessage: (p, offset) => asMessage(offsetCommitMessage(this.#consumer!, this.options.topic, p, offset)),
    });
    this.#metrics.stage.inc({ stage: "checkpoint" }, (performance.now() - takeStart) / 1000);
    const dead = this.#dead;
    this.#dead = [];
    const samples = this.#latencySamples;
    this.#latencySamples = [];
    this.#lastCheckpoint = Date.now();
    this.#checkpointSoon = false;
    this.#inflight = this.#commit(results, checkpoints, dead, samples)
      .catch((err) => this.#done.reject(err))
      .finally(() => (this.#inflight = undefined));
  }

  async #commit(
    results: WindowResult[],
    checkpoints: PartitionCheckpoint[],
    dead: DeadLetter[],
    samples: number[],
  ): Promise<void> {
    const topic = this.options.topic;
    const t0 = performance.now();
    try {
      await commitCheckpoint(
        {
          sink: this.#sink,
          consumer: this.#consumer!,
          dlq: this.#dlq!,
          dlqTopic: this.#dlqTopic,
          topic,
          log: this.#log,
        },
        results,
        checkpoints,
        dead,
      );
    } catch (err) {
      if (!(err instanceof FencedError)) throw err;
      this.stats.fenced++;
      this.#metrics.fenced.inc();
      this.#log(`fenced: ${err.message}; reloading from the database`);
      this.#needReload = true;
      return;
    }
    let open = 0;
    for (const s of this.#parts.values()) open += s.agg.size;
    recordCommit(this.#metrics, {
      startedAt: t0,
      samples,
      results: results.length,
      maxTs: checkpoints.map((c) => ({ partition: c.partition, maxTs: c.delta ? c.delta.maxTs : c.state.maxTs })),
      boundMs: this.options.topology.maxOutOfOrdernessMs,
      open,
    }, DEBUG);
    if (this.stats.checkpoints++ === 0) this.#log(`first checkpoint: ${results.length} results`);
    this.stats.results += results.length;
    this.options.onCommit?.(checkpoints.map((c) => ({ partition: c.partition, nextOffset: c.nextOffset })));
    // Kafka's offsets follow the database's (never ahead of them), so a restart re-reads little.
    if (this.#sink.commitsGroupOffsets || this.options.assignment === "manual") return;
    // Under the deadline: with the group coordinator's broker just killed the client's commit can wait
    // for ever, and this commit in flight would hold every later checkpoint (seen in the cluster fault test).
    const consumer = this.#consumer;
    if (!consumer) return;
    await withKafkaDeadline(
      consumer.commit({
        offsets: checkpoints.map((c) => ({ topic, partition: c.partition, offset: c.nextOffset, leaderEpoch: -1 })),
      }),
      this.#timeoutMs,
      this.options.brokers,
      "committing the group's offsets",
    ).catch(() => {});
  }

  async #checkDone(): Promise<void> {
    const topic = this.options.topic;
    const manual = this.options.assignment === "manual";
    // Nothing assigned (yet): not done, the coordinator may assign partitions; and done is reported once.
    if (manual && (!this.#manual?.length || this.#reportedDone)) return;
    const ends = (await this.#consumer!.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const stored = await this.#sink.storedOffsets(topic, this.#consumer);
    let done = true;
    ends.forEach((end, p) => {
      if (manual && !this.#manual!.includes(p)) return;
      const next = stored.get(p) ?? 0n;
      this.#metrics.lag.set({ partition: String(p) }, Number(end - next));
      if (next < end) done = false;
    });
    if (done && manual) {
      this.#log(`done: every assigned partition of ${topic} is checkpointed to its end`);
      this.#reportedDone = true;
      this.options.onDone?.();
    } else if (done) {
      this.#log(`done: every partition of ${topic} is checkpointed to its end`);
      this.#stopped = true;
      this.#done.resolve();
    }
  }

  async #close(): Promise<void> {
    await this.#inflight;
    await this.#sink?.close().catch(() => {});
    this.#fetcher?.close();
    await this.#consumer?.close(true).catch(() => {});
    await this.#dlq?.close().catch(() => {});
  }
}
