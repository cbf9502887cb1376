/**
 * Percentiles for window aggregates: {@linkcode QuantileSketch}, a DDSketch
 * (2% relative error) with a sparse store for the many small windows. It
 * serialises to compact JSON so window state can be checkpointed.
 *
 * @module
 */
import {
  compactFromDDSketchBase64,
  type CompactSketch,
  DDSKETCH_MAPPING,
  ddsketchKey,
  MIN_POSITIVE,
  QUANTILE_ACCURACY,
} from "./_ddsketch.ts";

export { compactFromDDSketchBase64, type CompactSketch, QUANTILE_ACCURACY };

/** A percentile sketch keeps up to this many bins in a list, then switches to a dense array. */
const SPARSE_BINS = 16;

/**
 * A DDSketch for non-negative values with a sparse store: the same bins
 * (`@datadog/sketches-js`'s logarithmic mapping, 2% relative accuracy), the
 * same quantile rule and the same compact encoding as `DDSketch`, so results
 * are identical — but a window with a handful of values costs two tiny arrays
 * instead of a sketch object with its own mapping and dense stores.
 *
 * @example Same answers as DDSketch
 * ```ts
 * import { DDSketch, QuantileSketch, QUANTILE_ACCURACY } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const ours = new QuantileSketch();
 * const theirs = new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
 * for (let i = 1; i <= 1000; i++) {
 *   ours.accept(i * 1.5);
 *   theirs.accept(i * 1.5);
 * }
 * const qs = [0, 0.5, 0.95, 0.99, 1];
 * for (const q of qs) assert.equal(ours.getValueAtQuantile(q), theirs.getValueAtQuantile(q));
 * assert.deepEqual(ours.getValuesAtQuantiles(qs), qs.map((q) => theirs.getValueAtQuantile(q)));
 * assert.deepEqual(QuantileSketch.fromCompact(ours.toCompact()).getValueAtQuantile(0.5), ours.getValueAtQuantile(0.5));
 * ```
 */
export class QuantileSketch {
  /** Sparse bins: keys in the order first seen (a window with few values stays this small). */
  #keys: number[] = [];
  /** Count per sparse bin, parallel to the keys. */
  #counts: number[] = [];
  /** Dense bins once there are more than {@linkcode SPARSE_BINS}: the count of key `offset + i` at `i`. */
  #bins: number[] | null = null;
  #offset = 0;
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Adds a value (values at or below zero count as zero). */
  accept(value: number, weight = 1): void {
    if (value > MIN_POSITIVE) this.#addKey(ddsketchKey(value), weight);
    else this.zeroCount += weight;
    this.count += weight;
    this.sum += value * weight;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  #addKey(key: number, weight: number): void {
    const bins = this.#bins;
    if (bins) {
      const i = key - this.#offset;
      if (i >= 0 && i < bins.length) bins[i]! += weight;
      else this.#extend(key, weight);
      return;
    }
    const keys = this.#keys;
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] === key) {
        this.#counts[j]! += weight;
        return;
      }
    }
    keys.push(key);
    this.#counts.push(weight);
    if (keys.length > SPARSE_BINS) this.#densify();
  }

  /** Moves the sparse bins into a dense array (a lookup by index instead of a search). */
  #densify(): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (const k of this.#keys) {
      if (k < lo) lo = k;
      if (k > hi) hi = k;
    }
    const bins = new Array<number>(hi - lo + 1).fill(0);
    this.#keys.forEach((k, j) => (bins[k - lo] = this.#counts[j]!));
    this.#bins = bins;
    this.#offset = lo;
    this.#keys = [];
    this.#counts = [];
  }

  /** Grows the dense range to hold `key`, with room for a few more keys on that side. */
  #extend(key: number, weight: number): void {
    const bins = this.#bins!;
    if (key < this.#offset) {
      const add = this.#offset - key + 8;
      this.#bins = new Array<number>(add).fill(0).concat(bins);
      this.#offset -= add;
    } else {
      const need = key - this.#offset + 1 + 8 - bins.length;
      for (let j = 0; j < need; j++) bins.push(0);
    }
    this.#bins![key - this.#offset]! += weight;
  }

  /** The non-empty bins in key order. */
  #sorted(): { keys: number[]; counts: number[] } {
    if (this.#bins) {
      const keys: number[] = [];
      const counts: number[] = [];
      this.#bins.forEach((c, i) => {
        if (c) keys.push(this.#offset + i), counts.push(c);
      });
      return { keys, counts };
    }
    const order = this.#keys.map((_, i) => i).sort((a, b) => this.#keys[a]! - this.#keys[b]!);
    return { keys: order.map((i) => this.#keys[i]!), counts: order.map((i) => this.#counts[i]!) };
  }

  /** Adds every value of `other` to this one. */
  merge(other: QuantileSketch): void {
    if (other.count === 0) return;
    const { keys, counts } = other.#sorted();
    keys.forEach((k, i) => this.#addKey(k, counts[i]!));
    this.zeroCount += other.zeroCount;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at quantile `q` (0..1), by DDSketch's rule; NaN when empty. */
  getValueAtQuantile(q: number): number {
    return this.getValuesAtQuantiles([q])[0]!;
  }

  /**
   * The values at several quantiles (ascending, each 0..1) in one pass over the
   * bins; each equals {@linkcode QuantileSketch.getValueAtQuantile}'s answer.
   */
  getValuesAtQuantiles(qs: readonly number[]): number[] {
    const out: number[] = [];
    if (this.count === 0) return qs.map(() => NaN);
    const { keys, counts } = this.#sorted();
    let i = 0;
    let running = 0;
    for (const q of qs) {
      if (q < 0 || q > 1) {
        out.push(NaN);
        continue;
      }
      const rank = q * (this.count - 1);
      if (rank < this.zeroCount) {
        out.push(0);
        continue;
      }
      const r = rank - this.zeroCount;
      while (i < keys.length && running + counts[i]! <= r) running += counts[i++]!;
      out.push(DDSKETCH_MAPPING.value(keys[Math.min(i, keys.length - 1)]!));
    }
    return out;
  }

  /** The compact encoding (bins as [key, count, …] in key order, plus summary stats). */
  toCompact(): CompactSketch {
    const { keys, counts } = this.#sorted();
    const b: number[] = [];
    keys.forEach((k, i) => b.push(k, counts[i]!));
    return { b, z: this.zeroCount, n: this.count, s: this.sum, mn: this.min, mx: this.max };
  }

  /** Decodes {@linkcode QuantileSketch.toCompact} (also {@linkcode compactFromDDSketchBase64}'s bins). */
  static fromCompact(c: CompactSketch): QuantileSketch {
    const q = new QuantileSketch();
    for (let i = 0; i < c.b.length; i += 2) q.#addKey(c.b[i]!, c.b[i + 1]!);
    q.zeroCount = c.z;
    q.count = c.n;
    q.sum = c.s;
    q.min = c.mn ?? Infinity;
    q.max = c.mx ?? -Infinity;
    return q;
  }
}

/** A new sketch for window percentiles. */
export function newQuantileSketch(): QuantileSketch {
  return new QuantileSketch();
}
