/**
 * Stream features on Mercury's own streaming engine: a feature view whose
 * values are the stream plugin's event-time windows (`WindowAggregator`,
 * hopping windows, watermarks) over a Kafka topic — e.g. the count and sum of
 * a card's transactions over the last 10 minutes — written to the online store
 * as events arrive, and logged to the view's offline history for training
 * sets (Tecton's stream feature views).
 *
 * After each batch of events, every key the batch touched gets the value of
 * its open window that covers its latest event and started earliest: with
 * hopping windows of `size` sliding by `slide`, the events of the last `size`
 * (to the `slide` boundary) up to that event. That value is written to Redis
 * (event time = the key's latest event) and appended to the offline history,
 * so a point-in-time training set reads exactly what the online store held
 * at each time (train/serve consistency), and nothing from after it. History
 * is written as Parquet parts (temporary name + rename) under `historyDir`,
 * the directory the view's `fileSource` reads (`<historyDir>/*.parquet`,
 * columns: the join key, `event_timestamp`, `created` (the write time, for the
 * source's `createdTimestampField`), the features). Windows the
 * watermark closes are dropped from state, so memory is bounded by the open
 * windows.
 *
 * Each Kafka partition has its own windows and watermark (a partition behind
 * the others does not have its events dropped as late). The job checkpoints:
 * every `historyEveryMs` and at stop it writes the history part, then
 * `_checkpoint.json` beside the parts (the open windows, each partition's next
 * offset, the number of the last part; temp file and rename), then commits the
 * offsets to the consumer group. A restarted job — after a stop, a crash or a
 * `kill -9` — restores the windows, seeks to the checkpoint's offsets, skips
 * what the state already holds, and removes parts written after the
 * checkpoint (their events are read again): the counts continue as if it had
 * never stopped, and the history holds each value once.
 *
 * `@mercury/features/stream` (not `@mercury/features`) loads the stream
 * plugin and kafkajs.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core";
import { writeFileAtomic } from "@mercury/core/files";
import { kafkaClient } from "@mercury/core/services/kafka";
import type { EachBatchPayload } from "kafkajs";
import { quoteLiteral as lit } from "@mercury/core/sql";
import { type AggregatorSnapshot, hopping, WindowAggregator, type WindowResult } from "@mercury/stream";
import { loadRows } from "./_duck.ts";
import type { FeatureRepo, FeatureView } from "./definitions.ts";
import { parseInstant } from "./instant.ts";
import type { OnlineRow, OnlineStore } from "./online_store.ts";

/** One event: the entity key, its event time (epoch ms) and the value summed. */
export interface StreamEvent {
  key: string | number;
  ts: number;
  value: number;
}

/** Options of {@linkcode StreamFeatureView}. */
export interface StreamFeatureOptions {
  repo: FeatureRepo;
  /** The feature view (one join key; features: a count (int64) and a sum (float64), names below). */
  view: string;
  online: OnlineStore;
  /** DuckDB connection that writes the history parts. */
  connection: DuckDBConnection;
  /** Where history parts go: the directory of the view's file source. */
  historyDir: string;
  /** Window length (default 10 minutes) and slide (default 1 minute). */
  sizeMs?: number;
  slideMs?: number;
  /** Event-time disorder tolerated before a window closes (default 5 s). */
  maxOutOfOrdernessMs?: number;
  /** Feature names (default the view's int64 feature as the count, its float64 feature as the sum). */
  countFeature?: string;
  sumFeature?: string;
}

/** `_checkpoint.json` in the history directory: what a restarted job resumes from. */
export interface StreamCheckpoint {
  version: 1;
  view: string;
  /** The topic the offsets belong to (none for a view fed by `add()` alone). */
  topic: string | null;
  window: { sizeMs: number; slideMs: number; maxOutOfOrdernessMs: number };
  /** The number of the last history part written before this checkpoint (`part-s<seq>-…`). */
  seq: number;
  /** Per partition, the next offset to read. */
  offsets: Record<string, string>;
  /** Per partition, the open windows. */
  partitions: Record<string, AggregatorSnapshot>;
  keyMax: [string, number][];
  lastCreated: number;
  events: number;
  late: number;
  at: string;
}

/** The checkpoint file of a history directory. */
export const checkpointFile = (historyDir: string): string => `${historyDir}/_checkpoint.json`;

const PART = /^part-s(\d{12})-[0-9a-f]{8}\.parquet$/;

/** What one batch did. */
export interface StreamBatchReport {
  events: number;
  late: number;
  keys: number;
  written: number;
}

/**
 * The windows of one stream feature view.
 *
 * @example
 * ```ts ignore
 * const sfv = new StreamFeatureView({ repo, view: "card_tx_10m", online: fs.online, connection: fs.duck.connection,
 *   historyDir: `${dir}/stream_history` });
 * await sfv.add([{ key: 1, ts: Date.now(), value: 12.5 }]);
 * await sfv.flushHistory();
 * ```
 */
export class StreamFeatureView {
  readonly view: FeatureView;
  readonly joinKey: string;
  readonly countFeature: string;
  readonly sumFeature: string;
  #o: StreamFeatureOptions;
  #window: StreamCheckpoint["window"];
  /** Windows and watermark per source partition (0 for events given without one). */
  #aggs = new Map<number, WindowAggregator>();
  #history: Record<string, unknown>[] = [];
  /** The number of the last history part written. */
  #seq = 0;
  /** Each key's latest event time (a late-but-accepted event does not move a key's value back in time). */
  #keyMax = new Map<string, number>();
  #lastCreated = 0;
  /** Events taken, and events too late for any open window. */
  events = 0;
  late = 0;

  constructor(options: StreamFeatureOptions) {
    this.#o = options;
    const view = options.repo.views.find((v) => v.name === options.view);
    if (!view) throw new MercuryError("not_found", `no feature view "${options.view}"`, { where: "view" });
    if (view.entities.length !== 1) {
      throw new MercuryError("input", `stream feature view "${view.name}" needs exactly one entity`, {
        where: `feature view "${view.name}".entities`,
      });
    }
    this.view = view;
    this.joinKey = options.repo.entities.find((e) => e.name === view.entities[0])!.joinKey;
    const byType = (t: string) => view.features.find((f) => f.type === t)?.name;
    this.countFeature = options.countFeature ?? byType("int64") ?? "";
    this.sumFeature = options.sumFeature ?? byType("float64") ?? "";
    for (const f of [this.countFeature, this.sumFeature]) {
      if (!view.features.some((x) => x.name === f)) {
        throw new MercuryError(
          "input",
          `stream feature view "${view.name}" needs a count (int64) and a sum (float64)`,
          {
            where: `feature view "${view.name}".features`,
            hint: "declare e.g. tx_count_10m: int64 and amount_sum_10m: float64",
          },
        );
      }
    }
    this.#window = {
      sizeMs: options.sizeMs ?? 600_000,
      slideMs: options.slideMs ?? 60_000,
      maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 5_000,
    };
  }

  #aggregatorOptions() {
    return {
      window: hopping(this.#window.sizeMs, this.#window.slideMs),
      maxOutOfOrdernessMs: this.#window.maxOutOfOrdernessMs,
    };
  }

  /** The windows of a partition, made when first asked for. */
  #aggregator(partition: number): WindowAggregator {
    let agg = this.#aggs.get(partition);
    if (!agg) this.#aggs.set(partition, agg = new WindowAggregator(this.#aggregatorOptions()));
    return agg;
  }

  /** Open (key, window) pairs over all partitions. */
  get openWindows(): number {
    let n = 0;
    for (const agg of this.#aggs.values()) n += agg.size;
    return n;
  }

  /**
   * Takes a batch of events of one source partition (each partition has its own watermark): the windows, then the
   * touched keys' current values into Redis and the history.
   */
  async add(events: StreamEvent[], partition = 0): Promise<StreamBatchReport> {
    const aggregator = this.#aggregator(partition);
    const latest = new Map<string, number>();
    let late = 0;
    for (const e of events) {
      const key = String(e.key);
      if (aggregator.add({ key, ts: e.ts, value: e.value, distinct: key }) === "late") {
        late++;
        continue;
      }
      const t = Math.max(latest.get(key) ?? -Infinity, this.#keyMax.get(key) ?? -Infinity, e.ts);
      latest.set(key, t);
      this.#keyMax.set(key, t);
    }
    this.events += events.length;
    this.late += late;
    // For each touched key, the open window covering its latest event that started earliest: the last `size`.
    const best = new Map<string, WindowResult>();
    for (const w of aggregator.openWindows()) {
      const t = latest.get(w.key);
      if (t === undefined || w.start > t || w.end <= t) continue;
      const b = best.get(w.key);
      if (!b || w.start < b.start) best.set(w.key, w);
    }
    const rows: OnlineRow[] = [];
    // The write time breaks ties: a key's value can change without its latest event time moving (a late event
    // inside its window), and the online store keeps only strictly newer (event, created) pairs.
    const createdMs = Math.max(Date.now(), this.#lastCreated + 1);
    this.#lastCreated = createdMs;
    for (const [key, w] of best) {
      const eventMs = latest.get(key)!;
      const values = { [this.countFeature]: w.count, [this.sumFeature]: Math.round(w.sum * 1e6) / 1e6 };
      rows.push({ key, eventMs, createdMs, payload: JSON.stringify(values) });
      this.#history.push({ [this.joinKey]: key, event_timestamp: eventMs, created: createdMs, ...values });
    }
    const written = rows.length ? await this.#o.online.write(this.view.name, rows, this.view.ttlSeconds) : 0;
    aggregator.advance(); // closed windows leave the state
    return { events: events.length, late, keys: rows.length, written };
  }

  /** Rows waiting to be written to the history. */
  get pendingHistory(): number {
    return this.#history.length;
  }

  /** Writes the pending history rows as one Parquet part (temporary name, then renamed); returns its path. */
  async flushHistory(): Promise<string | undefined> {
    if (!this.#history.length) return undefined;
    const rows = this.#history;
    this.#history = [];
    await Deno.mkdir(this.#o.historyDir, { recursive: true });
    const seq = this.#seq + 1;
    const name = `part-s${String(seq).padStart(12, "0")}-${crypto.randomUUID().slice(0, 8)}.parquet`;
    const path = `${this.#o.historyDir}/${name}`;
    const tmp = `${this.#o.historyDir}/.${name}.tmp`;
    const keyType = this.#o.repo.entities.find((e) => e.joinKey === this.joinKey)!.valueType === "int64"
      ? "BIGINT"
      : "VARCHAR";
    try {
      await loadRows(this.#o.connection, "__stream_history", rows, {
        [this.joinKey]: keyType,
        event_timestamp: "BIGINT",
        created: "BIGINT",
        [this.countFeature]: "BIGINT",
        [this.sumFeature]: "DOUBLE",
      }, { event_timestamp: "epoch_ms(event_timestamp)", created: "epoch_ms(created)" });
      await this.#o.connection.run(`copy __stream_history to ${lit(tmp)} (format parquet)`);
      await Deno.rename(tmp, path);
      this.#seq = seq;
    } catch (err) {
      this.#history = rows.concat(this.#history);
      await Deno.remove(tmp).catch(() => {});
      throw err;
    } finally {
      await this.#o.connection.run("drop table if exists __stream_history").catch(() => {});
    }
    return path;
  }

  /**
   * Writes the pending history, then the checkpoint (`_checkpoint.json`, temp file and rename): the open windows of
   * every partition and, for a Kafka-fed view, each partition's next offset. Returns what was written.
   */
  async checkpoint(offsets: Record<string, string> = {}, topic: string | null = null): Promise<StreamCheckpoint> {
    await this.flushHistory();
    const ckpt: StreamCheckpoint = {
      version: 1,
      view: this.view.name,
      topic,
      window: this.#window,
      seq: this.#seq,
      offsets,
      partitions: Object.fromEntries([...this.#aggs].map(([p, agg]) => [String(p), agg.snapshot()])),
      keyMax: [...this.#keyMax],
      lastCreated: this.#lastCreated,
      events: this.events,
      late: this.late,
      at: new Date().toISOString(),
    };
    await writeFileAtomic(checkpointFile(this.#o.historyDir), JSON.stringify(ckpt) + "\n", {
      hint: "the history directory must be writable",
    });
    return ckpt;
  }

  /**
   * Restores the state of the history directory's checkpoint, if there is one: the windows, the keys' latest
   * times, the part number; history parts written after it, and temp files, are removed (their events will be read
   * again). Returns the checkpoint (null when there is none). A checkpoint of another view, topic or window shape
   * is refused: resuming from it would mix two streams' counts.
   */
  async restore(topic: string | null = null): Promise<StreamCheckpoint | null> {
    const dir = this.#o.historyDir;
    const file = checkpointFile(dir);
    const remove = "move it away to start with empty windows (the history and the online store keep their values)";
    let ckpt: StreamCheckpoint | null = null;
    const text = await Deno.readTextFile(file).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return null;
      throw new MercuryError("input", `cannot read ${file}: ${err.message}`, { where: file, hint: remove });
    });
    if (text !== null) {
      try {
        ckpt = JSON.parse(text) as StreamCheckpoint;
        if (ckpt.version !== 1 || typeof ckpt.seq !== "number" || typeof ckpt.partitions !== "object") {
          throw new Error("not a stream feature checkpoint (version 1)");
        }
      } catch (err) {
        throw new MercuryError("input", `${file} is not a valid checkpoint: ${(err as Error).message}`, {
          where: file,
          hint: remove,
        });
      }
      const w = this.#window, cw = ckpt.window ?? {};
      const differs = ckpt.view !== this.view.name
        ? `view "${ckpt.view}"`
        : (ckpt.topic ?? null) !== topic
        ? `topic "${ckpt.topic}"`
        : cw.sizeMs !== w.sizeMs || cw.slideMs !== w.slideMs || cw.maxOutOfOrdernessMs !== w.maxOutOfOrdernessMs
        ? `windows of ${cw.sizeMs} ms sliding by ${cw.slideMs} ms (disorder ${cw.maxOutOfOrdernessMs} ms)`
        : null;
      if (differs) {
        throw new MercuryError(
          "conflict",
          `${file} belongs to ${differs}, not to this job (view "${this.view.name}", topic "${topic}", windows of ${w.sizeMs} ms sliding by ${w.slideMs} ms)`,
          { where: file, hint: `give the job its own history directory, or ${remove}` },
        );
      }
      this.#aggs.clear();
      for (const [p, snap] of Object.entries(ckpt.partitions)) {
        this.#aggs.set(Number(p), WindowAggregator.restore(this.#aggregatorOptions(), snap));
      }
      this.#keyMax = new Map(ckpt.keyMax);
      this.#lastCreated = ckpt.lastCreated;
      this.events = ckpt.events;
      this.late = ckpt.late;
      this.#history = [];
    }
    // Parts after the checkpoint hold values of events that will be read again; temp files are a crash's leftovers.
    let last = 0;
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(dir)) entries.push(e);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    for (const e of entries) {
      const m = PART.exec(e.name);
      if (m && ckpt && Number(m[1]) > ckpt.seq) await Deno.remove(`${dir}/${e.name}`);
      else if (m) last = Math.max(last, Number(m[1]));
      else if (e.name.startsWith(".part-") && e.name.endsWith(".tmp")) await Deno.remove(`${dir}/${e.name}`);
    }
    this.#seq = ckpt ? ckpt.seq : last;
    return ckpt;
  }
}

/** Options of {@linkcode startStreamFeatures}. */
export interface StreamIngestionOptions extends StreamFeatureOptions {
  brokers: string[];
  topic: string;
  /** Field names of the JSON events (default: the view's join key, `amount`, `ts`). */
  keyField?: string;
  valueField?: string;
  timeField?: string;
  group?: string;
  fromBeginning?: boolean;
  /** Write history and a checkpoint at most this often (default 5 s), and at stop. */
  historyEveryMs?: number;
  /** Resume from the history directory's checkpoint and write new ones (default true). */
  checkpoint?: boolean;
  onBatch?: (r: StreamBatchReport) => void;
}

/** A running stream feature job. */
export interface StreamIngestion {
  readonly view: StreamFeatureView;
  readonly received: number;
  readonly rejected: number;
  /** Events skipped because the restored windows already held them (read again after a crash). */
  readonly skipped: number;
  /** The checkpoint the job resumed from (null: it began with empty windows). */
  readonly resumed: StreamCheckpoint | null;
  /** Stops consuming, then writes the remaining history and a checkpoint and commits the offsets. */
  stop(): Promise<void>;
}

/**
 * Consumes JSON events from a Kafka topic into a {@linkcode StreamFeatureView}; a message that is not JSON or lacks
 * its key, time or value is counted as rejected and skipped.
 */
export async function startStreamFeatures(options: StreamIngestionOptions): Promise<StreamIngestion> {
  const sfv = new StreamFeatureView(options);
  const checkpoints = options.checkpoint ?? true;
  const resumed = checkpoints ? await sfv.restore(options.topic) : null;
  const keyField = options.keyField ?? sfv.joinKey;
  const valueField = options.valueField ?? "amount";
  const timeField = options.timeField ?? "ts";
  const topic = options.topic;
  const kafka = kafkaClient(options.brokers, "mercury-features-stream");
  const consumer = kafka.consumer({
    groupId: options.group ?? `mercury-features-stream-${options.repo.project}-${sfv.view.name}`,
  });
  /** Per partition, the next offset whose event the state does not hold yet. */
  const next = new Map<number, bigint>(
    Object.entries(resumed?.offsets ?? {}).map(([p, o]) => [Number(p), BigInt(o)]),
  );
  const state = { received: 0, rejected: 0, skipped: 0, commitErrors: 0, lastCheckpoint: Date.now() };
  let stopping = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const everyMs = options.historyEveryMs ?? 5_000;
  let checkpointing: Promise<unknown> = Promise.resolve();
  /** History, then the checkpoint file, then the offsets committed to the group (for lag; the file is the truth). */
  const checkpoint = () =>
    checkpointing = checkpointing.catch(() => {}).then(async () => {
      if (!checkpoints) return void await sfv.flushHistory();
      const offsets = Object.fromEntries([...next].map(([p, o]) => [String(p), String(o)]));
      await sfv.checkpoint(offsets, topic);
      state.lastCheckpoint = Date.now();
      // The group's offsets only show the lag (the checkpoint file is what a restart reads): a failed commit is
      // counted, not fatal.
      if (next.size) {
        await consumer.commitOffsets([...next].map(([partition, o]) => ({ topic, partition, offset: String(o) })))
          .catch(() => void state.commitErrors++);
      }
    });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
  // The group's committed offsets may be behind the checkpoint (a crash after the file, before the commit) or ahead
  // of it (a run without checkpoints): seek to the checkpoint's on every assignment; batches fetched before the seek
  // are dropped by kafkajs, and events the state holds are skipped below.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    for (const partition of payload.memberAssignment[topic] ?? []) {
      const o = next.get(partition);
      if (o !== undefined) consumer.seek({ topic, partition, offset: String(o) });
    }
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: (payload) => {
      if (stopping) return Promise.resolve(); // offsets not resolved: read again by the next run
      const done = takeBatch(payload);
      inFlight = done.catch(() => {});
      return done;
    },
  });
  async function takeBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const events: StreamEvent[] = [];
    const from = next.get(batch.partition);
    let last: bigint | undefined;
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      last = offset;
      if (from !== undefined && offset < from) {
        state.skipped++;
        continue;
      }
      try {
        const msg = JSON.parse(m.value?.toString() ?? "") as Record<string, unknown>;
        const key = msg[keyField], value = Number(msg[valueField]), raw = msg[timeField];
        const ts = typeof raw === "number" ? raw : parseInstant(String(raw));
        if ((typeof key !== "string" && typeof key !== "number") || !Number.isFinite(value) || !Number.isFinite(ts)) {
          throw new Error("bad event");
        }
        events.push({ key, ts, value });
      } catch {
        state.rejected++;
      }
    }
    const r = await sfv.add(events, batch.partition);
    state.received += events.length;
    if (last !== undefined && (from === undefined || last + 1n > from)) next.set(batch.partition, last + 1n);
    for (const m of batch.messages) resolveOffset(m.offset);
    if (Date.now() - state.lastCheckpoint >= everyMs) await checkpoint();
    await heartbeat();
    options.onBatch?.(r);
  }
  return {
    view: sfv,
    resumed,
    get received() {
      return state.received;
    },
    get rejected() {
      return state.rejected;
    },
    get skipped() {
      return state.skipped;
    },
    async stop() {
      // Still a member of the group (commits need one): no new batch, the one being taken finishes, then the
      // last checkpoint and commit, then leave.
      stopping = true;
      consumer.pause([{ topic }]);
      await inFlight;
      try {
        await checkpoint();
      } finally {
        await consumer.disconnect();
      }
    },
  };
}
