/**
 * HyperLogLog for the windows' distinct counts: exact while small (a list of
 * hashes, then an int32 table), then 2^p registers; serialises to JSON so
 * window state can be checkpointed.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { murmur3 } from "./hash.ts";

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
