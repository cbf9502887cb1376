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
  /**
   * Sparse: the distinct hashes seen, in an open-addressing table (0 = empty; the
   * hash 0 itself is {@linkcode HyperLogLog.#hasZero}). Plain int32s: a `Set` of
   * 32-bit hashes boxed most of them as heap numbers.
   */
  #table: Int32Array | null = null;
  /** The first few hashes, before there is a table (most windows see a handful of distinct values). */
  #few: number[] | null = [];
  #size = 0;
  #hasZero = false;
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
    if (this.#few) {
      const x = h | 0;
      if (!this.#few.includes(x)) {
        if (this.#few.length < FEW) this.#few.push(x), this.#size++;
        else this.#tabulate(), this.#sparseAdd(x);
      }
      if (this.#size > (1 << this.p) / 4) this.#densify();
      return;
    }
    if (this.#table) {
      this.#sparseAdd(h | 0);
      if (this.#size > (1 << this.p) / 4) this.#densify();
      return;
    }
    this.#insert(h);
  }

  /** Moves the first few hashes into a table. */
  #tabulate(): void {
    const few = this.#few!;
    this.#few = null;
    this.#table = new Int32Array(32);
    this.#size = 0;
    for (const x of few) this.#sparseAdd(x);
  }

  #sparseAdd(h: number): void {
    if (h === 0) {
      if (!this.#hasZero) this.#hasZero = true, this.#size++;
      return;
    }
    let table = this.#table!;
    if (2 * (this.#size + 1) > table.length) {
      const old = table;
      table = this.#table = new Int32Array(old.length * 2);
      for (const x of old) if (x !== 0) place(table, x);
    }
    if (place(table, h)) this.#size++;
  }

  /** The sparse hashes, as unsigned 32-bit values. */
  #hashes(): number[] {
    if (this.#few) return this.#few.map((x) => x >>> 0);
    const out: number[] = [];
    if (this.#hasZero) out.push(0);
    for (const x of this.#table!) if (x !== 0) out.push(x >>> 0);
    return out;
  }

  /** Whether the hashes themselves are kept (not yet registers). */
  get #sparse(): boolean {
    return this.#few !== null || this.#table !== null;
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
    for (const h of this.#hashes()) this.#insert(h);
    this.#few = null;
    this.#table = null;
    this.#size = 0;
  }

  /** Estimated number of distinct values. */
  count(): number {
    if (this.#sparse) return this.#size;
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
      for (const h of other.#hashes()) this.addHash(h);
      return;
    }
    if (this.#sparse) this.#densify();
    const a = this.#registers!;
    const b = other.#registers!;
    for (let i = 0; i < a.length; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
  }

  toJSON(): HllJson {
    return this.#sparse
      ? { p: this.p, s: this.#hashes() }
      : { p: this.p, r: Buffer.from(this.#registers!).toString("base64") };
  }

  static fromJSON(j: HllJson): HyperLogLog {
    const h = new HyperLogLog(j.p);
    if (j.r !== undefined) {
      h.#few = null;
      h.#table = null;
      h.#registers = new Uint8Array(Buffer.from(j.r, "base64"));
    } else {
      for (const x of j.s ?? []) h.addHash(x);
    }
    return h;
  }
}

/** Hashes kept in a list before a HyperLogLog makes a table. */
const FEW = 8;

/** Puts non-zero `h` into an open-addressing table with room; false when it was there. */
function place(table: Int32Array, h: number): boolean {
  const mask = table.length - 1;
  for (let i = Math.imul(h, 0x9e3779b1) >>> 16 & mask;; i = (i + 1) & mask) {
    const x = table[i]!;
    if (x === h) return false;
    if (x === 0) {
      table[i] = h;
      return true;
    }
  }
}

/** A percentile sketch keeps up to this many bins in a list, then switches to a dense array. */
const SPARSE_BINS = 16;

/** Relative accuracy of the percentile sketches (2%). */
export const QUANTILE_ACCURACY = 0.02;

/**
 * DDSketch's log mapping at {@linkcode QUANTILE_ACCURACY}, shared by every
 * window (creating a `DDSketch` per window cost more than the window itself).
 */
const MAPPING = (new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY }) as unknown as { mapping: KeyMapping }).mapping;

interface KeyMapping {
  key(value: number): number;
  value(key: number): number;
  minPossible: number;
  _multiplier: number;
  _offset: number;
}

/** `MAPPING.key(value)` (`ceil(log2(value) · multiplier) + offset`, the same arithmetic) without two method calls. */
const KEY_MULTIPLIER = MAPPING._multiplier;
const KEY_OFFSET = MAPPING._offset;
const MIN_POSITIVE = MAPPING.minPossible;
if (MAPPING.key(1234.5) !== Math.ceil(Math.log2(1234.5) * KEY_MULTIPLIER) + KEY_OFFSET) {
  throw new Error("@datadog/sketches-js changed its logarithmic mapping: update QuantileSketch");
}

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
    if (value > MIN_POSITIVE) this.#addKey(Math.ceil(Math.log2(value) * KEY_MULTIPLIER) + KEY_OFFSET, weight);
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
      out.push(MAPPING.value(keys[Math.min(i, keys.length - 1)]!));
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

  /** Decodes {@linkcode QuantileSketch.toCompact} (also what `sketchToCompact` wrote for a DDSketch). */
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

  /** The equivalent `DDSketch` (for its protobuf form or other sketches-js APIs). */
  toDDSketch(): DDSketch {
    return sketchFromCompact(this.toCompact());
  }
}

/** A new sketch for window percentiles. */
export function newQuantileSketch(): QuantileSketch {
  return new QuantileSketch();
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
  const sketch = new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
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
