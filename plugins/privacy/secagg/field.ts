/**
 * The finite field masked vectors live in: integers modulo the prime
 * p = 2^52 − 47, held in float64 (a sum of two elements stays below 2^53, so
 * addition is exact), and the fixed-point encoding of real values into it
 * (scale 2^20: 1e-6 resolution, sums up to ±2^31 in magnitude decode exactly).
 *
 * @example
 * ```ts
 * import { addInto, decode, encode } from "@mercury/privacy/secagg";
 * import assert from "node:assert/strict";
 *
 * const sum = encode([1.5, -2.25]);
 * addInto(sum, encode([0.5, 0.25]));
 * assert.deepEqual(decode(sum), [2, -2]);
 * ```
 *
 * @module
 */

/** The field's prime, 2^52 − 47. */
export const P = 4503599627370449;
/** Fixed-point scale. */
export const SCALE = 2 ** 20;
/** The largest magnitude a decoded sum may have. */
export const MAX_ABS = P / 2 / SCALE;

/** Reals to field elements (round to the nearest 2^-20). */
export function encode(values: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || Math.abs(v) >= MAX_ABS) {
      throw new RangeError(`value ${v} at position ${i} cannot be encoded; keep |v| < ${MAX_ABS}`);
    }
    const q = Math.round(v * SCALE);
    out[i] = q < 0 ? q + P : q;
  }
  return out;
}

/** Field elements back to reals (the upper half of the field is negative). */
export function decode(elements: Float64Array): number[] {
  return Array.from(elements, (e) => (e > P / 2 ? e - P : e) / SCALE);
}

/** `acc += v` (mod p), element-wise. */
export function addInto(acc: Float64Array, v: Float64Array): Float64Array {
  for (let i = 0; i < acc.length; i++) {
    const s = acc[i]! + v[i]!;
    acc[i] = s >= P ? s - P : s;
  }
  return acc;
}

/** `acc -= v` (mod p), element-wise. */
export function subInto(acc: Float64Array, v: Float64Array): Float64Array {
  for (let i = 0; i < acc.length; i++) {
    const s = acc[i]! - v[i]!;
    acc[i] = s < 0 ? s + P : s;
  }
  return acc;
}

/** True when every entry is an integer in [0, p). */
export function isFieldVector(v: readonly unknown[]): v is number[] {
  return v.every((e) => typeof e === "number" && Number.isInteger(e) && e >= 0 && e < P);
}
