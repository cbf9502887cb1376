/**
 * Composition of (ε, δ)-DP mechanisms: basic composition (ε and δ add up)
 * and advanced composition (Dwork, Rothblum & Vadhan 2010, Theorem III.3:
 * k mechanisms of (ε, δ) are (√(2k·ln(1/δ'))·ε + k·ε·(e^ε − 1), k·δ + δ')-DP).
 *
 * @example
 * ```ts
 * import { advancedComposition, basicComposition } from "@mercury/privacy/accounting/composition";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(basicComposition([{ epsilon: 0.5, delta: 0 }, { epsilon: 0.25, delta: 1e-6 }]), {
 *   epsilon: 0.75,
 *   delta: 1e-6,
 * });
 * // 1,000 steps of ε = 0.01: advanced composition beats the basic 10.
 * assert.ok(advancedComposition({ epsilon: 0.01, delta: 0 }, 1000, 1e-6).epsilon < 2);
 * ```
 *
 * @module
 */

/** An (ε, δ) guarantee. */
export interface EpsDelta {
  epsilon: number;
  delta: number;
}

/** Checks an (ε, δ) pair: ε > 0 finite, 0 ≤ δ < 1; throws a RangeError naming the bad field. */
export function checkEpsDelta(p: EpsDelta, where = "budget"): void {
  if (!(Number.isFinite(p.epsilon) && p.epsilon > 0)) {
    throw new RangeError(`${where}: epsilon must be a finite number > 0, got ${p.epsilon}`);
  }
  if (!(p.delta >= 0 && p.delta < 1)) throw new RangeError(`${where}: delta must lie in [0, 1), got ${p.delta}`);
}

/** Basic composition: the sum of the ε's and of the δ's. */
export function basicComposition(parts: readonly EpsDelta[]): EpsDelta {
  let epsilon = 0, delta = 0;
  parts.forEach((p, i) => {
    checkEpsDelta(p, `mechanism ${i}`);
    epsilon += p.epsilon;
    delta += p.delta;
  });
  return { epsilon, delta: Math.min(1, delta) };
}

/**
 * Advanced composition of k copies of one (ε, δ) mechanism with slack δ';
 * never worse than basic composition (the smaller of the two is returned).
 */
export function advancedComposition(each: EpsDelta, k: number, deltaSlack: number): EpsDelta {
  checkEpsDelta(each, "each mechanism");
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  if (!(deltaSlack > 0 && deltaSlack < 1)) throw new RangeError(`δ' must lie in (0, 1), got ${deltaSlack}`);
  const e = each.epsilon;
  const adv = Math.sqrt(2 * k * Math.log(1 / deltaSlack)) * e + k * e * Math.expm1(e);
  if (adv >= k * e) return { epsilon: k * e, delta: Math.min(1, k * each.delta) };
  return { epsilon: adv, delta: Math.min(1, k * each.delta + deltaSlack) };
}
