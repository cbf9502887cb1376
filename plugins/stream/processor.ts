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
import { Admin, Consumer, type Message, MessagesStreamModes, Producer } from "@platformatic/kafka";
import { MercuryError, Registry } from "@mercury/core";
import type { Sql } from "@mercury/core/services/postgres";
import { type Observation, WindowAggregator, type WindowResult } from "./aggregator.ts";
import { isRejected } from "./event.ts";
import { encodeObservation, replayObservations } from "./observation_log.ts";
import { type CheckpointStore, FencedError, type PartitionCheckpoint } from "./checkpoint_store.ts";
import { PostgresSink } from "./postgres_sink.ts";
import { ensureTopic } from "./produce.ts";
import type { Topology } from "./topology.ts";

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
  /** Records per processing batch (default 5000). */
  batchSize?: number;
  /** Stop once every partition's checkpoint reached the topic's end. */
  untilDone?: boolean;
  /** Metrics registry (default: a new one). */
  registry?: Registry;
  log?: (line: string) => void;
}

interface PartitionState {
  agg: WindowAggregator;
  expected: bigint | null;
  next: bigint;
  pending: WindowResult[];
  last?: Message;
  events: number;
  late: number;
  dead: number;
  dirty: boolean;
  /** Observation log lines since the last checkpoint (stores that log them). */
  log: string[];
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
  offset: bigint;
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

/** Runs a topology against Kafka with an exactly-once PostgreSQL sink. */
export class Processor<E> {
  readonly options: ProcessorOptions<E>;
  readonly pipeline: string;
  readonly registry: Registry;
  readonly stats: ProcessorStats = { events: 0, results: 0, late: 0, dead: 0, checkpoints: 0, fenced: 0, restarts: 0 };
  #sink!: CheckpointStore;
  #parts = new Map<number, PartitionState>();
  #consumer?: Consumer;
  #stream?: Awaited<ReturnType<Consumer["consume"]>>;
  #dlq?: Producer;
  #dead: DeadLetter[] = [];
  #buffer: Message[] = [];
  #busy = false;
  #stopped = false;
  #lastCheckpoint = Date.now();
  #lastData = Date.now();
  #done!: PromiseWithResolvers<void>;
  #timer?: ReturnType<typeof setInterval>;
  #inflight?: Promise<void>;
  #needRestart = false;
  #sampleEvery = 64;
  #latencySamples: number[] = [];
  #metrics;

  constructor(options: ProcessorOptions<E>) {
    this.options = options;
    this.pipeline = options.pipeline ?? options.topic;
    this.registry = options.registry ?? new Registry();
    const r = this.registry;
    this.#metrics = {
      eventsIn: r.counter("mercury_stream_events_in_total", "Records read from Kafka", ["partition"]),
      resultsOut: r.counter("mercury_stream_results_out_total", "Final window results written"),
      late: r.counter("mercury_stream_late_events_total", "Events behind the watermark (dead-lettered)"),
      dead: r.counter("mercury_stream_dead_letter_total", "Records sent to the dead-letter topic", ["reason"]),
      lag: r.gauge("mercury_stream_consumer_lag", "End offset minus next offset", ["partition"]),
      watermark: r.gauge("mercury_stream_watermark_seconds", "Event-time watermark", ["partition"]),
      open: r.gauge("mercury_stream_open_windows", "Open (key, window) pairs in state"),
      latency: r.histogram(
        "mercury_stream_end_to_end_latency_seconds",
        "From a record's append to Kafka to its checkpoint committing (sampled 1/64)",
        [],
        [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30],
      ),
      commit: r.histogram("mercury_stream_commit_seconds", "Checkpoint transaction time", [], [
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        5,
      ]),
      rebalances: r.counter("mercury_stream_rebalances_total", "Consumer group rebalances seen"),
      fenced: r.counter("mercury_stream_fenced_total", "Checkpoints refused because another worker moved a partition"),
    };
  }

  get #batchSize(): number {
    return this.options.batchSize ?? 5000;
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
    await this.#checkTopic();
    if (this.options.store) this.#sink = await this.options.store(this.pipeline);
    else if (this.options.sql) this.#sink = await PostgresSink.open(this.options.sql, this.pipeline);
    else throw new MercuryError("config", "a Processor needs `sql` (PostgreSQL sink) or a `store`");
    this.#log(`sink: ${this.#sink.describe()}`);
    this.#dlq = new Producer({
      clientId: `mercury-dlq-${this.pipeline}`,
      bootstrapBrokers: this.options.brokers,
      idempotent: true,
    });
    await ensureTopic(this.options.brokers, this.#dlqTopic, { partitions: 1 });
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
    if (!this.#needRestart && [...this.#parts.values()].some((p) => p.dirty || p.logged > 0)) {
      this.#checkpoint(true);
      await this.#inflight;
    }
  }

  /** Stops after the current batch and writes a last checkpoint (a crash instead resumes from the previous one). */
  stop(): void {
    this.#stopped = true;
    this.#done?.resolve();
  }

  async #start(): Promise<void> {
    const { brokers, topic } = this.options;
    const consumer = new Consumer({
      clientId: `mercury-stream-${this.pipeline}-${Deno.pid}`,
      groupId: this.options.group ?? `mercury-stream-${this.pipeline}`,
      ...(this.options.instanceId ? { groupInstanceId: this.options.instanceId } : {}),
      bootstrapBrokers: brokers,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      maxWaitTime: 100,
      maxBytes: 16 * 1024 * 1024,
    });
    // Group errors (a rebalance racing a join, a coordinator moving) restart the stream
    // from the checkpoints instead of killing the worker.
    consumer.on("error", (err: Error) => {
      if (this.#consumer !== consumer) return;
      this.#log(`consumer group error: ${err.message}; restarting the stream`);
      this.#needRestart = true;
    });
    consumer.on("consumer:group:join", () => {
      this.#metrics.rebalances.inc();
      // State of partitions that moved away is kept, not dropped: dropping it would lose the
      // records processed since the last checkpoint, which the consumer will not hand out again.
      // Kept state is safe: its next checkpoint is fenced if the new owner has moved on (and this
      // worker then reloads everything), and if the partition comes back untouched, the records
      // re-fetched from the last committed offset are skipped as already counted.
      const owned = new Set(
        (consumer.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions),
      );
      this.#log(`assigned partitions: ${[...owned].sort((a, b) => a - b).join(",") || "none"}`);
    });
    await this.#checkOffsets(consumer);
    this.#consumer = consumer;
    // Kafka's committed offsets trail the database's (they are committed after it), so
    // starting there and skipping what the checkpoint already holds loses nothing.
    this.#stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: "earliest",
      autocommit: false,
      isolationLevel: 1, // read_committed
    });
    const stream = this.#stream;
    stream.on("data", (m: Message) => {
      this.#buffer.push(m);
      this.#lastData = Date.now();
      // Backpressure: stop fetching while a few batches wait.
      if (this.#buffer.length >= 4 * this.#batchSize) stream.pause();
      if (this.#buffer.length >= this.#batchSize) void this.#tick();
    });
    this.#stream.on("error", (err: Error) => {
      if (this.#stream !== stream) return;
      this.#log(`consumer error: ${err.message}; restarting the stream`);
      this.#needRestart = true;
    });
  }

  /** An unknown input topic is an error before anything is created. */
  async #checkTopic(): Promise<void> {
    const { brokers, topic } = this.options;
    const admin = new Admin({ clientId: "mercury-stream-check", bootstrapBrokers: brokers });
    let topics: string[];
    try {
      topics = await admin.listTopics();
    } catch (err) {
      throw new MercuryError("unavailable", `cannot reach Kafka at ${brokers.join(",")}: ${(err as Error).message}`, {
        where: brokers.join(","),
        hint: "start it with `deno task services up kafka`, or set MERCURY_KAFKA_BROKERS",
        cause: err,
      });
    } finally {
      await admin.close().catch(() => {});
    }
    if (!topics.includes(topic)) {
      throw new MercuryError("not_found", `unknown topic "${topic}"`, {
        where: brokers.join(","),
        hint: "create it first, e.g. `deno task mercury stream produce --topic " + topic + "`",
      });
    }
  }

  /**
   * Refuses to start when the group's Kafka offsets are ahead of the database's
   * checkpoints: records in between would be skipped (e.g. checkpoints deleted
   * by hand without resetting the group).
   */
  async #checkOffsets(consumer: Consumer): Promise<void> {
    const topic = this.options.topic;
    const meta = await consumer.metadata({ topics: [topic] });
    const count = meta.topics.get(topic)?.partitionsCount ?? 0;
    const partitions = Array.from({ length: count }, (_, i) => i);
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions }] })).get(topic) ?? [];
    const stored = await this.#sink.storedOffsets(topic, consumer);
    for (const p of partitions) {
      const k = committed[p] ?? -1n;
      if (k > (stored.get(p) ?? 0n)) {
        throw new MercuryError(
          "conflict",
          `the consumer group's offset for ${topic}/${p} (${k}) is ahead of the pipeline's checkpoint (${
            stored.get(p) ?? "none"
          })`,
          {
            where: `group ${this.options.group ?? `mercury-stream-${this.pipeline}`}`,
            hint:
              "checkpoints were removed without resetting the group: reset both (`deno task mercury stream reset`) or use a new --pipeline",
          },
        );
      }
    }
  }

  async #restart(): Promise<void> {
    if (this.#stopped) return;
    this.stats.restarts++;
    const old = [this.#stream, this.#consumer] as const;
    this.#stream = undefined;
    this.#consumer = undefined;
    this.#buffer = [];
    this.#parts.clear();
    this.#dead = [];
    await old[0]?.close().catch(() => {});
    await old[1]?.close(true).catch(() => {});
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        await this.#start();
        return;
      } catch (err) {
        if (attempt >= 30) {
          this.#done.reject(err);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
      }
    }
  }

  async #tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      if (this.#needRestart) {
        await this.#inflight;
        this.#needRestart = false;
        await this.#restart();
      }
      const due = () =>
        !this.#inflight && Date.now() - this.#lastCheckpoint >= (this.options.checkpointMs ?? 1000) &&
        [...this.#parts.values()].some((p) => p.dirty);
      while (this.#buffer.length && !this.#stopped && !this.#needRestart) {
        await this.#process(this.#buffer.splice(0, this.#batchSize));
        if (due()) this.#checkpoint();
        // Yield to I/O between batches, or the commit in flight would wait for the whole backlog.
        await new Promise((r) => setTimeout(r, 0));
      }
      if (this.#stream?.isPaused() && this.#buffer.length < this.#batchSize) this.#stream.resume();
      if (due()) this.#checkpoint();
      if (
        this.options.untilDone && !this.#inflight && Date.now() - this.#lastData > 1000 &&
        ![...this.#parts.values()].some((p) => p.dirty)
      ) {
        // A broker that is away now is retried on the next tick.
        await this.#checkDone().catch((err) => this.#log(`end-of-input check failed: ${(err as Error).message}`));
      }
    } catch (err) {
      this.#done.reject(err);
    } finally {
      this.#busy = false;
    }
  }

  async #partition(p: number): Promise<PartitionState> {
    let s = this.#parts.get(p);
    if (s) return s;
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
    s = {
      agg,
      expected: loaded.nextOffset,
      next: loaded.nextOffset ?? 0n,
      pending: [],
      events: 0,
      late: 0,
      dead: 0,
      dirty: false,
      log: [],
      logged: replayed,
      snapshotAt: Date.now() - this.#snapshotPhase(p),
    };
    this.#parts.set(p, s);
    return s;
  }

  async #process(batch: Message[]): Promise<void> {
    const t = this.options.topology;
    const accepted: { e: E; s: PartitionState; m: Message }[] = [];
    const perPartition = new Map<number, number>();
    for (const m of batch) {
      const s = this.#parts.get(m.partition) ?? await this.#partition(m.partition);
      if (m.offset < s.next) continue; // already in the checkpoint
      s.next = m.offset + 1n;
      s.last = m;
      s.dirty = true;
      s.events++;
      this.stats.events++;
      perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + 1);
      if (this.stats.events % this.#sampleEvery === 0) this.#latencySamples.push(Number(m.timestamp));
      const parsed = t.parse(m.value as unknown as Uint8Array);
      if (isRejected(parsed)) {
        this.#deadLetter(m, parsed.reason, s);
        continue;
      }
      accepted.push({ e: parsed, s, m });
    }
    for (const [p, n] of perPartition) this.#metrics.eventsIn.inc({ partition: String(p) }, n);
    let events = accepted.map((a) => a.e);
    for (const enrich of t.enrichers) events = await enrich(events);
    const now = Date.now();
    const touched = new Set<PartitionState>();
    const logs = this.#sink.logsObservations === true;
    events.forEach((e, i) => {
      const { s, m } = accepted[i]!;
      const o: Observation = {
        key: t.keyBy(e),
        ts: t.timeDomain === "processing" ? now : t.eventTime(e),
        value: t.value(e),
        distinct: t.distinct(e),
        attrs: t.attrs?.(e),
      };
      const outcome = s.agg.add(o);
      if (logs && outcome === "ok") s.log.push(encodeObservation(o));
      if (outcome === "late") {
        this.#deadLetter(m, "late: its windows are already final", s);
        s.late++;
        this.stats.late++;
        this.#metrics.late.inc();
      }
      touched.add(s);
    });
    for (const s of touched) s.pending.push(...s.agg.advance());
  }

  /** Partitions take their snapshots at staggered moments, so no checkpoint writes all state at once. */
  #snapshotPhase(p: number): number {
    return ((p % 16) / 16) * (this.options.snapshotMs ?? 10_000);
  }

  #deadLetter(m: Message, reason: string, s: PartitionState): void {
    s.dead++;
    this.stats.dead++;
    this.#metrics.dead.inc({ reason: reason.split(":")[0]!.split(" ").slice(0, 3).join(" ") });
    this.#dead.push({ key: m.key, value: m.value, reason, partition: m.partition, offset: m.offset });
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
        const log = s.log.join("\n");
        s.logged += s.log.length;
        s.log = [];
        return { state: { maxTs: Number.isFinite(s.agg.maxTs) ? s.agg.maxTs : null, open: [] }, log };
      }
      s.log = [];
      s.logged = 0;
      s.snapshotAt = now - this.#snapshotPhase(p);
      return { state: { maxTs: null, open: [] }, delta: s.agg.delta(), aggregator };
    };
    const checkpoints: PartitionCheckpoint[] = dirty.map(([p, s]) => ({
      topic,
      partition: p,
      expectedOffset: s.expected,
      nextOffset: s.next,
      ...state(p, s),
      events: s.events,
      late: s.late,
      dead: s.dead,
      lastMessage: s.last,
    }));
    const samples = this.#latencySamples;
    this.#latencySamples = [];
    for (const [, s] of dirty) {
      s.expected = s.next;
      s.pending = [];
      s.events = s.late = s.dead = 0;
      s.dirty = false;
    }
    this.#lastCheckpoint = Date.now();
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
    for (let attempt = 1;; attempt++) {
      try {
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
        break;
      } catch (err) {
        if (err instanceof FencedError) {
          this.stats.fenced++;
          this.#metrics.fenced.inc();
          this.#log(`fenced: ${err.message}; reloading from the database`);
          this.#needRestart = true;
          return;
        }
        // The database or the broker is away: nothing was committed, retry the same checkpoint.
        if (attempt >= 60) throw err;
        const inner = (err as { errors?: { message: string; errors?: { message: string }[] }[] }).errors?.[0];
        const why = inner?.errors?.[0]?.message ?? inner?.message ?? "";
        this.#log(`checkpoint failed (${(err as Error).message}${why ? ": " + why : ""}); retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
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
    // Kafka's offsets follow the database's (never ahead of them), so a restart re-reads little.
    if (this.#sink.commitsGroupOffsets) return;
    await this.#consumer?.commit({
      offsets: checkpoints.map((c) => ({ topic, partition: c.partition, offset: c.nextOffset, leaderEpoch: -1 })),
    }).catch(() => {});
  }

  async #checkDone(): Promise<void> {
    const topic = this.options.topic;
    const ends = (await this.#consumer!.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const stored = await this.#sink.storedOffsets(topic, this.#consumer);
    let done = true;
    ends.forEach((end, p) => {
      const next = stored.get(p) ?? 0n;
      this.#metrics.lag.set({ partition: String(p) }, Number(end - next));
      if (next < end) done = false;
    });
    if (done) {
      this.#log(`done: every partition of ${topic} is checkpointed to its end`);
      this.#stopped = true;
      this.#done.resolve();
    }
  }

  async #close(): Promise<void> {
    await this.#inflight;
    await this.#sink?.close().catch(() => {});
    await this.#stream?.close().catch(() => {});
    await this.#consumer?.close(true).catch(() => {});
    await this.#dlq?.close().catch(() => {});
  }
}
