/**
 * Rényi differential privacy (RDP) accounting: the Gaussian mechanism, the
 * Poisson-subsampled Gaussian of DP-SGD and DP-FedAvg (Mironov, Talwar & Zhang
 * 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", at
 * integer and fractional orders) and the conversion of an RDP curve to
 * (ε, δ) (Balle et al. 2020, Proposition 12, as Google's `dp-accounting` and
 * Opacus use it).
 *
 * Integer orders use the binomial expansion (§3.3 of the paper, every term
 * positive); fractional orders use the two-sided series of §3.4 with each
 * term's sign kept (`dp-accounting` 0.6.0 drops the signs there and
 * overstates the RDP). Checked in `tests/privacy/accounting_rdp_test.ts`
 * against `dp-accounting` 0.6.0 at integer orders and against Opacus's
 * `analysis/rdp.py` and an mpmath integral at fractional ones.
 *
 * @example
 * ```ts
 * import { RdpAccountant } from "@mercury/privacy/accounting/rdp";
 * import assert from "node:assert/strict";
 *
 * // DP-SGD: 1,000 steps at sampling rate 0.01 with noise multiplier 1.1.
 * const acc = new RdpAccountant();
 * acc.composeSubsampledGaussian({ q: 0.01, sigma: 1.1, steps: 1000 });
 * const { epsilon } = acc.epsilon(1e-5);
 * assert.ok(epsilon > 1 && epsilon < 3);
 * ```
 *
 * @module
 */
import erfcx from "@stdlib/math-base-special-erfcx";

/** The orders used when none are given: dp-accounting's default grid (1.1…10.9 by 0.1, 11…63, 128…1024). */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10), // 1.1 … 10.9
  ...Array.from({ length: 53 }, (_, i) => 11 + i), // 11 … 63
  128,
  256,
  512,
  1024,
]);

function checkPositive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a finite number > 0, got ${v}`);
}

function checkRate(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sampling rate q must lie in [0, 1], got ${q}`);
}

function checkOrder(alpha: number): void {
  if (!(alpha > 1)) throw new RangeError(`an RDP order must be > 1, got ${alpha}`);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b), lo = Math.min(a, b);
  if (hi === -Infinity) return -Infinity;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(exp(a) − exp(b)) for a ≥ b. */
export function logSub(a: number, b: number): number {
  if (b > a) throw new RangeError("logSub: the result would be negative");
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  const d = b - a;
  // log(1 − e^d): expm1 near 0, log1p(−e^d) far from it.
  return a + (d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d)));
}

/** log(erfc(x)) accurate in both tails (erfc(x) = e^(−x²)·erfcx(x) for x ≥ 0). */
export function logErfc(x: number): number {
  if (x >= 0) return -x * x + Math.log(erfcx(x));
  return Math.log(2 - Math.exp(-x * x) * erfcx(-x));
}

/** RDP ε(α) of the Gaussian mechanism with L2 sensitivity 1 and noise σ: α / (2σ²). */
export function rdpGaussian(sigma: number, alpha: number): number {
  checkPositive("the noise multiplier sigma", sigma);
  checkOrder(alpha);
  return alpha / (2 * sigma * sigma);
}

function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  let logBinom = 0; // log C(alpha, i)
  const lq = Math.log(q), l1q = Math.log1p(-q);
  for (let i = 0; i <= alpha; i++) {
    const s = logBinom + i * lq + (alpha - i) * l1q + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, s);
    logBinom += Math.log(alpha - i) - Math.log(i + 1);
  }
  return logA;
}

function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity, logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const lq = Math.log(q), l1q = Math.log1p(-q);
  let coef = 1; // C(alpha, i), real-valued, sign alternates once i > alpha
  let logAbsCoef = 0;
  for (let i = 0;; i++) {
    const j = alpha - i;
    const logT0 = logAbsCoef + i * lq + j * l1q;
    const logT1 = logAbsCoef + j * lq + i * l1q;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (coef > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30 && i > alpha) break;
    if (i > 100_000) throw new RangeError(`the RDP series did not converge at order ${alpha}, sigma ${sigma}`);
    // C(alpha, i+1) = C(alpha, i)·(alpha − i)/(i + 1)
    const ratio = (alpha - i) / (i + 1);
    coef *= ratio;
    logAbsCoef += Math.log(Math.abs(ratio));
  }
  return logAdd(logA0, logA1);
}

/**
 * RDP ε(α) of one step of the Poisson-subsampled Gaussian mechanism: each
 * record is in the batch with probability `q`, the clipped sum gets
 * N(0, σ²) noise (σ in units of the clipping norm).
 */
export function rdpSubsampledGaussian(q: number, sigma: number, alpha: number): number {
  checkRate(q);
  checkPositive("the noise multiplier sigma", sigma);
  checkOrder(alpha);
  if (q === 0) return 0;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** The (ε, δ) an RDP curve gives, with the order that gave it. */
export interface EpsilonAt {
  epsilon: number;
  order: number;
}

/** The δ an RDP curve gives at a fixed ε, with the order that gave it. */
export interface DeltaAt {
  delta: number;
  order: number;
}

/**
 * The smallest ε over `orders` with (ε, δ)-DP implied by RDP values `rdp`
 * (Balle et al. 2020, Prop. 12; the KL bound where it gives ε = 0).
 */
export function rdpToEpsilon(orders: readonly number[], rdp: readonly number[], delta: number): EpsilonAt {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new RangeError("rdpToEpsilon needs one RDP value per order");
  }
  let best: EpsilonAt = { epsilon: Infinity, order: orders[0]! };
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!, r = rdp[k]!;
    checkOrder(a);
    if (r < 0) throw new RangeError(`an RDP value must be ≥ 0, got ${r}`);
    let eps: number;
    if (delta * delta + Math.expm1(-r) > 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  }
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/** The smallest δ over `orders` at a fixed ε implied by RDP values `rdp`. */
export function rdpToDelta(orders: readonly number[], rdp: readonly number[], epsilon: number): DeltaAt {
  if (!(epsilon >= 0)) throw new RangeError(`epsilon must be ≥ 0, got ${epsilon}`);
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new RangeError("rdpToDelta needs one RDP value per order");
  }
  let best = { logDelta: Infinity, order: orders[0]! };
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!, r = rdp[k]!;
    checkOrder(a);
    if (r < 0) throw new RangeError(`an RDP value must be ≥ 0, got ${r}`);
    let logDelta = r === 0 ? -Infinity : 0.5 * Math.log1p(-Math.exp(-r));
    if (a > 1.01) logDelta = Math.min(logDelta, (a - 1) * (r - epsilon + Math.log1p(-1 / a)) - Math.log(a));
    if (logDelta < best.logDelta) best = { logDelta, order: a };
  }
  return { delta: Math.min(Math.exp(best.logDelta), 1), order: best.order };
}

/**
 * Adds up RDP over a fixed grid of orders as mechanisms compose (RDP
 * composes by summing at each order) and converts to (ε, δ) on demand.
 */
export class RdpAccountant {
  /** The orders tracked. */
  readonly orders: readonly number[];
  #rdp: number[];

  /** An accountant with nothing spent, over `orders` (default {@link DEFAULT_ORDERS}). */
  constructor(orders: readonly number[] = DEFAULT_ORDERS) {
    for (const a of orders) checkOrder(a);
    this.orders = [...orders];
    this.#rdp = orders.map(() => 0);
  }

  /** The RDP spent so far, one value per order. */
  get rdp(): readonly number[] {
    return [...this.#rdp];
  }

  /** Adds `count` Gaussian mechanisms with noise multiplier σ (sensitivity 1). */
  composeGaussian(sigma: number, count = 1): this {
    this.#rdp = this.#rdp.map((r, k) => r + count * rdpGaussian(sigma, this.orders[k]!));
    return this;
  }

  /** Adds `steps` Poisson-subsampled Gaussian steps (DP-SGD, DP-FedAvg). */
  composeSubsampledGaussian(event: { q: number; sigma: number; steps: number }): this {
    if (!(Number.isInteger(event.steps) && event.steps >= 0)) {
      throw new RangeError(`steps must be a whole number ≥ 0, got ${event.steps}`);
    }
    this.#rdp = this.#rdp.map((r, k) => r + event.steps * rdpSubsampledGaussian(event.q, event.sigma, this.orders[k]!));
    return this;
  }

  /** Adds an RDP curve computed elsewhere (one value per order). */
  composeRdp(rdp: readonly number[]): this {
    if (rdp.length !== this.orders.length) throw new RangeError("composeRdp needs one value per tracked order");
    this.#rdp = this.#rdp.map((r, k) => r + rdp[k]!);
    return this;
  }

  /** The smallest ε at this δ. */
  epsilon(delta: number): EpsilonAt {
    return rdpToEpsilon(this.orders, this.#rdp, delta);
  }

  /** The smallest δ at this ε. */
  delta(epsilon: number): DeltaAt {
    return rdpToDelta(this.orders, this.#rdp, epsilon);
  }
}

/**
 * The noise multiplier σ that keeps `steps` subsampled Gaussian steps at rate
 * `q` within (ε, δ): bisection on σ (ε falls as σ grows), to relative 1e-6.
 */
export function noiseMultiplierFor(
  target: { epsilon: number; delta: number },
  q: number,
  steps: number,
  orders: readonly number[] = DEFAULT_ORDERS,
): number {
  checkPositive("the target epsilon", target.epsilon);
  const eps = (sigma: number) =>
    new RdpAccountant(orders).composeSubsampledGaussian({ q, sigma, steps }).epsilon(target.delta).epsilon;
  let lo = 1e-2, hi = 1;
  while (eps(hi) > target.epsilon) {
    hi *= 2;
    if (hi > 1e6) throw new RangeError(`no noise multiplier reaches ε = ${target.epsilon}`);
  }
  for (let i = 0; i < 100 && (hi - lo) / hi > 1e-6; i++) {
    const mid = (lo + hi) / 2;
    if (eps(mid) > target.epsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}
