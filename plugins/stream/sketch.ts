/**
 * Mergeable sketches for window aggregates: a HyperLogLog for distinct counts
 * (exact while small, sparse-to-dense) and DDSketch (Datadog's
 * `@datadog/sketches-js`) for percentiles with a relative-error guarantee.
 * Both serialise to JSON so window state can be checkpointed.
 *
 * @module
 */
import { DDSketch } from "@datadog/sketches-js";
import { Buffer } from "node:buffer";

/** MurmurHash3 x86 32-bit of a string's UTF-16 code units. */
export function murmur3(key: string, seed = 0x9747b28c): number {
  let h = seed | 0;
  const n = key.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (key.charCodeAt(i) & 0xffff) | ((key.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = key.charCodeAt(i) & 0xffff;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Serialised {@linkcode HyperLogLog}. */
export interface HllJson {
  p: number;
  /** Sparse: the distinct hashes seen (while few). */
  s?: number[];
  /** Dense: base64 registers. */
  r?: string;
}

/**
 * HyperLogLog with precision `p` (2^p registers, standard error ≈ 1.04/√2^p).
 * Below 2^p/4 distinct values it keeps the hashes themselves, so small counts
 * are exact (up to hash collisions) and small states stay small.
 *
 * @example
 * ```ts
 * import { HyperLogLog } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const a = new HyperLogLog();
 * const b = new HyperLogLog();
 * for (let i = 0; i < 50_000; i++) (i % 2 ? a : b).add(`user-${i}`);
 * a.merge(b);
 * assert.ok(Math.abs(a.count() - 50_000) / 50_000 < 0.03);
 * assert.equal(HyperLogLog.fromJSON(a.toJSON()).count(), a.count());
 * ```
 */
export class HyperLogLog {
  readonly p: number;
  #sparse: Set<number> | null = new Set();
  #registers: Uint8Array | null = null;

  constructor(p = 12) {
    if (!Number.isInteger(p) || p < 4 || p > 16) throw new RangeError(`HyperLogLog precision must be 4..16, got ${p}`);
    this.p = p;
  }

  /** Adds a value. */
  add(value: string): void {
    this.addHash(murmur3(value));
  }

  /** Adds a 32-bit hash. */
  addHash(h: number): void {
    if (this.#sparse) {
      this.#sparse.add(h);
      if (this.#sparse.size > (1 << this.p) / 4) this.#densify();
      return;
    }
    this.#insert(h);
  }

  #insert(h: number): void {
    const idx = h >>> (32 - this.p);
    const w = ((h << this.p) | (1 << (this.p - 1))) >>> 0;
    const rank = Math.clz32(w) + 1;
    const regs = this.#registers!;
    if (rank > regs[idx]!) regs[idx] = rank;
  }

  #densify(): void {
    this.#registers = new Uint8Array(1 << this.p);
    for (const h of this.#sparse!) this.#insert(h);
    this.#sparse = null;
  }

  /** Estimated number of distinct values. */
  count(): number {
    if (this.#sparse) return this.#sparse.size;
    const m = 1 << this.p;
    const regs = this.#registers!;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      sum += 2 ** -regs[i]!;
      if (regs[i] === 0) zeros++;
    }
    const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m === 64 ? 0.709 : m === 32 ? 0.697 : 0.673;
    const e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros)); // linear counting
    return Math.round(e);
  }

  /** Adds every value of `other` (same precision) to this one. */
  merge(other: HyperLogLog): void {
    if (other.p !== this.p) throw new RangeError(`Cannot merge HyperLogLogs of precision ${this.p} and ${other.p}`);
    if (other.#sparse) {
      for (const h of other.#sparse) this.addHash(h);
      return;
    }
    if (this.#sparse) this.#densify();
    const a = this.#registers!;
    const b = other.#registers!;
    for (let i = 0; i < a.length; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
  }

  toJSON(): HllJson {
    return this.#sparse
      ? { p: this.p, s: [...this.#sparse] }
      : { p: this.p, r: Buffer.from(this.#registers!).toString("base64") };
  }

  static fromJSON(j: HllJson): HyperLogLog {
    const h = new HyperLogLog(j.p);
    if (j.r !== undefined) {
      h.#sparse = null;
      h.#registers = new Uint8Array(Buffer.from(j.r, "base64"));
    } else {
      for (const x of j.s ?? []) h.#sparse!.add(x);
    }
    return h;
  }
}

/** Relative accuracy of the percentile sketches (2%). */
export const QUANTILE_ACCURACY = 0.02;

/** A new DDSketch for window percentiles. */
export function newQuantileSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
}

/** A DDSketch as compact JSON: its non-empty bins as [key, count, key, count, …] plus summary stats. */
export interface CompactSketch {
  b: number[];
  z: number;
  n: number;
  s: number;
  mn: number;
  mx: number;
}

interface SketchInternals {
  store: { bins: number[]; offset: number; add(key: number, weight: number): void };
  zeroCount: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Encodes a DDSketch (positive values only, as window amounts are) without
 * protobuf: a window with a few values becomes a few numbers, which keeps
 * incremental checkpoints small.
 */
export function sketchToCompact(sketch: DDSketch): CompactSketch {
  const s = sketch as unknown as SketchInternals;
  const b: number[] = [];
  const { bins, offset } = s.store;
  for (let i = 0; i < bins.length; i++) if (bins[i]) b.push(i + offset, bins[i]!);
  return { b, z: s.zeroCount, n: s.count, s: s.sum, mn: s.min, mx: s.max };
}

/** Decodes {@linkcode sketchToCompact}. */
export function sketchFromCompact(c: CompactSketch): DDSketch {
  const sketch = newQuantileSketch();
  const s = sketch as unknown as SketchInternals;
  for (let i = 0; i < c.b.length; i += 2) s.store.add(c.b[i]!, c.b[i + 1]!);
  s.zeroCount = c.z;
  s.count = c.n;
  s.sum = c.s;
  s.min = c.mn ?? Infinity;
  s.max = c.mx ?? -Infinity;
  return sketch;
}

/** DDSketch → base64 protobuf. */
export function sketchToBase64(s: DDSketch): string {
  return Buffer.from(s.toProto()).toString("base64");
}

/** base64 protobuf → DDSketch. */
export function sketchFromBase64(b: string): DDSketch {
  return DDSketch.fromProto(new Uint8Array(Buffer.from(b, "base64")));
}

export { DDSketch };
