/**
 * Shamir secret sharing of byte strings up to 64 bytes over the prime field
 * 2^521 − 1 (BigInt): a random polynomial of degree t − 1 whose constant term
 * is the secret, evaluated at x = 1…n; any t shares give the secret back by
 * Lagrange interpolation at 0, fewer give nothing. Coefficients come from
 * `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * import { combineShares, splitSecret } from "@mercury/privacy/secagg";
 * import assert from "node:assert/strict";
 *
 * const secret = new Uint8Array(32).fill(9);
 * const shares = splitSecret(secret, 3, [1, 2, 3, 4, 5]);
 * assert.deepEqual(combineShares([shares[4]!, shares[0]!, shares[2]!], 32), secret);
 * ```
 *
 * @module
 */

/** The sharing field's prime, 2^521 − 1. */
export const Q = (1n << 521n) - 1n;

/** One share: the point x and the polynomial's value there (hex). */
export interface Share {
  x: number;
  y: string;
}

const mod = (a: bigint) => ((a % Q) + Q) % Q;

function randomBelowQ(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(66));
  return mod(bytesToBig(bytes));
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function bigToBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError(`the combined secret does not fit in ${length} bytes (too few or wrong shares?)`);
  return out;
}

function modPow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % Q;
    b = (b * b) % Q;
    e >>= 1n;
  }
  return r;
}

/** Shares of `secret` (≤ 64 bytes) at the points `xs` (distinct, ≥ 1), any `t` of which recover it. */
export function splitSecret(secret: Uint8Array, t: number, xs: readonly number[]): Share[] {
  if (secret.length > 64) throw new RangeError(`a shared secret is at most 64 bytes, got ${secret.length}`);
  if (!(Number.isInteger(t) && t >= 1 && t <= xs.length)) {
    throw new RangeError(`threshold ${t} must be between 1 and the ${xs.length} shareholders`);
  }
  if (new Set(xs).size !== xs.length || xs.some((x) => !(Number.isInteger(x) && x >= 1))) {
    throw new RangeError("share points must be distinct whole numbers ≥ 1");
  }
  const coef = [bytesToBig(secret), ...Array.from({ length: t - 1 }, randomBelowQ)];
  return xs.map((x) => {
    let y = 0n;
    const bx = BigInt(x);
    for (let k = coef.length - 1; k >= 0; k--) y = (y * bx + coef[k]!) % Q;
    return { x, y: y.toString(16) };
  });
}

/** The secret (`length` bytes) from at least t shares (Lagrange interpolation at 0). */
export function combineShares(shares: readonly Share[], length: number): Uint8Array {
  if (new Set(shares.map((s) => s.x)).size !== shares.length) throw new RangeError("duplicate share points");
  let secret = 0n;
  for (const si of shares) {
    let num = 1n, den = 1n;
    for (const sj of shares) {
      if (sj.x === si.x) continue;
      num = (num * BigInt(-sj.x)) % Q;
      den = (den * BigInt(si.x - sj.x)) % Q;
    }
    const li = mod(num) * modPow(mod(den), Q - 2n);
    secret = (secret + BigInt("0x" + si.y) * li) % Q;
  }
  return bigToBytes(mod(secret), length);
}
