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
 * [−Δ/b, Δ/b] with atoms at both ends). Both are symmetric, so the
 * add and remove directions have the same PLD.
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

  /** A PLD from its parts (use the static constructors for mechanisms). */
  constructor(interval: number, offset: number, pmf: Float64Array, infinityMass: number, tailMass = 1e-15) {
    checkInterval(interval);
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
    return new PrivacyLossDistribution(this.interval, this.offset + other.offset, pmf, inf, this.tailMass)
      .#truncate();
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

  /** The PLD of a mechanism that releases nothing: all mass at loss 0. */
  static #identity(interval: number): PrivacyLossDistribution {
    return new PrivacyLossDistribution(interval, 0, Float64Array.of(1), 0);
  }

  /** Drops tails below `tailMass` pessimistically: the top into +∞, the bottom into the lowest kept bin. */
  #truncate(): PrivacyLossDistribution {
    const p = this.pmf;
    let top = p.length - 1, acc = 0;
    while (top > 0 && acc + p[top]! < this.tailMass) acc += p[top--]!;
    const inf = this.infinityMass + acc;
    let bottom = 0, low = 0;
    while (bottom < top && low + p[bottom]! < this.tailMass) low += p[bottom++]!;
    const kept = p.slice(bottom, top + 1);
    kept[0]! += low;
    return new PrivacyLossDistribution(this.interval, this.offset + bottom, kept, inf, this.tailMass);
  }

  /** The hockey-stick divergence δ(ε). */
  deltaForEpsilon(epsilon: number): number {
    let d = this.infinityMass;
    for (let i = this.pmf.length - 1; i >= 0; i--) {
      const l = (this.offset + i) * this.interval;
      if (l <= epsilon) break;
      d += this.pmf[i]! * -Math.expm1(epsilon - l);
    }
    return Math.min(1, d);
  }

  /** The smallest ε ≥ 0 with δ(ε) ≤ δ (Infinity when the mass at +∞ alone exceeds δ). */
  epsilonForDelta(delta: number): number {
    if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
    if (this.infinityMass > delta) return Infinity;
    if (this.deltaForEpsilon(0) <= delta) return 0;
    let lo = 0, hi = (this.offset + this.pmf.length) * this.interval;
    for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
      const mid = (lo + hi) / 2;
      if (this.deltaForEpsilon(mid) > delta) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}
