/**
 * Materialisation from the offline store into the online store: full or
 * incremental (from the registry's watermark), chunked so memory stays
 * bounded, resumable after a crash (progress is kept in the registry),
 * idempotent (the online store never lets an older event overwrite a newer
 * one). Each entity is keyed by `entityKey` (computed in DuckDB); a row with
 * a null join key names no entity and is skipped. Each run records quality
 * statistics and flags drift.
 *
 * Times are instants: the window compares UTC `TIMESTAMP`s of the offline
 * store, and Redis gets epoch milliseconds (`epoch_ms`, independent of the
 * session's time zone); a key expires at its event time + ttl, both in UTC
 * epoch milliseconds, so no `TZ` can shift an expiry.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { FeatureView } from "./definitions.ts";
import type { OfflineStore } from "./offline_store.ts";
import type { OnlineRow, OnlineStore } from "./online_store.ts";
import type { FeatureRegistry } from "./registry.ts";
import { compareStats, computeStats, DEFAULT_THRESHOLDS, type DriftThresholds } from "./quality.ts";
import { quoteIdent as ident, quoteLiteral as lit } from "@mercury/core/sql";
import { entityKeySql } from "./entity_key.ts";
import { instantLiteral, useUtc } from "./instant.ts";

/** Options of {@linkcode materialize}. */
export interface MaterializeOptions {
  /** Start from the last materialised time (default false: from `start` or the beginning). */
  incremental?: boolean;
  start?: Date;
  /** End of the window, exclusive (default now). */
  end?: Date;
  /** Rows per chunk (default 20,000). */
  chunkRows?: number;
  /** Recompute the view's offline Parquet first (default false: compute only if missing). */
  recompute?: boolean;
  thresholds?: DriftThresholds;
  /** Called after each chunk (progress; tests use it to simulate a crash). */
  onChunk?: (done: number, total: number) => void | Promise<void>;
  /** The clock, for expiry decisions (default Date.now). */
  now?: () => number;
  /**
   * Computes the latest row per entity somewhere else (default: DuckDB in-process). The Spark engine
   * (`materialize_spark.ts`) runs it as Spark SQL on the cluster; writing, expiry, progress and statistics stay here.
   */
  engine?: LatestEngine;
}

/** One entity's latest row in a window, as the online store gets it; `key` is null when a join key is null. */
export interface LatestRow {
  key: string | null;
  eventMs: number;
  createdMs: number;
  /** The features as a JSON object (timestamps as epoch milliseconds, nulls kept). */
  payload: string;
}

/** What an engine is asked: one view's rows in `[start, end)` of its offline Parquet folder `dir`. */
export interface LatestQuery {
  view: FeatureView;
  /** Join key columns, in entity order. */
  keys: string[];
  /** The view's date-partitioned offline Parquet folder. */
  dir: string;
  start: Date;
  end: Date;
  /** Latest rows to skip (a resumed run), in the order of their entity key text (nulls last). */
  offset: number;
}

/** Computes the latest row per entity of a window: rows and entities in it, and the rows ordered by entity key. */
export interface LatestEngine {
  readonly name: string;
  latest(
    q: LatestQuery,
  ): Promise<{ rows: number; keys: number; values: AsyncIterable<LatestRow> | Iterable<LatestRow> }>;
}

/** What one run did. */
export interface MaterializeReport {
  view: string;
  runId: number;
  start: Date;
  end: Date;
  /** Source rows in the window. */
  rows: number;
  /** Entity keys in the window (the latest row of each is written). */
  keys: number;
  /** Keys whose stored value was older and got replaced. */
  written: number;
  /** Keys skipped because their value is already past the ttl. */
  expired: number;
  /** Keys resumed past (done by a crashed run). */
  resumedFrom: number;
  seconds: number;
  /** Features whose statistics were computed and compared (0 for an empty window). */
  featuresChecked: number;
  drift: { feature: string; reason: string }[];
}

/** The JSON value of a feature column in the online payload. */
function jsonExpr(type: string, col: string): string {
  return type === "timestamp" ? `epoch_ms(${col})` : col;
}

/**
 * Materialises one view for a window.
 *
 * @example
 * ```ts ignore
 * const report = await materialize(registry, offline, online, "card_stats", { incremental: true });
 * ```
 */
export async function materialize(
  registry: FeatureRegistry,
  offline: OfflineStore,
  online: OnlineStore,
  viewName: string,
  options: MaterializeOptions = {},
): Promise<MaterializeReport> {
  const t0 = performance.now();
  const view: FeatureView = offline.view(viewName);
  if (view.online === false) {
    throw new MercuryError("input", `feature view "${viewName}" is offline only (online: false)`, {
      where: `feature view "${viewName}".online`,
    });
  }
  const now = options.now ?? Date.now;
  const end = options.end ?? new Date(now());
  const watermark = options.incremental ? await registry.watermark(viewName) : undefined;
  const start = watermark ?? options.start ?? new Date(0);
  if (start >= end) {
    return {
      view: viewName,
      runId: 0,
      start,
      end,
      rows: 0,
      keys: 0,
      written: 0,
      expired: 0,
      resumedFrom: 0,
      seconds: 0,
      featuresChecked: 0,
      drift: [],
    };
  }
  if (options.recompute) await offline.compute(viewName);
  const rel = await offline.relation(viewName);
  const run = await registry.startRun(viewName, start, end);
  const c = offline.connection;
  await useUtc(c);
  const keys = offline.joinKeys(view);
  const window = `event_timestamp >= ${instantLiteral(start)} and event_timestamp < ${instantLiteral(run.end)}`;
  const chunkRows = options.chunkRows ?? 20_000;
  let done = run.rowsDone;
  const resumedFrom = done;
  let written = 0;
  let expired = 0;
  try {
    // A view, not a table: each pass streams the Parquet, so memory stays bounded by the chunk size.
    await c.run(`create or replace temp view __mat as select * from ${rel} where ${window}`);
    const { rows: rowsN, keys: keysN, values } = options.engine
      ? await options.engine.latest({ view, keys, dir: offline.dir(viewName), start, end: run.end, offset: done })
      : await duckdbLatest(c, view, keys, done);
    const ttlMs = view.ttlSeconds * 1000;
    let batch: OnlineRow[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      written += await online.write(viewName, batch, view.ttlSeconds);
      done += batch.length;
      batch = [];
      await registry.progress(run.id, done, keysN, written);
      await options.onChunk?.(done, keysN);
    };
    for await (const row of values) {
      if (row.key === null) {
        // A null join key names no entity a request can ask for (String(null) would be the string key "null").
        done++;
        continue;
      }
      if (ttlMs > 0 && row.eventMs + ttlMs <= now()) {
        // Already past its ttl: it would be served as OUTSIDE_MAX_AGE and expire at once.
        expired++;
        done++;
        continue;
      }
      batch.push(row as OnlineRow);
      if (batch.length >= chunkRows) await flush();
    }
    await flush();
    await registry.progress(run.id, done, keysN, written);
    // Quality: statistics of every row in the window, compared with the previous run (an empty window has none).
    const drift: { feature: string; reason: string }[] = [];
    let featuresChecked = 0;
    if (rowsN > 0) {
      const stats = await computeStats(c, view, "__mat");
      const previous = new Map((await registry.stats(viewName, run.id)).map((s) => [s.feature, s.stats]));
      const rows = [...stats].map(([feature, s]) => {
        const reason = compareStats(s, previous.get(feature), options.thresholds ?? DEFAULT_THRESHOLDS);
        if (reason) drift.push({ feature, reason });
        return { feature, stats: s, drift: reason !== null, driftReason: reason };
      });
      await registry.saveStats(run.id, viewName, rows);
      featuresChecked = rows.length;
    }
    await registry.finishRun(run.id);
    await c.run(`drop view if exists __mat`);
    return {
      view: viewName,
      runId: run.id,
      start,
      end: run.end,
      rows: rowsN,
      keys: keysN,
      written,
      expired,
      resumedFrom,
      seconds: (performance.now() - t0) / 1000,
      featuresChecked,
      drift,
    };
  } catch (err) {
    await registry.finishRun(run.id, (err as Error).message).catch(() => {});
    throw err;
  }
}

/** The default engine: the latest row per entity of `__mat` (the window's view) in DuckDB, streamed in chunks. */
async function duckdbLatest(
  c: OfflineStore["connection"],
  view: FeatureView,
  keys: string[],
  offset: number,
): Promise<{ rows: number; keys: number; values: AsyncIterable<LatestRow> | Iterable<LatestRow> }> {
  const countR = await c.runAndReadAll(`select count(*), count(distinct (${keys.map(ident).join(", ")})) from __mat`);
  const [rows, keysN] = countR.getRows()[0]!.map(Number) as [number, number];
  const keyExpr = entityKeySql(keys.map(ident));
  const sql = `select ${keyExpr} as __key, epoch_ms(event_timestamp) as __ts,
      coalesce(epoch_ms(created_timestamp), 0) as __cr,
      json_object(${view.features.map((f) => `${lit(f.name)}, ${jsonExpr(f.type, ident(f.name))}`).join(", ")})::VARCHAR
        as __v
    from __mat qualify row_number() over (partition by ${keys.map(ident).join(", ")}
      order by event_timestamp desc, created_timestamp desc nulls last) = 1
    order by __key offset ${offset}`;
  const result = await c.stream(sql);
  const values = async function* (): AsyncGenerator<LatestRow> {
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      const cols = chunk.getColumns();
      for (let i = 0; i < chunk.rowCount; i++) {
        const key = cols[0]![i];
        yield {
          key: key === null ? null : String(key),
          eventMs: Number(cols[1]![i]),
          createdMs: Number(cols[2]![i]),
          payload: String(cols[3]![i]),
        };
      }
    }
  };
  return { rows, keys: keysN, values: values() };
}
