/**
 * Keyed event-time window aggregation with watermarks: the heart of the
 * topology. One aggregator holds the open windows of one Kafka partition; its
 * state snapshots to JSON so a checkpoint can store it in the same database
 * transaction as the partition's offset.
 *
 * Watermark = highest event time seen − `maxOutOfOrdernessMs`. A window is
 * final once watermark ≥ window end + `allowedLatenessMs`; it is then emitted
 * once and dropped from state. An event whose window is already final is late.
 *
 * @module
 */
import { type HllJson, HyperLogLog } from "./hll.ts";
import { compactFromDDSketchBase64, type CompactSketch, newQuantileSketch, QuantileSketch } from "./quantile.ts";
import { tumblingStart, type WindowSpec, windowStarts } from "./window.ts";

/** The aggregates kept per key and window. */
interface Acc {
  count: number;
  sum: number;
  min: number;
  max: number;
  distinct: HyperLogLog;
  quantiles: QuantileSketch;
  /** Enrichment attributes of the window's first event (e.g. the user's tier). */
  attrs?: Record<string, string>;
  /** Where it lives, for incremental checkpoints. */
  key: string;
  start: number;
  end: number;
  /** Changed since the last delta(). */
  dirty: boolean;
  /** Emitted or merged away: no longer state. */
  dead: boolean;
  /** Written by a previous delta() (or restored), so removing it needs a delete. */
  persisted: boolean;
}

/** What changed in the open windows since the last {@linkcode WindowAggregator.delta}. */
export interface AggregatorDelta {
  maxTs: number | null;
  /** Windows to write (new or changed): [key, start, end, acc]. */
  upserts: [string, number, number, AccJson][];
  /** Windows no longer open (emitted, or merged into another session): [key, start, end]. */
  removed: [string, number, number][];
}

/** A final window result. */
export interface WindowResult {
  key: string;
  start: number;
  end: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  distinct: number;
  p50: number;
  p95: number;
  p99: number;
  attrs?: Record<string, string>;
}

/** Options of {@linkcode WindowAggregator}. */
export interface AggregatorOptions {
  window: WindowSpec;
  /** Bound on event-time disorder (default 5 s). */
  maxOutOfOrdernessMs?: number;
  /** Extra time a window stays open after the watermark passes its end (default 0). */
  allowedLatenessMs?: number;
}

/** What the aggregator takes per event. */
export interface Observation {
  key: string;
  ts: number;
  value: number;
  /** The value counted distinctly (e.g. device id). */
  distinct: string;
  /** Enrichment attributes carried to the result. */
  attrs?: Record<string, string>;
}

/** A window's aggregates as stored in a checkpoint. */
export interface AccJson {
  c: number;
  s: number;
  mn: number;
  mx: number;
  d: HllJson;
  /** Percentile sketch, compact form. */
  k?: CompactSketch;
  /** Percentile sketch as base64 protobuf (checkpoints written before the compact form). */
  q?: string;
  a?: Record<string, string>;
}

/** The JSON snapshot of an aggregator. */
export interface AggregatorSnapshot {
  maxTs: number | null;
  /** [key, start, end, acc] per open window. */
  open: [string, number, number, AccJson][];
}

const newAcc = (key: string, start: number, end: number): Acc => ({
  key,
  start,
  end,
  dirty: false,
  dead: false,
  persisted: false,
  count: 0,
  sum: 0,
  min: Infinity,
  max: -Infinity,
  distinct: new HyperLogLog(10),
  quantiles: newQuantileSketch(),
});

/**
 * @example Tumbling one-minute windows, two seconds of disorder
 * ```ts
 * import { tumbling, WindowAggregator } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const agg = new WindowAggregator({ window: tumbling(60_000), maxOutOfOrdernessMs: 2_000 });
 * agg.add({ key: "u1", ts: 1_000, value: 5, distinct: "d1" });
 * agg.add({ key: "u1", ts: 30_000, value: 7, distinct: "d2" });
 * assert.deepEqual(agg.advance(), []); // watermark 28 s: window [0, 60 s) still open
 * agg.add({ key: "u2", ts: 62_500, value: 1, distinct: "d3" });
 * const [w] = agg.advance(); // watermark 60.5 s closes it
 * assert.deepEqual([w!.key, w!.count, w!.sum, w!.distinct], ["u1", 2, 12, 2]);
 * assert.equal(agg.add({ key: "u1", ts: 59_000, value: 1, distinct: "d1" }), "late");
 * ```
 */
export class WindowAggregator {
  readonly spec: WindowSpec;
  readonly maxOutOfOrdernessMs: number;
  readonly allowedLatenessMs: number;
  #maxTs = -Infinity;
  /** Fixed windows: end → key → acc (a fixed window's start is its end − size). */
  #fixed = new Map<number, Map<string, Acc>>();
  /** The window {@linkcode WindowAggregator.#addFixed} used last (dropped when windows close). */
  #lastEnd = NaN;
  #lastByKey: Map<string, Acc> | undefined;
  /** Sessions: key → sessions sorted by start. */
  #sessions = new Map<string, { start: number; end: number; acc: Acc }[]>();
  #dirty: Acc[] = [];
  #removed: [string, number, number][] = [];

  constructor(options: AggregatorOptions) {
    this.spec = options.window;
    this.maxOutOfOrdernessMs = options.maxOutOfOrdernessMs ?? 5_000;
    this.allowedLatenessMs = options.allowedLatenessMs ?? 0;
  }

  /** Current watermark (−∞ before the first event). */
  get watermark(): number {
    return this.#maxTs - this.maxOutOfOrdernessMs;
  }

  /** Highest event time seen. */
  get maxTs(): number {
    return this.#maxTs;
  }

  /** Adds one observation; `"late"` when every window it belongs to is already final. */
  add(o: Observation): "ok" | "late" {
    const closedBefore = this.watermark - this.allowedLatenessMs;
    if (this.spec.kind === "session") {
      if (o.ts + this.spec.gap <= closedBefore) return "late";
      this.#addSession(o, this.spec.gap, closedBefore);
    } else if (this.spec.kind === "tumbling") {
      // One window: no list of starts per event.
      const start = tumblingStart(o.ts, this.spec.size);
      if (start + this.spec.size <= closedBefore) return "late";
      this.#addFixed(o, start, start + this.spec.size);
    } else {
      let accepted = false;
      for (const start of windowStarts(o.ts, this.spec)) {
        const end = start + this.spec.size;
        if (end <= closedBefore) continue;
        accepted = true;
        this.#addFixed(o, start, end);
      }
      if (!accepted) return "late";
    }
    if (o.ts > this.#maxTs) this.#maxTs = o.ts;
    return "ok";
  }

  #addFixed(o: Observation, start: number, end: number): void {
    // Consecutive events mostly fall in the same window: one map lookup instead of two.
    let byKey = end === this.#lastEnd ? this.#lastByKey : this.#fixed.get(end);
    if (!byKey) this.#fixed.set(end, byKey = new Map());
    this.#lastEnd = end;
    this.#lastByKey = byKey;
    let acc = byKey.get(o.key);
    if (!acc) byKey.set(o.key, acc = newAcc(o.key, start, end));
    accumulate(acc, o);
    this.#touch(acc);
  }

  #addSession(o: Observation, gap: number, closedBefore: number): void {
    // A session the watermark has made final is never reopened, whether advance() has emitted it
    // yet or not: so the state after a sequence of add()s does not depend on when advance() ran,
    // and replaying a logged sequence rebuilds exactly the state a worker had.
    const all = this.#sessions.get(o.key) ?? [];
    const final = all.filter((x) => x.end <= closedBefore);
    const list = final.length ? all.filter((x) => x.end > closedBefore) : all;
    let start = o.ts;
    let end = o.ts + gap;
    const overlapping = list.filter((x) => x.start <= end && start <= x.end);
    // Overlaps can chain (a new event bridging two sessions): widen until stable.
    for (let changed = true; changed;) {
      changed = false;
      for (const x of list) {
        if (!overlapping.includes(x) && x.start <= end && start <= x.end) {
          overlapping.push(x);
          changed = true;
        }
      }
      for (const x of overlapping) {
        if (x.start < start || x.end > end) {
          start = Math.min(start, x.start);
          end = Math.max(end, x.end);
          changed = true;
        }
      }
    }
    const keep = list.filter((x) => !overlapping.includes(x));
    const target = overlapping[0]?.acc ?? newAcc(o.key, start, end);
    for (const x of overlapping) {
      if (x.acc.persisted) this.#removed.push([o.key, x.start, x.end]);
      if (x.acc !== target) {
        mergeAcc(target, x.acc);
        x.acc.dead = true;
      }
    }
    accumulate(target, o);
    target.start = start;
    target.end = end;
    this.#touch(target);
    keep.push({ start, end, acc: target }, ...final);
    keep.sort((a, b) => a.start - b.start);
    this.#sessions.set(o.key, keep);
  }

  #touch(acc: Acc): void {
    if (!acc.dirty) {
      acc.dirty = true;
      this.#dirty.push(acc);
    }
  }

  /**
   * The changes since the last call: windows to write and windows to delete.
   * With it, a checkpoint stores only what moved instead of the whole state.
   */
  delta(): AggregatorDelta {
    const upserts: AggregatorDelta["upserts"] = [];
    const written = new Set<string>();
    for (const acc of this.#dirty) {
      acc.dirty = false;
      if (acc.dead) continue;
      upserts.push([acc.key, acc.start, acc.end, accJson(acc)]);
      acc.persisted = true;
      written.add(`${acc.key}\u0000${acc.start}\u0000${acc.end}`);
    }
    const removed = this.#removed.filter(([k, st, en]) => !written.has(`${k}\u0000${st}\u0000${en}`));
    this.#dirty = [];
    this.#removed = [];
    return { maxTs: Number.isFinite(this.#maxTs) ? this.#maxTs : null, upserts, removed };
  }

  /** Emits and forgets every window that the watermark has made final, ordered by end. */
  advance(): WindowResult[] {
    const closeAt = this.watermark - this.allowedLatenessMs;
    const out: WindowResult[] = [];
    if (this.spec.kind === "session") {
      for (const [key, list] of this.#sessions) {
        const open = list.filter((x) => {
          if (x.end <= closeAt) {
            out.push(result(key, x.start, x.end, x.acc));
            x.acc.dead = true;
            if (x.acc.persisted) this.#removed.push([key, x.start, x.end]);
            return false;
          }
          return true;
        });
        if (open.length) this.#sessions.set(key, open);
        else this.#sessions.delete(key);
      }
      return out.sort((a, b) => a.end - b.end || a.key.localeCompare(b.key));
    }
    const ends = [...this.#fixed.keys()].filter((end) => end <= closeAt).sort((a, b) => a - b);
    for (const end of ends) {
      for (const [key, acc] of this.#fixed.get(end)!) {
        out.push(result(key, acc.start, end, acc));
        acc.dead = true;
        if (acc.persisted) this.#removed.push([key, acc.start, end]);
      }
      this.#fixed.delete(end);
      if (end === this.#lastEnd) this.#lastEnd = NaN, this.#lastByKey = undefined;
    }
    return out;
  }

  /** The windows still open, as results so far (for dashboards and verification). */
  openWindows(): WindowResult[] {
    const out: WindowResult[] = [];
    for (const [end, byKey] of this.#fixed) {
      for (const [key, acc] of byKey) out.push(result(key, acc.start, end, acc));
    }
    for (const [key, list] of this.#sessions) for (const x of list) out.push(result(key, x.start, x.end, x.acc));
    return out;
  }

  /** Number of open (key, window) pairs. */
  get size(): number {
    let n = 0;
    for (const byKey of this.#fixed.values()) n += byKey.size;
    for (const list of this.#sessions.values()) n += list.length;
    return n;
  }

  /** JSON state for a checkpoint. */
  snapshot(): AggregatorSnapshot {
    const open: AggregatorSnapshot["open"] = [];
    for (const [end, byKey] of this.#fixed) {
      for (const [key, acc] of byKey) {
        open.push([key, acc.start, end, accJson(acc)]);
      }
    }
    for (const [key, list] of this.#sessions) for (const x of list) open.push([key, x.start, x.end, accJson(x.acc)]);
    return { maxTs: Number.isFinite(this.#maxTs) ? this.#maxTs : null, open };
  }

  /** Rebuilds an aggregator from a snapshot taken with the same options. */
  static restore(options: AggregatorOptions, snap: AggregatorSnapshot | null | undefined): WindowAggregator {
    const agg = new WindowAggregator(options);
    if (!snap) return agg;
    agg.#maxTs = snap.maxTs ?? -Infinity;
    for (const [key, start, end, j] of snap.open) {
      const acc: Acc = {
        key,
        start,
        end,
        dirty: false,
        dead: false,
        persisted: true,
        count: j.c,
        sum: j.s,
        min: j.mn,
        max: j.mx,
        distinct: HyperLogLog.fromJSON(j.d),
        quantiles: j.k
          ? QuantileSketch.fromCompact(j.k)
          : j.q
          ? QuantileSketch.fromCompact(compactFromDDSketchBase64(j.q))
          : newQuantileSketch(),
      };
      if (j.a) acc.attrs = j.a;
      if (agg.spec.kind === "session") {
        const list = agg.#sessions.get(key) ?? [];
        list.push({ start, end, acc });
        agg.#sessions.set(key, list);
      } else {
        let byKey = agg.#fixed.get(end);
        if (!byKey) agg.#fixed.set(end, byKey = new Map());
        byKey.set(key, acc);
      }
    }
    return agg;
  }
}

function accumulate(acc: Acc, o: Observation): void {
  if (acc.count === 0 && o.attrs) acc.attrs = o.attrs;
  acc.count++;
  acc.sum += o.value;
  if (o.value < acc.min) acc.min = o.value;
  if (o.value > acc.max) acc.max = o.value;
  acc.distinct.add(o.distinct);
  if (o.value > 0) acc.quantiles.accept(o.value);
}

function mergeAcc(a: Acc, b: Acc): Acc {
  a.count += b.count;
  a.sum += b.sum;
  a.min = Math.min(a.min, b.min);
  a.max = Math.max(a.max, b.max);
  a.distinct.merge(b.distinct);
  a.quantiles.merge(b.quantiles);
  a.attrs ??= b.attrs;
  return a;
}

function accJson(acc: Acc): AccJson {
  return {
    c: acc.count,
    s: acc.sum,
    mn: acc.min,
    mx: acc.max,
    d: acc.distinct.toJSON(),
    k: acc.quantiles.toCompact(),
  };
}

const QUANTILES = [0.5, 0.95, 0.99] as const;

function result(key: string, start: number, end: number, acc: Acc): WindowResult {
  // Percentiles carry the sketch's 2% relative error; 6 significant digits keep them
  // identical across a checkpoint round trip (the protobuf form shifts the last bits).
  const [p50, p95, p99] = acc.quantiles.count > 0
    ? acc.quantiles.getValuesAtQuantiles(QUANTILES).map((v) => Number(v.toPrecision(6)))
    : [0, 0, 0];
  return {
    key,
    start,
    end,
    count: acc.count,
    sum: Math.round(acc.sum * 1e6) / 1e6,
    min: acc.min,
    max: acc.max,
    mean: acc.sum / acc.count,
    distinct: acc.distinct.count(),
    p50: p50!,
    p95: p95!,
    p99: p99!,
    ...(acc.attrs ? { attrs: acc.attrs } : {}),
  };
}
