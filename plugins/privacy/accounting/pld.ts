/**
 * Privacy loss distributions (Meiser & Mohammadi 2018; Koskela et al. 2020;
 * Doroshenko et al. 2022, the method of Google's `dp-accounting`): the
 * distribution of the privacy loss L = ln(P(o)/Q(o)), discretised on a grid
 * of step h with **pessimistic rounding** (every loss rounded up to the next
 * multiple of h, the upper tail beyond the truncation point moved to +∞, the
 * lower tail to the lowest bin), so the δ(ε) read from it is an upper bound
 * of the true one. Composition is convolution (FFT); δ(ε) =
 * P(L = ∞) + Σ_{l > ε} p(l)·(1 − e^(ε−l)).
 *
 * Mechanisms: Gaussian (L ~ N(μ, 2μ), μ = Δ²/(2σ²)) and Laplace (L on
 * [−Δ/b, Δ/b] with atoms at both ends), both symmetric, so the add and
 * remove directions have the same PLD; and the Poisson-subsampled Gaussian
 * of DP-SGD, whose two directions differ and are both kept (δ(ε) is the
 * larger).
 *
 * @example
 * ```ts
 * import { PrivacyLossDistribution } from "@mercury/privacy/accounting/pld";
 * import assert from "node:assert/strict";
 *
 * const one = PrivacyLossDistribution.laplace({ scale: 10, interval: 1e-3 });
 * const ten = one.selfCompose(10);
 * // Ten Laplace(10) releases: ε at δ = 1e-6 is well under the basic-composition 1.0.
 * const eps = ten.epsilonForDelta(1e-6);
 * assert.ok(eps < 1 && eps > 0.3);
 * ```
 *
 * @module
 */
import { logNormalCdf, normalQuantile } from "../mechanisms/float.ts";
import { convolve } from "./_fft.ts";

function checkInterval(h: number): void {
  if (!(h > 0 && h <= 1)) throw new RangeError(`the discretisation interval must lie in (0, 1], got ${h}`);
}

/** A discretised privacy loss distribution: mass pmf[i] at loss (offset + i)·interval, plus mass at +∞. */
export class PrivacyLossDistribution {
  /** The grid step h. */
  readonly interval: number;
  /** The grid index of pmf[0]. */
  readonly offset: number;
  /** Masses on the grid. */
  readonly pmf: Float64Array;
  /** P(L = +∞). */
  readonly infinityMass: number;
  /** Tail mass dropped (into +∞ or the lowest bin) when truncating. */
  readonly tailMass: number;
  /**
   * The PLD of the other direction (add) when it differs (subsampled
   * mechanisms); δ(ε) is the larger of the two. Undefined for symmetric ones.
   */
  readonly add?: PrivacyLossDistribution;

  /** A PLD from its parts (use the static constructors for mechanisms). */
  constructor(
    interval: number,
    offset: number,
    pmf: Float64Array,
    infinityMass: number,
    tailMass = 1e-15,
    add?: PrivacyLossDistribution,
  ) {
    checkInterval(interval);
    this.add = add;
    this.interval = interval;
    this.offset = offset;
    this.pmf = pmf;
    this.infinityMass = Math.min(1, Math.max(0, infinityMass));
    this.tailMass = tailMass;
  }

  /** From the CDF of the loss, pessimistically: bin k gets F(kh) − F((k−1)h). */
  static #fromCdf(
    cdfMass: (a: number, b: number) => number,
    lo: number,
    hi: number,
    interval: number,
    belowLo: number,
    aboveHi: number,
    tailMass: number,
  ): PrivacyLossDistribution {
    const kLo = Math.ceil(lo / interval), kHi = Math.ceil(hi / interval);
    const pmf = new Float64Array(kHi - kLo + 1);
    for (let k = kLo; k <= kHi; k++) {
      const a = Math.max(lo, (k - 1) * interval), b = Math.min(hi, k * interval);
      pmf[k - kLo] = b > a ? cdfMass(a, b) : 0;
    }
    pmf[0]! += belowLo;
    return new PrivacyLossDistribution(interval, kLo, pmf, aboveHi, tailMass);
  }

  /** The PLD of the Gaussian mechanism with noise σ and L2 sensitivity Δ. */
  static gaussian(o: { sigma: number; sensitivity?: number; interval?: number; tailMass?: number }) {
    const d = o.sensitivity ?? 1, h = o.interval ?? 1e-4, tail = o.tailMass ?? 1e-15;
    checkInterval(h);
    if (!(o.sigma > 0)) throw new RangeError(`sigma must be > 0, got ${o.sigma}`);
    const mu = (d * d) / (2 * o.sigma * o.sigma), s = Math.sqrt(2 * mu);
    const z = -normalQuantile(tail / 2);
    const lo = mu - z * s, hi = mu + z * s;
    const cdf = (x: number) => Math.exp(logNormalCdf((x - mu) / s));
    const sf = (x: number) => Math.exp(logNormalCdf((mu - x) / s));
    const mass = (a: number, b: number) => (a >= mu ? sf(a) - sf(b) : cdf(b) - cdf(a));
    return PrivacyLossDistribution.#fromCdf(mass, lo, hi, h, cdf(lo), sf(hi), tail);
  }

  /**
   * The PLD of the Poisson-subsampled Gaussian (each record in with
   * probability q, noise σ, L2 sensitivity Δ) under add/remove adjacency:
   * remove compares P = (1−q)N(0, σ²) + qN(Δ, σ²) with Q = N(0, σ²), add
   * compares Q with P (as dp-accounting's `GaussianPrivacyLoss` with
   * `sampling_prob`); both are kept and δ(ε) is the larger.
   */
  static subsampledGaussian(
    o: { sigma: number; q: number; sensitivity?: number; interval?: number; tailMass?: number },
  ): PrivacyLossDistribution {
    const d = o.sensitivity ?? 1, h = o.interval ?? 1e-4, tail = o.tailMass ?? 1e-15, q = o.q, sigma = o.sigma;
    checkInterval(h);
    if (!(sigma > 0)) throw new RangeError(`sigma must be > 0, got ${sigma}`);
    if (!(q > 0 && q <= 1)) throw new RangeError(`the sampling rate q must lie in (0, 1], got ${q}`);
    if (q === 1) return PrivacyLossDistribution.gaussian({ sigma, sensitivity: d, interval: h, tailMass: tail });
    const Phi = (x: number) => Math.exp(logNormalCdf(x));
    const z = -normalQuantile(tail / 4);
    const s2 = sigma * sigma;
    // The loss of remove at output o: ln(1 − q + q·e^((2oΔ − Δ²)/(2σ²))), increasing in o.
    const loss = (x: number) => Math.log1p(q * Math.expm1((2 * x * d - d * d) / (2 * s2)));
    // Its inverse: the o where the loss is l (l > ln(1 − q)).
    const at = (l: number) => (s2 / d) * Math.log((Math.expm1(l) + q) / q) + d / 2;
    const lMin = Math.log1p(-q);
    // Remove: o ~ P. F(l) = P(o ≤ at(l)), S(l) = P(o > at(l)).
    const fR = (l: number) => (l <= lMin ? 0 : (1 - q) * Phi(at(l) / sigma) + q * Phi((at(l) - d) / sigma));
    const sR = (l: number) => (l <= lMin ? 1 : (1 - q) * Phi(-at(l) / sigma) + q * Phi((d - at(l)) / sigma));
    const massR = (a: number, b: number) => (fR(a) > 0.5 ? sR(a) - sR(b) : fR(b) - fR(a));
    const loR = loss(-z * sigma), hiR = loss(d + z * sigma);
    const remove = PrivacyLossDistribution.#fromCdf(massR, loR, hiR, h, fR(loR), sR(hiR), tail);
    // Add: o ~ Q = N(0, σ²), loss −loss(o), decreasing in o. F(l) = P(o ≥ at(−l)) for l < −ln(1 − q).
    const fA = (l: number) => (l >= -lMin ? 1 : Phi(-at(-l) / sigma));
    const sA = (l: number) => (l >= -lMin ? 0 : Phi(at(-l) / sigma));
    const massA = (a: number, b: number) => (fA(a) > 0.5 ? sA(a) - sA(b) : fA(b) - fA(a));
    const loA = -loss(z * sigma), hiA = -loss(-z * sigma);
    const add = PrivacyLossDistribution.#fromCdf(massA, loA, hiA, h, fA(loA), sA(hiA), tail);
    return new PrivacyLossDistribution(h, remove.offset, remove.pmf, remove.infinityMass, tail, add);
  }

  /** The PLD of the Laplace mechanism with scale b and L1 sensitivity Δ. */
  static laplace(o: { scale: number; sensitivity?: number; interval?: number }) {
    const d = o.sensitivity ?? 1, h = o.interval ?? 1e-4;
    checkInterval(h);
    if (!(o.scale > 0)) throw new RangeError(`scale must be > 0, got ${o.scale}`);
    const e = d / o.scale;
    // F(l) = ½·exp(−(e − l)/2) on [−e, e), 1 at l ≥ e: atoms ½e^(−e) at −e and ½ at e.
    const F = (l: number) => (l < -e ? 0 : l >= e ? 1 : 0.5 * Math.exp(-(e - l) / 2));
    const kLo = Math.ceil(-e / h), kHi = Math.ceil(e / h);
    const pmf = new Float64Array(kHi - kLo + 1);
    for (let k = kLo; k <= kHi; k++) {
      const b = k * h, a = (k - 1) * h;
      pmf[k - kLo] = F(Math.min(b, e)) - (a < -e ? 0 : F(a));
    }
    return new PrivacyLossDistribution(h, kLo, pmf, 0);
  }

  /** Composition with another PLD on the same grid. */
  compose(other: PrivacyLossDistribution): PrivacyLossDistribution {
    if (other.interval !== this.interval) throw new RangeError("cannot compose PLDs on different grids");
    const pmf = convolve(this.pmf, other.pmf);
    const inf = 1 - (1 - this.infinityMass) * (1 - other.infinityMass);
    // Asymmetric PLDs compose direction by direction (a symmetric one is its own add direction).
    const add = this.add || other.add ? (this.add ?? this.#one()).compose(other.add ?? other.#one()) : undefined;
    return new PrivacyLossDistribution(this.interval, this.offset + other.offset, pmf, inf, this.tailMass)
      .#truncate(add);
  }

  /** k-fold composition with itself (binary powering). */
  selfCompose(k: number): PrivacyLossDistribution {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
    let result: PrivacyLossDistribution | undefined;
    let base = this.compose(PrivacyLossDistribution.#identity(this.interval));
    for (let n = k; n > 0; n >>= 1) {
      if (n & 1) result = result ? result.compose(base) : base;
      if (n > 1) base = base.compose(base);
    }
    return result!;
  }

  /** This PLD without its add direction. */
  #one(): PrivacyLossDistribution {
    return new PrivacyLossDistribution(this.interval, this.offset, this.pmf, this.infinityMass, this.tailMass);
  }

  /** The PLD of a mechanism that releases nothing: all mass at loss 0. */
  static #identity(interval: number): PrivacyLossDistribution {
    return new PrivacyLossDistribution(interval, 0, Float64Array.of(1), 0);
  }

  /** Drops tails below `tailMass` pessimistically: the top into +∞, the bottom into the lowest kept bin. */
  #truncate(add?: PrivacyLossDistribution): PrivacyLossDistribution {
    const p = this.pmf;
    let top = p.length - 1, acc = 0;
    while (top > 0 && acc + p[top]! < this.tailMass) acc += p[top--]!;
    const inf = this.infinityMass + acc;
    let bottom = 0, low = 0;
    while (bottom < top && low + p[bottom]! < this.tailMass) low += p[bottom++]!;
    const kept = p.slice(bottom, top + 1);
    kept[0]! += low;
    return new PrivacyLossDistribution(this.interval, this.offset + bottom, kept, inf, this.tailMass, add);
  }

  /** The hockey-stick divergence δ(ε) (the larger of the two directions when there are two). */
  deltaForEpsilon(epsilon: number): number {
    const other = this.add ? this.add.deltaForEpsilon(epsilon) : 0;
    let d = this.infinityMass;
    for (let i = this.pmf.length - 1; i >= 0; i--) {
      const l = (this.offset + i) * this.interval;
      if (l <= epsilon) break;
      d += this.pmf[i]! * -Math.expm1(epsilon - l);
    }
    return Math.min(1, Math.max(d, other));
  }

  /** The smallest ε ≥ 0 with δ(ε) ≤ δ (Infinity when the mass at +∞ alone exceeds δ). */
  epsilonForDelta(delta: number): number {
    if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
    if (Math.max(this.infinityMass, this.add?.infinityMass ?? 0) > delta) return Infinity;
    if (this.deltaForEpsilon(0) <= delta) return 0;
    const top = (p: PrivacyLossDistribution) => (p.offset + p.pmf.length) * p.interval;
    let lo = 0, hi = Math.max(top(this), this.add ? top(this.add) : 0);
    for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
      const mid = (lo + hi) / 2;
      if (this.deltaForEpsilon(mid) > delta) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}
