/**
 * The prediction log: every prediction the server makes (id, model, version,
 * timestamp, features, output, latency, segment) is queued in columns and
 * written in batches to Kafka (topic `observe.predictions`, the stream
 * plugin's idempotent `RecordProducer`) and to PostgreSQL
 * (`observe.predictions`, one `insert … select from json_populate_recordset($1)`
 * per batch, several batches in parallel over the pool). A batch leaves the
 * queue only when stored; a failed write is retried on the next flush, so a
 * PostgreSQL or Kafka hiccup delays rows and loses none (up to `maxQueue`
 * rows; beyond that new rows are counted as dropped, never buffered without
 * bound). Every write has a deadline (`pgTimeoutMs`, `kafkaTimeoutMs`), so a
 * flush round always ends: a write that timed out is retried on the next
 * round (ids already stored are skipped, `on conflict (id) do nothing`).
 *
 * @module
 */
import type { Sql } from "@mercury/core/services/postgres";
import { type Registry, withTimeout } from "@mercury/core";
import type { RecordProducer } from "@mercury/stream";
import { traced } from "./_debug.ts";

/** One logged prediction. */
export interface PredictionRecord {
  id: string;
  model: string;
  version: string;
  /** Epoch milliseconds of the request. */
  ts: number;
  features: readonly number[];
  output: number;
  latencyMs: number;
  segment: string;
}

/** Options of {@linkcode PredictionLog}. */
export interface PredictionLogOptions {
  sql: Sql;
  /** Kafka sink; without it rows go to PostgreSQL only. */
  kafka?: RecordProducer;
  /** Rows per batch (default 5000). */
  batchRows?: number;
  /** Flush at least this often (default 50 ms). */
  flushMs?: number;
  /** Longest wait for one Kafka send before the round moves on and retries later (default 10,000 ms). */
  kafkaTimeoutMs?: number;
  /** Longest wait for one PostgreSQL batch write before the round moves on and retries later (default 10,000 ms). */
  pgTimeoutMs?: number;
  /** Queue limit (default 2,000,000 rows). */
  maxQueue?: number;
  metrics?: Registry;
  /** Told the end-to-end latency (request → stored, ms) of every stored row (benchmarks). */
  onStored?: (rows: number, e2eMs: Float64Array) => void;
  /** The feature names per model, written as the `features` JSON object keys. */
  featureNames?: (model: string) => readonly string[] | undefined;
}

/** A number as JSON; NaN and ±Infinity as strings PostgreSQL reads into a float ("NaN", "Infinity"). */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : `"${x}"`;
}

/** Lets timers and I/O (waiting requests) run between chunks of synchronous work. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A feature as JSON: a non-finite one (never sent by the server, which refuses them) as null. */
function fnum(x: number): string {
  return Number.isFinite(x) ? String(x) : "null";
}

/** A queued prediction; both sinks share it, so its features' JSON is built once. */
interface Entry {
  r: PredictionRecord;
  /** The features as JSON, built by the first sink that writes the row. */
  fj: string;
}

/** Batches predictions to PostgreSQL and Kafka. */
export class PredictionLog {
  readonly #o: PredictionLogOptions;
  #queue: Entry[] = [];
  #kafkaQueue: Entry[] = [];
  /** The Kafka send in flight and how many queued rows it carries. */
  #kafkaSending: { promise: Promise<void>; rows: number } | undefined;
  /** The last feature names seen and their JSON keys (`"name":`), so the keys are quoted once per model. */
  #names: readonly string[] | undefined;
  #keys: string[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;
  /** Rows stored in PostgreSQL. */
  stored = 0;
  /** Rows sent to Kafka. */
  sent = 0;
  /** Rows refused because the queue was full. */
  dropped = 0;
  /** Failed batch writes (each retried). */
  pgErrors = 0;
  kafkaErrors = 0;
  lastError = "";
  readonly #counter;
  readonly #errorCounter;
  readonly #queueGauge;

  constructor(options: PredictionLogOptions) {
    this.#o = options;
    this.#counter = options.metrics?.counter("mercury_observe_logged_total", "Predictions stored in PostgreSQL");
    this.#errorCounter = options.metrics?.counter("mercury_observe_log_errors_total", "Failed batch writes", ["sink"]);
    this.#queueGauge = options.metrics?.gauge("mercury_observe_log_queue", "Predictions waiting to be stored");
    this.#timer = setInterval(() => void this.flush().catch(() => {}), options.flushMs ?? 50);
  }

  /** Rows waiting to be stored. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues one prediction; false when the queue is full (counted as dropped). */
  log(rec: PredictionRecord): boolean {
    if (this.#queue.length >= (this.#o.maxQueue ?? 2_000_000)) {
      this.dropped++;
      return false;
    }
    const e: Entry = { r: rec, fj: "" };
    this.#queue.push(e);
    if (this.#o.kafka) this.#kafkaQueue.push(e);
    if (this.#queue.length >= (this.#o.batchRows ?? 5000) * 2) void this.flush().catch(() => {});
    return true;
  }

  /** Writes what is queued (one flush at a time); resolves when this round is done. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    this.#flushing = this.#flushRound().finally(() => {
      this.#flushing = undefined;
      this.#queueGauge?.set({}, this.#queue.length);
    });
    return this.#flushing;
  }

  /** Flushes until the queue is empty or a write fails. */
  async drain(): Promise<void> {
    while (this.#queue.length || this.#kafkaQueue.length) {
      const before = this.#queue.length + this.#kafkaQueue.length;
      await this.flush();
      if (this.#queue.length + this.#kafkaQueue.length >= before) throw new Error(this.lastError || "no progress");
    }
  }

  async #flushRound(): Promise<void> {
    const n = this.#o.batchRows ?? 5000;
    const work: Promise<void>[] = [];
    if (this.#queue.length) work.push(this.#toPostgres(this.#queue.slice(0, n * 4), n));
    if (this.#kafkaQueue.length && this.#o.kafka) work.push(this.#toKafka(this.#kafkaQueue.slice(0, n * 4)));
    await Promise.all(work);
  }

  async #toPostgres(rows: Entry[], n: number): Promise<void> {
    const batches: Entry[][] = [];
    for (let i = 0; i < rows.length; i += n) batches.push(rows.slice(i, i + n));
    let done = 0;
    try {
      // Batches in parallel over the pool; the queue advances by what finished in order.
      // Each batch's text is built synchronously: a macrotask between them lets waiting requests be answered
      // (a 20,000-row round built in one go held the event loop for tens of milliseconds).
      const writes: Promise<void>[] = [];
      for (let i = 0; i < batches.length; i++) {
        if (i) await yieldToLoop();
        writes.push(this.#insert(batches[i]!));
      }
      const results = await Promise.allSettled(writes);
      for (const r of results) {
        if (r.status === "rejected") throw r.reason;
        done++;
      }
    } catch (err) {
      this.pgErrors++;
      this.lastError = `PostgreSQL: ${(err as Error).message}`;
      this.#errorCounter?.inc({ sink: "postgres" });
    }
    let stored = 0;
    for (let i = 0; i < done; i++) stored += batches[i]!.length;
    if (stored === 0) return;
    const now = Date.now();
    const e2e = new Float64Array(stored);
    for (let i = 0; i < stored; i++) e2e[i] = now - rows[i]!.r.ts;
    this.#queue.splice(0, stored);
    this.stored += stored;
    this.#counter?.inc({}, stored);
    this.#o.onStored?.(stored, e2e);
  }

  /**
   * One batch: the rows as one JSON array parameter, expanded by
   * `json_populate_recordset` into `insert … on conflict (id) do nothing` (a
   * client reusing an id keeps the first row). One statement: a failure
   * leaves nothing behind and the batch is retried whole. As fast as the
   * `COPY … FROM STDIN` it replaces (24,100 and 24,800 rows/s here at load
   * 6.6, 5,000-row batches), without postgres.js 3.4.9's COPY writable, which
   * never settles when the server refuses the COPY after its end (its
   * transaction then never returns: porsager/postgres#1173).
   */
  async #insert(rows: Entry[]): Promise<void> {
    // Rows of a batch mostly share model, version, timestamp and segment: each is formatted once per run of equals.
    let text = "[";
    let model = "", modelJson = "", version = "", versionJson = "", segment = "", segmentJson = '""';
    let ts = NaN, tsIso = "";
    for (let i = 0; i < rows.length; i++) {
      const e = rows[i]!, r = e.r;
      if (r.model !== model) modelJson = JSON.stringify(model = r.model);
      if (r.version !== version) versionJson = JSON.stringify(version = r.version);
      if (r.segment !== segment) segmentJson = JSON.stringify(segment = r.segment);
      if (r.ts !== ts) tsIso = new Date(ts = r.ts).toISOString();
      if (!e.fj) e.fj = this.#featuresJson(r);
      text +=
        `${i ? "," : ""}{"id":${JSON.stringify(r.id)},"model":${modelJson},"version":${versionJson},"ts":"${tsIso}",` +
        `"features":${e.fj},"output":${num(r.output)},"latency_ms":${num(r.latencyMs)},"segment":${segmentJson}}`;
    }
    text += "]";
    const ms = this.#o.pgTimeoutMs ?? 10_000;
    await traced(
      `prediction log: insert ${rows.length} rows`,
      withTimeout(
        this.#o.sql.unsafe(
          `insert into observe.predictions select * from json_populate_recordset(null::observe.predictions, $1::text::json)
           on conflict (id) do nothing`,
          [text],
        ),
        ms,
        `the prediction log's PostgreSQL write of ${rows.length} rows`,
      ),
    );
  }

  #featuresJson(r: PredictionRecord): string {
    const names = this.#o.featureNames?.(r.model);
    if (!names) {
      let out = "[";
      for (let i = 0; i < r.features.length; i++) out += `${i ? "," : ""}${fnum(r.features[i]!)}`;
      return out + "]";
    }
    if (names !== this.#names) {
      this.#names = names;
      this.#keys = names.map((n, i) => `${i ? "," : ""}${JSON.stringify(n)}:`);
    }
    const keys = this.#keys;
    let out = "{";
    for (let i = 0; i < r.features.length; i++) {
      out += `${keys[i] ?? `${i ? "," : ""}"f${i}":`}${fnum(r.features[i]!)}`;
    }
    return out + "}";
  }

  async #toKafka(rows: Entry[]): Promise<void> {
    const k = this.#o.kafka!;
    try {
      // A send that outlived its deadline is waited for again, not appended again: re-appending its rows would
      // send them twice and run two sends on the producer at once.
      if (this.#kafkaSending) {
        await this.#awaitKafka();
        return;
      }
      let model = "", version = "", head = "";
      for (let i = 0; i < rows.length; i++) {
        if (i && i % 5000 === 0) await yieldToLoop();
        const e = rows[i]!, r = e.r;
        if (r.model !== model || r.version !== version) {
          head = `,"model":${JSON.stringify(model = r.model)},"version":${JSON.stringify(version = r.version)},"ts":`;
        }
        if (!e.fj) e.fj = this.#featuresJson(r);
        k.append(
          r.id,
          `{"id":${JSON.stringify(r.id)}${head}${r.ts},"features":${e.fj},"output":${num(r.output)},"latency_ms":${
            num(r.latencyMs)
          }}`,
          r.ts,
        );
      }
      const sending = k.flush();
      sending.catch(() => {}); // observed by #awaitKafka; a rejection after a timeout must not go unhandled
      this.#kafkaSending = { promise: sending, rows: rows.length };
      await this.#awaitKafka();
    } catch (err) {
      this.kafkaErrors++;
      this.lastError = `Kafka: ${(err as Error).message}`;
      this.#errorCounter?.inc({ sink: "kafka" });
    }
  }

  /**
   * Waits for the send in flight, bounded: a send the broker never answers (a connection it closed) must not
   * hold the flush round, which would stop the PostgreSQL writes and every caller waiting on a flush. After a
   * timeout the send stays in flight (its rows queued) and the next round waits for it again; a failed send
   * leaves its rows queued to be appended again.
   */
  async #awaitKafka(): Promise<void> {
    const s = this.#kafkaSending!;
    try {
      await traced(
        `prediction log: Kafka send of ${s.rows} rows`,
        withTimeout(s.promise, this.#o.kafkaTimeoutMs ?? 10_000, "the prediction log's Kafka send"),
      );
    } catch (err) {
      if ((err as { code?: string }).code !== "timeout") this.#kafkaSending = undefined;
      throw err;
    }
    this.#kafkaSending = undefined;
    this.#kafkaQueue.splice(0, s.rows);
    this.sent += s.rows;
  }

  /** Stops the timer and stores what is queued. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush().catch(() => {});
    await this.drain().catch(() => {});
  }
}
