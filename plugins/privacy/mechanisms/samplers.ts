/**
 * Exact samplers of Canonne, Kamath & Steinke (2020, "The Discrete Gaussian
 * for Differential Privacy", Algorithms 1–3), on BigInt rationals with
 * `crypto.getRandomValues` as the only source of randomness: Bernoulli(e^−γ),
 * the one-sided geometric, the discrete Laplace and the discrete Gaussian.
 * No floating point is involved, so none of the floating-point attacks on
 * textbook Laplace/Gaussian samplers (Mironov 2012; Jin et al. 2022) apply.
 * The algorithms follow OpenDP's `sample_bernoulli_exp`,
 * `sample_discrete_laplace` and `sample_discrete_gaussian`
 * (rust/src/traits/samplers/cks20).
 *
 * @example
 * ```ts
 * import { sampleDiscreteGaussian, sampleDiscreteLaplace } from "@mercury/privacy/mechanisms/samplers";
 * import assert from "node:assert/strict";
 *
 * const z = sampleDiscreteGaussian(9n, 1n); // σ² = 9
 * assert.equal(typeof z, "bigint");
 * assert.equal(typeof sampleDiscreteLaplace(3n, 2n), "bigint"); // scale 3/2
 * ```
 *
 * @module
 */
import { bernoulli, coin, uniformBelow } from "./_rng.ts";

function checkRational(name: string, num: bigint, den: bigint, allowZero = false): void {
  if (den <= 0n || num < 0n || (!allowZero && num === 0n)) {
    throw new RangeError(`${name} must be a rational ${allowZero ? "≥" : ">"} 0, got ${num}/${den}`);
  }
}

/** True with probability exp(−x) for x = num/den in [0, 1] (CKS Algorithm 1). */
function bernoulliExp1(num: bigint, den: bigint): boolean {
  let k = 1n;
  while (bernoulli(num, den * k)) k++;
  return k % 2n === 1n;
}

/** True with probability exp(−γ) for a rational γ = num/den ≥ 0, exactly. */
export function bernoulliExp(num: bigint, den: bigint): boolean {
  checkRational("γ", num, den, true);
  while (num > den) {
    if (!bernoulliExp1(1n, 1n)) return false;
    num -= den;
  }
  return bernoulliExp1(num, den);
}

/**
 * One draw of the one-sided geometric with scale s/t: P(y) ∝ exp(−y·t/s) on
 * y ≥ 0 (the unsigned half of CKS Algorithm 2, so its cost does not grow
 * with the scale).
 */
export function sampleGeometric(s: bigint, t = 1n): bigint {
  checkRational("the scale", s, t);
  // CKS name the scale t/s: their t is our numerator s, their s our denominator t.
  for (;;) {
    const u = uniformBelow(s);
    if (!bernoulliExp(u, s)) continue;
    let v = 0n;
    while (bernoulliExp(1n, 1n)) v++;
    return (u + s * v) / t;
  }
}

/**
 * One draw of the discrete Laplace with scale s/t: P(x) ∝ exp(−|x|·t/s) on the
 * integers (CKS Algorithm 2).
 */
export function sampleDiscreteLaplace(s: bigint, t = 1n): bigint {
  checkRational("the scale", s, t);
  for (;;) {
    const y = sampleGeometric(s, t);
    const negative = coin();
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/** ⌊√n⌋ for a BigInt n ≥ 0 (Newton's method). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Number() rounds large n: correct with Newton steps until stable.
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/**
 * One draw of the discrete Gaussian with variance parameter σ² = num/den:
 * P(x) ∝ exp(−x²/(2σ²)) on the integers (CKS Algorithm 3).
 */
export function sampleDiscreteGaussian(num: bigint, den = 1n): bigint {
  checkRational("σ²", num, den);
  const t = isqrt(num / den) + 1n;
  const gammaDen = 2n * num * den * t * t;
  for (;;) {
    const y = sampleDiscreteLaplace(t, 1n);
    const absY = y < 0n ? -y : y;
    const d = absY * den * t - num;
    if (bernoulliExp(d * d, gammaDen)) return y;
  }
}

/** An exact rational num/den equal to a finite double. */
export function floatToRational(x: number): { num: bigint; den: bigint } {
  if (!Number.isFinite(x)) throw new RangeError(`cannot make a rational of ${x}`);
  if (x === 0) return { num: 0n, den: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xf_ffff_ffff_ffffn;
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  // Strip the mantissa's trailing zeros: the smallest power-of-two denominator.
  while (e < 0 && (mant & 1n) === 0n) {
    mant >>= 1n;
    e++;
  }
  if (e >= 0) return { num: sign * (mant << BigInt(e)), den: 1n };
  return { num: sign * mant, den: 1n << BigInt(-e) };
}
