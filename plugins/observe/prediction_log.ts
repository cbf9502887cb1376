/**
 * The prediction log: every prediction the server makes (id, model, version,
 * timestamp, features, output, latency, segment) is queued in columns and
 * written in batches to Kafka (topic `observe.predictions`, the stream
 * plugin's idempotent `RecordProducer`) and to PostgreSQL
 * (`observe.predictions`, one `insert … select` per batch from one text
 * parameter of separated values split by `string_to_table`; up to 4 batches
 * in flight over the pool, the next sent as soon as one ends). A batch leaves the
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

/** A PostgreSQL batch in flight: its rows (from the queue's head, in order) and how its write ended. */
interface Slot {
  rows: Entry[];
  ok: boolean | undefined;
  done: Promise<void>;
}

/** True when `s` holds one of the row and field separators of a batch's plain text form. */
function hasSeparator(s: string): boolean {
  return s.includes("\x1e") || s.includes("\x1f");
}

/** A batch as rows separated by U+001E, fields by U+001F (see `PredictionLog#build`). */
const INSERT_SEPARATED =
  `insert into observe.predictions (id, model, version, ts, features, output, latency_ms, segment)
  select a[1], a[2], a[3], a[4]::timestamptz, a[5]::jsonb, a[6]::float8, a[7]::real, a[8]
  from string_to_table($1::text, E'\\x1e') as l, string_to_array(l, E'\\x1f') as a
  on conflict (id) do nothing`;

/** A batch as a JSON array of rows. */
const INSERT_JSON = `insert into observe.predictions
  select * from json_populate_recordset(null::observe.predictions, $1::text::json)
  on conflict (id) do nothing`;

/** Rows built into a batch's text between two yields to the event loop (about 1–3 ms of work). */
const BUILD_SLICE = 1000;

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
  /** The PostgreSQL pump while it runs, and the Kafka round while it runs. */
  #pumping: Promise<void> | undefined;
  #kafkaRound: Promise<void> | undefined;
  /** PostgreSQL batches in flight, oldest first; the queue's first `#pgSent` rows are in them. */
  #slots: Slot[] = [];
  #pgSent = 0;
  /** Rows ever queued and rows ever stored (stored ones leave the queue's head), for `flush()`'s waiters. */
  #queuedTotal = 0;
  #storedTotal = 0;
  #waiters: { target: number; resolve: () => void }[] = [];
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
    this.#queuedTotal++;
    if (this.#o.kafka) this.#kafkaQueue.push(e);
    if (!this.#pumping && this.#queue.length >= (this.#o.batchRows ?? 5000)) void this.flush().catch(() => {});
    return true;
  }

  /**
   * Writes what is queued; resolves when the rows queued before the call are stored in PostgreSQL (or the
   * PostgreSQL pump stopped on a failed write, to retry on the next flush) and the Kafka round is done.
   */
  flush(): Promise<void> {
    const target = this.#queuedTotal;
    if (!this.#pumping) {
      this.#pumping = this.#pump().finally(() => {
        this.#pumping = undefined;
        this.#queueGauge?.set({}, this.#queue.length);
        for (const w of this.#waiters.splice(0)) w.resolve();
      });
    }
    const pg = this.#storedTotal >= target
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.#waiters.push({ target, resolve }));
    if (!this.#o.kafka || (!this.#kafkaQueue.length && !this.#kafkaRound)) return pg;
    if (!this.#kafkaRound) {
      this.#kafkaRound = this.#toKafka(this.#kafkaQueue.slice(0, (this.#o.batchRows ?? 5000) * 4)).finally(() => {
        this.#kafkaRound = undefined;
      });
    }
    return Promise.all([pg, this.#kafkaRound]).then(() => {});
  }

  /** Flushes until the queue is empty or a write fails. */
  async drain(): Promise<void> {
    while (this.#queue.length || this.#kafkaQueue.length) {
      const before = this.#queue.length + this.#kafkaQueue.length;
      await this.flush();
      if (this.#pumping) await this.#pumping;
      if (this.#queue.length + this.#kafkaQueue.length >= before) throw new Error(this.lastError || "no progress");
    }
  }

  /**
   * The PostgreSQL pump: keeps up to `parallel` (4) batches in flight over the pool and sends the next batch as
   * soon as one slot frees (no round waiting for its slowest write), building each batch's text in slices that
   * let waiting requests run in between. The queue advances by the batches stored in order; on a failed write
   * the pump waits for the others, stops, and the rows not advanced are sent again on the next flush (ids
   * already stored are skipped).
   */
  async #pump(): Promise<void> {
    const n = this.#o.batchRows ?? 5000;
    const parallel = 4;
    let failed = false;
    while (!failed && (this.#pgSent < this.#queue.length || this.#slots.length)) {
      while (!failed && this.#slots.length < parallel && this.#pgSent < this.#queue.length) {
        const rows = this.#queue.slice(this.#pgSent, this.#pgSent + n);
        this.#pgSent += rows.length;
        const text = await this.#build(rows);
        const slot: Slot = { rows, ok: undefined, done: Promise.resolve() };
        slot.done = this.#insert(text, rows.length).then(
          () => {
            slot.ok = true;
            this.#advance();
          },
          (err) => {
            slot.ok = false;
            failed = true;
            this.pgErrors++;
            this.lastError = `PostgreSQL: ${(err as Error).message}`;
            this.#errorCounter?.inc({ sink: "postgres" });
          },
        );
        this.#slots.push(slot);
      }
      // Waits for a write in flight to end (a batch stored out of order stays in its slot until those before it end).
      const running = this.#slots.filter((s) => s.ok === undefined);
      if (running.length) await Promise.race(running.map((s) => s.done));
    }
    if (failed) {
      await Promise.all(this.#slots.map((s) => s.done));
      this.#slots = [];
      this.#pgSent = 0;
    }
  }

  /** Takes the stored batches at the head of the in-flight list off the queue. */
  #advance(): void {
    let stored = 0;
    while (this.#slots.length && this.#slots[0]!.ok === true) stored += this.#slots.shift()!.rows.length;
    if (stored === 0) return;
    const now = Date.now();
    const e2e = new Float64Array(stored);
    for (let i = 0; i < stored; i++) e2e[i] = now - this.#queue[i]!.r.ts;
    this.#queue.splice(0, stored);
    this.#pgSent -= stored;
    this.#storedTotal += stored;
    this.stored += stored;
    this.#counter?.inc({}, stored);
    this.#o.onStored?.(stored, e2e);
    if (this.#waiters.length) {
      this.#waiters = this.#waiters.filter((w) => w.target > this.#storedTotal || (w.resolve(), false));
    }
  }

  /**
   * One batch's text, built in slices of `BUILD_SLICE` rows with a yield to the event loop between them (a
   * 5,000-row batch built in one go held it for several milliseconds, which a request arriving then waited).
   * Rows of a batch mostly share model, version, timestamp and segment: each is formatted once per run of
   * equals. The text is "separated values": rows split by U+001E, fields by U+001F, which PostgreSQL splits with
   * `string_to_table`/`string_to_array` in about 60 % of the time `json_populate_recordset` takes to parse the
   * same rows as JSON (the features are JSON text either way, its strings escaped by `JSON.stringify`). A batch
   * whose id, model, version or segment holds one of the two separators is sent as JSON instead.
   */
  async #build(rows: Entry[]): Promise<{ text: string; json: boolean }> {
    const parts: string[] = [];
    let model = "", version = "", segment = "";
    let ts = NaN, tsIso = "";
    for (let start = 0; start < rows.length; start += BUILD_SLICE) {
      if (start) await yieldToLoop();
      let text = "";
      const end = Math.min(rows.length, start + BUILD_SLICE);
      for (let i = start; i < end; i++) {
        const e = rows[i]!, r = e.r;
        if (r.model !== model || r.version !== version || r.segment !== segment) {
          model = r.model, version = r.version, segment = r.segment;
          if (hasSeparator(model) || hasSeparator(version) || hasSeparator(segment)) {
            return this.#buildJson(rows);
          }
        }
        if (hasSeparator(r.id)) return this.#buildJson(rows);
        if (r.ts !== ts) tsIso = new Date(ts = r.ts).toISOString();
        if (!e.fj) e.fj = this.#featuresJson(r);
        text += `${
          i ? "\x1e" : ""
        }${r.id}\x1f${model}\x1f${version}\x1f${tsIso}\x1f${e.fj}\x1f${r.output}\x1f${r.latencyMs}\x1f${segment}`;
      }
      parts.push(text);
    }
    return { text: parts.join(""), json: false };
  }

  /** One batch's text as a JSON array (the rows whose strings hold a separator of the plain form). */
  async #buildJson(rows: Entry[]): Promise<{ text: string; json: boolean }> {
    const parts: string[] = [];
    let model = "", modelJson = "", version = "", versionJson = "", segment = "", segmentJson = '""';
    let ts = NaN, tsIso = "";
    for (let start = 0; start < rows.length; start += BUILD_SLICE) {
      if (start) await yieldToLoop();
      let text = "";
      const end = Math.min(rows.length, start + BUILD_SLICE);
      for (let i = start; i < end; i++) {
        const e = rows[i]!, r = e.r;
        if (r.model !== model) modelJson = JSON.stringify(model = r.model);
        if (r.version !== version) versionJson = JSON.stringify(version = r.version);
        if (r.segment !== segment) segmentJson = JSON.stringify(segment = r.segment);
        if (r.ts !== ts) tsIso = new Date(ts = r.ts).toISOString();
        if (!e.fj) e.fj = this.#featuresJson(r);
        text +=
          `${i ? "," : ""}{"id":${
            JSON.stringify(r.id)
          },"model":${modelJson},"version":${versionJson},"ts":"${tsIso}",` +
          `"features":${e.fj},"output":${num(r.output)},"latency_ms":${num(r.latencyMs)},"segment":${segmentJson}}`;
      }
      parts.push(text);
    }
    return { text: `[${parts.join("")}]`, json: true };
  }

  /**
   * One batch: one text parameter (separated values or JSON, see `#build`) expanded into
   * `insert … on conflict (id) do nothing` (a client reusing an id keeps the first row). One statement: a
   * failure leaves nothing behind and the batch is retried whole. No `COPY … FROM STDIN`: postgres.js 3.4.9's
   * COPY writable never settles when the server refuses the COPY after its end (its transaction then never
   * returns: porsager/postgres#1173).
   */
  async #insert(batch: { text: string; json: boolean }, rows: number): Promise<void> {
    const ms = this.#o.pgTimeoutMs ?? 10_000;
    await traced(
      `prediction log: insert ${rows} rows`,
      withTimeout(
        this.#o.sql.unsafe(batch.json ? INSERT_JSON : INSERT_SEPARATED, [batch.text]),
        ms,
        `the prediction log's PostgreSQL write of ${rows} rows`,
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
        if (i && i % BUILD_SLICE === 0) await yieldToLoop();
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
