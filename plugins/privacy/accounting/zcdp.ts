/**
 * Zero-concentrated DP (Bun & Steinke 2016): ρ-zCDP means RDP ρ·α at every
 * order α > 1, so budgets add up as ρ's. The Gaussian (and discrete
 * Gaussian, Canonne et al. 2020) mechanism with L2 sensitivity Δ and noise σ
 * is Δ²/(2σ²)-zCDP; ε-DP implies ε²/2-zCDP. The conversion to (ε, δ) is the
 * tight one of Canonne et al. 2020 (Corollary 13), minimised over α:
 * ε = ρα + (ln(1/δ) + (α−1)·ln(1−1/α) − ln α)/(α−1).
 *
 * @example
 * ```ts
 * import { gaussianRho, zcdpToEpsilon } from "@mercury/privacy/accounting/zcdp";
 * import assert from "node:assert/strict";
 *
 * const rho = gaussianRho({ sensitivity: 1, sigma: 5 }); // 0.02
 * const { epsilon } = zcdpToEpsilon(rho, 1e-6);
 * // Tighter than Bun & Steinke's ρ + 2√(ρ ln(1/δ)).
 * assert.ok(epsilon < rho + 2 * Math.sqrt(rho * Math.log(1e6)));
 * ```
 *
 * @module
 */

/** ρ of the Gaussian mechanism: Δ²/(2σ²). */
export function gaussianRho(p: { sensitivity: number; sigma: number }): number {
  if (!(p.sigma > 0 && Number.isFinite(p.sigma))) throw new RangeError(`sigma must be > 0, got ${p.sigma}`);
  return (p.sensitivity * p.sensitivity) / (2 * p.sigma * p.sigma);
}

/** ρ implied by pure ε-DP: ε²/2. */
export function pureToRho(epsilon: number): number {
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${epsilon}`);
  return (epsilon * epsilon) / 2;
}

/** The noise σ of a Gaussian mechanism spending ρ at sensitivity Δ: Δ/√(2ρ). */
export function sigmaForRho(rho: number, sensitivity = 1): number {
  if (!(rho > 0)) throw new RangeError(`rho must be > 0, got ${rho}`);
  return sensitivity / Math.sqrt(2 * rho);
}

/** The smallest ε with (ε, δ)-DP implied by ρ-zCDP, with the order that gave it. */
export function zcdpToEpsilon(rho: number, delta: number): { epsilon: number; order: number } {
  if (!(rho >= 0 && Number.isFinite(rho))) throw new RangeError(`rho must be ≥ 0, got ${rho}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
  if (rho === 0) return { epsilon: 0, order: Infinity };
  const f = (a: number) => rho * a + (Math.log(1 / delta) + (a - 1) * Math.log1p(-1 / a) - Math.log(a)) / (a - 1);
  // f is convex in α on (1, ∞): golden-section search on a bracket around the classic optimum.
  let lo = 1 + 1e-9, hi = Math.max(2, 4 * (1 + Math.sqrt(Math.log(1 / delta) / rho)));
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  let f1 = f(x1), f2 = f(x2);
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = f(x2);
    }
  }
  const order = (lo + hi) / 2;
  return { epsilon: Math.max(0, f(order)), order };
}

/**
 * The largest ρ whose conversion ({@link zcdpToEpsilon}) stays within
 * (ε, δ): bisection on ρ (the converted ε grows with ρ), to relative 1e-12,
 * rounded down so that the result never converts above ε.
 */
export function rhoForEpsilon(epsilon: number, delta: number): number {
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${epsilon}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
  let lo = 0, hi = epsilon; // ρ-zCDP implies (ρ + 2√(ρ ln 1/δ), δ): ε ≥ ρ, so ρ ≤ ε
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (zcdpToEpsilon(mid, delta).epsilon > epsilon) hi = mid;
    else lo = mid;
  }
  return lo;
}
