/**
 * The live dashboard: a page served by Deno that refreshes every second with
 * throughput, per-partition lag, end-to-end latency percentiles over the last
 * seconds (scraped from the workers' `/metrics`) and the latest window
 * results. Charts are vega-lite rendered to SVG on the server, so the page
 * needs no network.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { Sql } from "@mercury/core/services/postgres";
import { chartSvg, escapeHtml, tableHtml } from "@mercury/core/display";
import { type LagReader, noTableYet } from "./lag.ts";

/** Where workers announce their metrics endpoint. */
export const workerKey = (pipeline: string, id: string) => `mercury:stream:worker:${pipeline}:${id}`;

/** Announces a worker's metrics URL in Redis every few seconds (expires when it dies). */
export function announceWorker(redis: Redis, pipeline: string, id: string, url: string): () => void {
  const put = () => void redis.set(workerKey(pipeline, id), url, "EX", 10).catch(() => {});
  put();
  const timer = setInterval(put, 3000);
  return () => {
    clearInterval(timer);
    void redis.del(workerKey(pipeline, id)).catch(() => {});
  };
}

/** Cumulative histogram buckets (le → count) summed over workers. */
export type Buckets = Map<number, number>;

/** Reads one histogram's buckets out of Prometheus text. */
export function parseHistogram(text: string, name: string, into: Buckets = new Map()): Buckets {
  const re = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)$`, "gm");
  for (const m of text.matchAll(re)) {
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    into.set(le, (into.get(le) ?? 0) + Number(m[2]));
  }
  return into;
}

/** A quantile from cumulative buckets, interpolated inside the bucket (as Prometheus' histogram_quantile). */
export function bucketQuantile(buckets: Buckets, q: number): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(1, count - prevCount));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

interface Sample {
  t: number;
  events: number;
  eventsPerSec: number;
  lag: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

/**
 * Latency buckets observed between two scrapes, summed over the workers of the
 * later one: per worker, its buckets now minus its buckets then (all of them
 * for a worker that is new, or whose counters went back: it restarted).
 * Prometheus' `histogram_quantile(rate(…[10s]))`, on the dashboard's own scrapes.
 *
 * @example
 * ```ts
 * import { bucketQuantile, recentBuckets } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const then = new Map([["w1", new Map([[0.1, 100], [1, 100], [Infinity, 100]])]]);
 * const now = new Map([["w1", new Map([[0.1, 100], [1, 150], [Infinity, 150]])]]);
 * // The first 100 were fast; the 50 since were all between 0.1 and 1 s.
 * assert.ok(bucketQuantile(recentBuckets(now, then), 0.5)! > 0.1);
 * ```
 */
export function recentBuckets(now: Map<string, Buckets>, then: Map<string, Buckets> | undefined): Buckets {
  const out: Buckets = new Map();
  for (const [worker, cur] of now) {
    const old = then?.get(worker);
    const restarted = old !== undefined && [...cur].some(([le, n]) => n < (old.get(le) ?? 0));
    for (const [le, n] of cur) out.set(le, (out.get(le) ?? 0) + n - (old && !restarted ? old.get(le) ?? 0 : 0));
  }
  return out;
}

/** Options of {@linkcode Dashboard}. */
export interface DashboardOptions {
  pipeline: string;
  topic: string;
  sql: Sql;
  redis: Redis;
  /** The backlog per partition (a {@linkcode LagReader}). */
  lag: Pick<LagReader, "read">;
  /** Samples kept for the charts (default 120 = two minutes). */
  history?: number;
  /** Latency percentiles are over this many last milliseconds (default 10 s). */
  latencyWindowMs?: number;
}

/** Samples the pipeline every second and renders the page. */
export class Dashboard {
  readonly samples: Sample[] = [];
  #lagByPartition: { partition: number; lag: number }[] = [];
  #latest: Record<string, unknown>[] = [];
  #workers = 0;
  /** The latency buckets of each worker at recent samples (for percentiles over the last seconds). */
  #scrapes: { t: number; byWorker: Map<string, Buckets> }[] = [];
  #timer?: ReturnType<typeof setInterval>;
  #sampling = false;

  constructor(readonly options: DashboardOptions) {}

  /** Takes one sample (also called every second once started). */
  async sample(): Promise<void> {
    const { sql, pipeline, topic } = this.options;
    const [row] = await sql`select coalesce(sum(events), 0)::bigint as events from stream_checkpoints
      where pipeline = ${pipeline} and topic = ${topic}`.catch(noTableYet([]));
    const events = Number(row?.events ?? 0);
    const lags = await this.options.lag.read();
    this.#lagByPartition = lags.map((l) => ({ partition: l.partition, lag: l.lag }));
    const byWorker = new Map<string, Buckets>();
    const keys = await this.options.redis.keys(`mercury:stream:worker:${pipeline}:*`);
    this.#workers = keys.length;
    for (const key of keys) {
      const url = await this.options.redis.get(key);
      if (!url) continue;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(500) });
        byWorker.set(key, parseHistogram(await res.text(), "mercury_stream_end_to_end_latency_seconds"));
      } catch { /* a worker going away */ }
    }
    this.#latest = [
      ...await sql`
      select key as "user", attrs->>'tier' as tier, to_char(window_start at time zone 'UTC', 'HH24:MI:SS') as "window",
             count::float8 as count, round(sum::numeric, 2)::float as sum, distinct_count::float8 as devices,
             round(p95::numeric, 2)::float as p95
      from stream_windows where pipeline = ${pipeline}
      order by window_end desc, count desc limit 8`.catch(noTableYet([])),
    ];
    const t = Date.now();
    // Percentiles of what the workers observed since the scrape closest to the window's start.
    const windowMs = this.options.latencyWindowMs ?? 10_000;
    this.#scrapes.push({ t, byWorker });
    while (this.#scrapes.length > 2 && this.#scrapes[1]!.t <= t - windowMs) this.#scrapes.shift();
    const then = this.#scrapes.length > 1 ? this.#scrapes[0]!.byWorker : undefined;
    const buckets = recentBuckets(byWorker, then);
    // Counts move at each worker's checkpoint, so the rate is taken over the last few seconds.
    const ref = this.samples.at(-3) ?? this.samples.at(0);
    this.samples.push({
      t,
      events,
      eventsPerSec: ref ? Math.max(0, (events - ref.events) / ((t - ref.t) / 1000)) : 0,
      lag: lags.reduce((s, l) => s + l.lag, 0),
      p50: bucketQuantile(buckets, 0.5),
      p95: bucketQuantile(buckets, 0.95),
      p99: bucketQuantile(buckets, 0.99),
    });
    while (this.samples.length > (this.options.history ?? 120)) this.samples.shift();
  }

  /**
   * Samples every second. A sample still under way (a slow or silent
   * upstream, up to the lag reader's request deadline) makes the next ticks
   * pass instead of piling up more reads behind it.
   */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#sampling) return;
      this.#sampling = true;
      this.sample().catch(() => {}).finally(() => this.#sampling = false);
    }, 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The charts and table as HTML fragments. */
  async panels(): Promise<Record<string, string>> {
    const s = this.samples.map((x) => ({ ...x, time: new Date(x.t).toISOString() }));
    const line = (title: string, field: string, unit: string) => ({
      title,
      width: 420,
      height: 160,
      data: { values: s },
      mark: { type: "line" as const },
      encoding: {
        x: { field: "time", type: "temporal" as const, title: null, axis: { format: "%H:%M:%S" } },
        y: { field, type: "quantitative" as const, title: unit, axis: { format: "~s" } },
      },
    });
    const lat = s.flatMap((x) =>
      (["p50", "p95", "p99"] as const).filter((q) => x[q] !== undefined).map((q) => ({
        time: x.time,
        q,
        seconds: x[q],
      }))
    );
    const last = this.samples.at(-1);
    return {
      stats:
        `<b>${escapeHtml(this.options.pipeline)}</b> · ${this.#workers} worker(s) · ${
          last?.events ?? 0
        } events counted · ` +
        `${Math.round(last?.eventsPerSec ?? 0)} events/s · lag ${last?.lag ?? 0}`,
      throughput: await chartSvg(line("Throughput", "eventsPerSec", "events / s")),
      lag: await chartSvg({
        title: "Lag per partition",
        width: 420,
        height: 160,
        data: { values: this.#lagByPartition },
        mark: "bar",
        encoding: {
          x: { field: "partition", type: "ordinal" },
          y: {
            field: "lag",
            type: "quantitative",
            title: "records behind",
            axis: { format: "~s" },
            scale: { domainMin: 0, domainMax: Math.max(10, ...this.#lagByPartition.map((l) => l.lag)) },
          },
        },
      }),
      latency: await chartSvg({
        title: `End-to-end latency (last ${Math.round((this.options.latencyWindowMs ?? 10_000) / 1000)} s)`,
        width: 420,
        height: 160,
        data: { values: lat },
        mark: "line",
        encoding: {
          x: { field: "time", type: "temporal", title: null, axis: { format: "%H:%M:%S" } },
          y: { field: "seconds", type: "quantitative", title: "seconds" },
          color: { field: "q", type: "nominal", title: null },
        },
      }),
      results: this.#latest.length
        ? tableHtml(this.#latest, { title: "Latest window results" })
        : "<p>No final windows yet.</p>",
    };
  }

  /** The HTTP handler: `/` the page, `/api/panels` its fragments, `/api/samples` raw JSON. */
  handler(): (req: Request) => Promise<Response> {
    return async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/api/panels") return Response.json(await this.panels());
      if (path === "/api/samples") return Response.json(this.samples);
      if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      return new Response("not found\n", { status: 404 });
    };
  }
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mercury stream</title>
<style>
body{font-family:ui-sans-serif,system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .3rem}#stats{color:#555;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:1rem}
.card{background:white;border:1px solid #e3e3e3;border-radius:8px;padding:.75rem;min-height:120px}
</style></head><body>
<h1>Mercury stream pipeline</h1><div id="stats">loading…</div>
<div class="grid">
<div class="card" id="throughput"></div><div class="card" id="latency"></div>
<div class="card" id="lag"></div><div class="card" id="results"></div>
</div>
<script>
async function refresh() {
  try {
    const p = await (await fetch("/api/panels")).json();
    for (const [id, html] of Object.entries(p)) { const el = document.getElementById(id); if (el) el.innerHTML = html; }
  } catch (e) { document.getElementById("stats").textContent = "dashboard unreachable: " + e; }
}
refresh(); setInterval(refresh, 1000);
</script></body></html>`;
