/**
 * A stream worker: consumes a topic in a consumer group, runs a
 * {@linkcode Topology} per partition, and checkpoints results + state +
 * offsets into PostgreSQL in one transaction (exactly-once). Several workers
 * in one group share the partitions; a restarted or rebalanced worker resumes
 * from the last committed checkpoint and skips what it already counted.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Consumer, Producer } from "@platformatic/kafka";
import { asMessage, offsetCommitMessage, trackTopic } from "./_platformatic.ts";
import { MercuryError, Registry } from "@mercury/core";
import { retry } from "@mercury/core/retry";
import type { Sql } from "@mercury/core/services/postgres";
import { type Observation, WindowAggregator, type WindowResult } from "./aggregator.ts";
import { isRejected } from "./event.ts";
import { ObservationLog, replayObservations } from "./observation_log.ts";
import {
  assignedPartitions,
  checkGroupOffsets,
  checkTopic,
  groupConsumer,
  partitionList,
  retryStart,
} from "./group.ts";
import { type CheckpointStore, FencedError, type PartitionCheckpoint } from "./checkpoint_store.ts";
import { PostgresSink } from "./postgres_sink.ts";
import { ensureTopic } from "./produce.ts";
import { Fetcher, FetchError, type FetchResponse } from "./fetcher.ts";
import type { Topology } from "./topology.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, withKafkaDeadline } from "./kafka_deadline.ts";
import { type WorkerMetrics, workerMetrics } from "./worker_metrics.ts";

/** Options of {@linkcode Processor}. */
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
   * themselves only this often (default 10 s); checkpoints in between append
   * the observations taken, and a restart replays them.
   */
  snapshotMs?: number;
  /** Records per processing step: enrichment and aggregation run on this many at a time (default 5000). */
  batchSize?: number;
  /** Bytes per fetch response (default 1 MiB, ~8,000 events): a checkpoint can follow each response. */
  fetchMaxBytes?: number;
  /** Stop once every partition's checkpoint reached the topic's end. */
  untilDone?: boolean;
  /**
   * `group` (default): join the consumer group and read what it assigns.
   * `manual`: read only the partitions given to {@linkcode Processor.assign}
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

interface PartitionState {
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

const DEBUG = Deno.env.get("MERCURY_DEBUG") === "1";

/** A snapshot is due at the latest after this many logged observations (bounds replay on restart). */
const MAX_LOGGED = 500_000;

interface DeadLetter {
  key: Buffer | undefined;
  value: Buffer | undefined;
  reason: string;
  partition: number;
  offset: number;
}

/** Fetched responses waiting to be processed hold at most this many record bytes. */
const QUEUE_BYTES = 24 * 1024 * 1024;

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
  #queue: FetchResponse[] = [];
  #queuedBytes = 0;
  #syncing: Promise<void> = Promise.resolve();
  #busy = false;
  #stopped = false;
  #lastCheckpoint = Date.now();
  #lastData = Date.now();
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
    const deadline = <T>(p: Promise<T>, what: string) =>
      withKafkaDeadline(p, this.#timeoutMs, this.options.brokers, what);
    await deadline(checkGroupOffsets(consumer, this.#sink, this.options.topic, this.#group), "group offsets");
    this.#consumer = consumer;
    // The group protocol (join, heartbeats, assignment) stays with the client; records come
    // through the lean fetch path, starting at each partition's checkpoint.
    trackTopic(consumer, topic);
    // The join waits for the other members' rebalance (up to the rebalance timeout) besides the request deadline.
    await withKafkaDeadline(
      consumer.joinGroup({}),
      this.#timeoutMs + 20_000,
      this.options.brokers,
      "joining the group",
    );
    await this.#startFetching(consumer);
  }

  /** A new fetcher (and its pump) for the assigned partitions, each from its checkpoint. */
  async #startFetching(consumer: Consumer): Promise<void> {
    const topic = this.options.topic;
    let leaders: Map<number, { host: string; port: number }> | undefined;
    const fetcher = new Fetcher({
      topic,
      clientId: `mercury-stream-${this.pipeline}-${Deno.pid}`,
      isolationLevel: 1, // read_committed
      maxWaitMs: 100,
      maxBytes: this.options.fetchMaxBytes ?? 1024 * 1024,
      requestTimeoutMs: this.#timeoutMs,
      leader: async (p) => {
        if (!leaders?.has(p)) {
          const meta = await consumer.metadata({ topics: [topic], forceUpdate: leaders !== undefined });
          leaders = new Map();
          meta.topics.get(topic)?.partitions.forEach((part, i) => {
            const b = meta.brokers.get(part.leader);
            if (b) leaders!.set(i, { host: b.host, port: b.port });
          });
          if (!leaders.has(p)) throw new FetchError(`no leader known for ${topic}/${p}`, 5, true, p);
        }
        return leaders.get(p)!;
      },
    });
    this.#fetcher = fetcher;
    this.#resync();
    await this.#syncing;
    void this.#pump(fetcher, () => (leaders = undefined));
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

  /** Fetches into the queue while this fetcher is current, pausing while the queue is full. */
  async #pump(fetcher: Fetcher, forgetLeaders: () => void): Promise<void> {
    let failures = 0;
    while (!this.#stopped && this.#fetcher === fetcher) {
      if (this.#queuedBytes >= QUEUE_BYTES) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      let response: FetchResponse;
      try {
        response = await fetcher.next();
        failures = 0;
      } catch (err) {
        if (this.#fetcher !== fetcher) return;
        const e = err as FetchError;
        if (e instanceof FetchError && e.code === 1 && e.partition !== undefined) {
          // The checkpoint's offset is gone from the log (retention): go on from the log's start, and say so.
          const start = (await this.#logStarts(this.#consumer!).catch(() => []))[e.partition] ?? 0;
          this.#log(`${e.message}; records were deleted before they were processed, resuming at ${start}`);
          const s = this.#parts.get(e.partition);
          if (s && s.next < start) s.next = start;
          fetcher.seek(e.partition, start);
          continue;
        }
        if (e instanceof FetchError && e.retriable && ++failures < 60) {
          if (failures === 1 || failures % 10 === 0) this.#log(`${e.message}; retrying`);
          forgetLeaders();
          await new Promise((r) => setTimeout(r, Math.min(1000, 100 * failures)));
          continue;
        }
        this.#log(`fetch failed: ${(err as Error).message}; restarting the stream`);
        this.#needRestart = true;
        void this.#tick();
        return;
      }
      if (this.#fetcher !== fetcher) return;
      for (const part of response.partitions) {
        this.#metrics.lag.set({ partition: String(part.partition) }, Math.max(0, part.highWatermark - part.nextOffset));
      }
      if (response.bytes === 0) continue;
      this.#queue.push(response);
      this.#queuedBytes += response.bytes;
      this.#lastData = Date.now();
      void this.#tick();
    }
  }

  /** Drops everything not checkpointed: partition state, queued responses, dead letters, the fetcher. */
  #forgetProgress(): void {
    this.stats.restarts++;
    this.#fetcher?.close();
    this.#fetcher = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
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
        const response = this.#queue.shift()!;
        this.#queuedBytes -= response.bytes;
        await this.#process(response);
        if (due()) this.#checkpoint();
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
        await this.#checkDone().catch((err) => this.#log(`end-of-input check failed: ${(err as Error).message}`));
      }
    } catch (err) {
      if (DEBUG) console.error("tick failed:", err);
      this.#done.reject(err);
    } finally {
      this.#busy = false;
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

  async #load(p: number): Promise<PartitionState> {
    const t = this.options.topology;
    const loaded = await this.#sink.load(this.options.topic, p);
    const options = {
      window: t.window,
      maxOutOfOrdernessMs: t.maxOutOfOrdernessMs,
      allowedLatenessMs: t.allowedLatenessMs,
    };
    const agg = WindowAggregator.restore(options, loaded.state);
    const replayed = replayObservations(agg, loaded.log ?? []);
    if (replayed) this.#log(`partition ${p}: replayed ${replayed} logged observations onto the snapshot`);
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
      snapshotAt: Date.now() - this.#snapshotPhase(p),
    };
  }

  /**
   * Processes one fetch response: records already counted are skipped, each
   * other record is parsed (rejects are dead-lettered), then enrichment and
   * aggregation run `batchSize` events at a time. No checkpoint is taken
   * inside: the partitions' offsets already point past the whole response.
   */
  async #process(response: FetchResponse): Promise<void> {
    const t = this.options.topology;
    for (const part of response.partitions) {
      if (!this.#parts.has(part.partition)) await this.#partition(part.partition);
    }
    const events: E[] = [];
    const states: PartitionState[] = [];
    // Where each accepted record is (for a late event's dead letter): buffer, offset, key and value bounds.
    const bufs: Uint8Array[] = [];
    const spans: number[] = [];
    const before = new Map<PartitionState, number>();
    for (const part of response.partitions) {
      const s = this.#parts.get(part.partition)!;
      before.set(s, s.events);
    }
    let current: PartitionState | undefined;
    let currentP = -1;
    let currentOwned = false;
    const parseAt = t.parseAt;
    // The partitions this worker still reads: records of any other are left to their new owner.
    const owned = this.#fetcher!.positions;
    this.#fetcher!.visit(response, (p, offset, timestamp, buf, ks, ke, vs, ve) => {
      if (p !== currentP) {
        current = this.#parts.get(p)!;
        currentP = p;
        currentOwned = owned.has(p);
      }
      const s = current!;
      if (offset < s.next || !currentOwned) return; // already counted, or no longer this worker's
      s.next = offset + 1;
      s.dirty = true;
      s.events++;
      if (++this.stats.events % this.#sampleEvery === 0) this.#latencySamples.push(timestamp);
      const parsed = vs < 0 ? t.parse(null) : parseAt ? parseAt(buf, vs, ve) : t.parse(buf.subarray(vs, ve));
      if (isRejected(parsed)) {
        this.#deadLetter(p, offset, buf, ks, ke, vs, ve, parsed.reason, s);
        return;
      }
      events.push(parsed);
      states.push(s);
      bufs.push(buf);
      spans.push(offset, ks, ke, vs, ve);
    });
    for (const [s, n] of before) {
      if (s.events > n) this.#metrics.eventsIn.inc({ partition: String(s.partition) }, s.events - n);
    }
    const logs = this.#sink.logsObservations === true;
    const size = this.#batchSize;
    for (let from = 0; from < events.length; from += size) {
      let batch = events.slice(from, from + size);
      for (const enrich of t.enrichers) batch = await enrich(batch);
      const now = Date.now();
      const touched = new Set<PartitionState>();
      // One observation object, refilled per event (the aggregator and the log encoder keep none of it).
      const o: Observation = { key: "", ts: 0, value: 0, distinct: "", attrs: undefined };
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        const k = from + i;
        const s = states[k]!;
        o.key = t.keyBy(e);
        o.ts = t.timeDomain === "processing" ? now : t.eventTime(e);
        o.value = t.value(e);
        o.distinct = t.distinct(e);
        o.attrs = t.attrs?.(e);
        const outcome = s.agg.add(o);
        if (logs && outcome === "ok") s.log.append(o);
        if (outcome === "late") {
          const x = 5 * k;
          this.#deadLetter(
            s.partition,
            spans[x]!,
            bufs[k]!,
            spans[x + 1]!,
            spans[x + 2]!,
            spans[x + 3]!,
            spans[x + 4]!,
            "late: its windows are already final",
            s,
          );
          s.late++;
          this.stats.late++;
          this.#metrics.late.inc();
        }
        touched.add(s);
      }
      for (const s of touched) s.pending.push(...s.agg.advance());
      // Yield to I/O between steps, or the commit in flight would wait for the whole backlog.
      if (from + size < events.length) await new Promise((r) => setTimeout(r, 0));
    }
  }

  /** Partitions take their snapshots at staggered moments, so no checkpoint writes all state at once. */
  #snapshotPhase(p: number): number {
    return ((p % 16) / 16) * (this.options.snapshotMs ?? 10_000);
  }

  #deadLetter(
    partition: number,
    offset: number,
    buf: Uint8Array,
    ks: number,
    ke: number,
    vs: number,
    ve: number,
    reason: string,
    s: PartitionState,
  ): void {
    s.dead++;
    this.stats.dead++;
    this.#metrics.dead.inc({ reason: reason.split(":")[0]!.split(" ").slice(0, 3).join(" ") });
    // Copies: the record's bytes live in the fetch response, which should not stay alive for them.
    const key = ks < 0 ? undefined : Buffer.from(buf.subarray(ks, ke));
    const value = vs < 0 ? undefined : Buffer.from(buf.subarray(vs, ve));
    this.#dead.push({ key, value, reason, partition, offset });
  }

  /**
   * Takes a checkpoint: snapshots every dirty partition now, then commits it in
   * the background while processing goes on. One commit is in flight at a time,
   * so each checkpoint's expected offsets are the previous one's.
   */
  #checkpoint(final = false): void {
    const topic = this.options.topic;
    // A final checkpoint also snapshots partitions whose state still lives in the log.
    const dirty = [...this.#parts.entries()].filter(([, s]) => s.dirty || (final && s.logged > 0));
    const dead = this.#dead;
    this.#dead = [];
    const results = dirty.flatMap(([, s]) => s.pending);
    const now = Date.now();
    const snapshotDue = (s: PartitionState) =>
      final || !this.#sink.logsObservations || s.expected === null || s.logged + s.log.length >= MAX_LOGGED ||
      now - s.snapshotAt >= (this.options.snapshotMs ?? 10_000);
    const t = this.options.topology;
    const aggregator = {
      window: t.window,
      maxOutOfOrdernessMs: t.maxOutOfOrdernessMs,
      allowedLatenessMs: t.allowedLatenessMs,
    };
    const state = (
      p: number,
      s: PartitionState,
    ): Pick<PartitionCheckpoint, "state" | "delta" | "log" | "aggregator"> => {
      if (!this.#sink.incremental) return { state: s.agg.snapshot() };
      if (!snapshotDue(s)) {
        s.logged += s.log.length;
        const log = s.log.take();
        return { state: { maxTs: Number.isFinite(s.agg.maxTs) ? s.agg.maxTs : null, open: [] }, log };
      }
      s.log.take();
      s.logged = 0;
      s.snapshotAt = now - this.#snapshotPhase(p);
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
      lastMessage: this.#sink.commitsGroupOffsets && s.next > 0
        ? asMessage(offsetCommitMessage(this.#consumer!, this.options.topic, p, s.next - 1))
        : undefined,
    }));
    const samples = this.#latencySamples;
    this.#latencySamples = [];
    for (const [, s] of dirty) {
      s.expected = BigInt(s.next);
      s.pending = [];
      s.events = s.late = s.dead = 0;
      s.dirty = false;
    }
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
    let deadSent = false;
    try {
      await retry(async () => {
        // Dead letters first (at least once): a crash or a retry before the commit re-sends them.
        // Chunks stay well under the broker's message.max.bytes.
        for (let i = 0; !deadSent && i < dead.length; i += 500) {
          await this.#dlq!.send({
            messages: dead.slice(i, i + 500).map((d) => ({
              topic: this.#dlqTopic,
              key: d.key,
              value: d.value ?? Buffer.alloc(0),
              headers: new Map([
                [Buffer.from("reason"), Buffer.from(d.reason)],
                [Buffer.from("source"), Buffer.from(`${topic}/${d.partition}@${d.offset}`)],
              ]),
            })),
          });
        }
        deadSent = true;
        await this.#sink.commit(results, checkpoints, this.#consumer!);
      }, {
        // The database or the broker is away: nothing was committed, retry the same checkpoint (60 attempts,
        // 1 s apart). A fence, or a data, integrity or statement error (SQLSTATE classes 22, 23, 42), would
        // fail the same way again.
        attempts: 60,
        baseMs: 1000,
        factor: 1,
        retryable: (err) =>
          !(err instanceof FencedError) &&
          !/^(22|23|42)[0-9A-Z]{3}$/.test(String((err as { code?: unknown }).code ?? "")),
        onRetry: (err) => {
          const inner = (err as { errors?: { message: string; errors?: { message: string }[] }[] }).errors?.[0];
          const why = inner?.errors?.[0]?.message ?? inner?.message ?? "";
          this.#log(`checkpoint failed (${(err as Error).message}${why ? ": " + why : ""}); retrying`);
        },
      });
    } catch (err) {
      if (!(err instanceof FencedError)) throw err;
      this.stats.fenced++;
      this.#metrics.fenced.inc();
      this.#log(`fenced: ${err.message}; reloading from the database`);
      this.#needReload = true;
      return;
    }
    const committedAt = Date.now();
    this.#metrics.commit.observe({}, (performance.now() - t0) / 1000);
    for (const ts of samples) this.#metrics.latency.observe({}, Math.max(0, committedAt - ts) / 1000);
    if (DEBUG && samples.length) {
      console.error(
        `checkpoint: ${samples.length} latency samples, oldest ${committedAt - Math.min(...samples)} ms; ` +
          `commit ${(performance.now() - t0).toFixed(0)} ms`,
      );
    }
    if (this.stats.checkpoints++ === 0) this.#log(`first checkpoint: ${results.length} results`);
    this.stats.results += results.length;
    this.#metrics.resultsOut.inc({}, results.length);
    const bound = this.options.topology.maxOutOfOrdernessMs;
    for (const c of checkpoints) {
      const maxTs = c.delta ? c.delta.maxTs : c.state.maxTs;
      this.#metrics.watermark.set({ partition: String(c.partition) }, Math.max(0, (maxTs ?? 0) - bound) / 1000);
    }
    let open = 0;
    for (const s of this.#parts.values()) open += s.agg.size;
    this.#metrics.open.set({}, open);
    this.options.onCommit?.(checkpoints.map((c) => ({ partition: c.partition, nextOffset: c.nextOffset })));
    // Kafka's offsets follow the database's (never ahead of them), so a restart re-reads little.
    if (this.#sink.commitsGroupOffsets || this.options.assignment === "manual") return;
    await this.#consumer?.commit({
      offsets: checkpoints.map((c) => ({ topic, partition: c.partition, offset: c.nextOffset, leaderEpoch: -1 })),
    }).catch(() => {});
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
