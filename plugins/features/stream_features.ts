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
 * `@mercury/features/stream` (not `@mercury/features`) loads the stream
 * plugin and kafkajs.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core";
import { kafkaClient } from "@mercury/core/services/kafka";
import { quoteLiteral as lit } from "@mercury/core/sql";
import { hopping, WindowAggregator, type WindowResult } from "@mercury/stream";
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
  readonly aggregator: WindowAggregator;
  readonly countFeature: string;
  readonly sumFeature: string;
  #o: StreamFeatureOptions;
  #history: Record<string, unknown>[] = [];
  #parts = 0;
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
    this.aggregator = new WindowAggregator({
      window: hopping(options.sizeMs ?? 600_000, options.slideMs ?? 60_000),
      maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 5_000,
    });
  }

  /** Takes a batch of events: the windows, then the touched keys' current values into Redis and the history. */
  async add(events: StreamEvent[]): Promise<StreamBatchReport> {
    const latest = new Map<string, number>();
    let late = 0;
    for (const e of events) {
      const key = String(e.key);
      if (this.aggregator.add({ key, ts: e.ts, value: e.value, distinct: key }) === "late") {
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
    for (const w of this.aggregator.openWindows()) {
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
    this.aggregator.advance(); // closed windows leave the state
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
    const name = `part-${Date.now()}-${(this.#parts++).toString().padStart(6, "0")}-${
      crypto.randomUUID().slice(0, 8)
    }.parquet`;
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
    } catch (err) {
      this.#history = rows.concat(this.#history);
      await Deno.remove(tmp).catch(() => {});
      throw err;
    } finally {
      await this.#o.connection.run("drop table if exists __stream_history").catch(() => {});
    }
    return path;
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
  /** Write history at most this often (default 5 s) and at stop. */
  historyEveryMs?: number;
  onBatch?: (r: StreamBatchReport) => void;
}

/** A running stream feature job. */
export interface StreamIngestion {
  readonly view: StreamFeatureView;
  readonly received: number;
  readonly rejected: number;
  /** Stops consuming and writes the remaining history. */
  stop(): Promise<void>;
}

/**
 * Consumes JSON events from a Kafka topic into a {@linkcode StreamFeatureView}; a message that is not JSON or lacks
 * its key, time or value is counted as rejected and skipped.
 */
export async function startStreamFeatures(options: StreamIngestionOptions): Promise<StreamIngestion> {
  const sfv = new StreamFeatureView(options);
  const keyField = options.keyField ?? sfv.joinKey;
  const valueField = options.valueField ?? "amount";
  const timeField = options.timeField ?? "ts";
  const kafka = kafkaClient(options.brokers, "mercury-features-stream");
  const consumer = kafka.consumer({
    groupId: options.group ?? `mercury-features-stream-${options.repo.project}-${sfv.view.name}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? true });
  const state = { received: 0, rejected: 0, lastHistory: Date.now() };
  const everyMs = options.historyEveryMs ?? 5_000;
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const events: StreamEvent[] = [];
      for (const m of batch.messages) {
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
      const r = await sfv.add(events);
      state.received += events.length;
      if (Date.now() - state.lastHistory >= everyMs) {
        await sfv.flushHistory();
        state.lastHistory = Date.now();
      }
      for (const m of batch.messages) resolveOffset(m.offset);
      await heartbeat();
      options.onBatch?.(r);
    },
  });
  return {
    view: sfv,
    get received() {
      return state.received;
    },
    get rejected() {
      return state.rejected;
    },
    async stop() {
      await consumer.disconnect();
      await sfv.flushHistory();
    },
  };
}
