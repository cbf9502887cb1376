/**
 * DP quantiles by the exponential mechanism over a grid of candidates, as
 * OpenDP's `make_quantile_score_candidates`: candidate c scores
 * −|(1−q)·#{x < c} − q·#{x > c}|, whose sensitivity under adding or removing
 * one record is max(q, 1−q). Values are clamped to the user's bounds first,
 * so the answer never leaves them.
 *
 * @example
 * ```ts
 * import { dpQuantile } from "@mercury/privacy/mechanisms/quantile";
 * import assert from "node:assert/strict";
 *
 * const xs = Array.from({ length: 1000 }, (_, i) => i / 10); // 0 … 99.9
 * const median = dpQuantile(xs, { q: 0.5, lower: 0, upper: 100, epsilon: 5 });
 * assert.ok(Math.abs(median - 50) < 5);
 * ```
 *
 * @module
 */
import { exponentialMechanism } from "./selection.ts";

/** Options of {@link dpQuantile}. */
export interface QuantileOptions {
  /** The quantile, in [0, 1]. */
  q: number;
  /** Lower bound of the data (values below are clamped). */
  lower: number;
  /** Upper bound of the data (values above are clamped). */
  upper: number;
  /** The privacy budget. */
  epsilon: number;
  /** How many evenly spaced candidates (default 1,001). */
  candidates?: number;
}

/** The candidates a quantile is chosen from: `n` evenly spaced points from lower to upper. */
export function quantileCandidates(lower: number, upper: number, n = 1001): number[] {
  return Array.from({ length: n }, (_, i) => lower + ((upper - lower) * i) / (n - 1));
}

/** An ε-DP estimate of the q-quantile of `values` within [lower, upper]. */
export function dpQuantile(values: ArrayLike<number>, o: QuantileOptions): number {
  if (!(o.q >= 0 && o.q <= 1)) throw new RangeError(`the quantile q must lie in [0, 1], got ${o.q}`);
  if (!(Number.isFinite(o.lower) && Number.isFinite(o.upper) && o.lower < o.upper)) {
    throw new RangeError(`the bounds must be finite with lower < upper, got [${o.lower}, ${o.upper}]`);
  }
  const cands = quantileCandidates(o.lower, o.upper, o.candidates ?? 1001);
  const sorted = Float64Array.from(values, (v) => Math.min(o.upper, Math.max(o.lower, v))).sort();
  const n = sorted.length;
  // #{x < c} and #{x > c} by binary search.
  const lowerBound = (c: number) => {
    let lo = 0, hi = n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (sorted[m]! < c) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const upperBound = (c: number) => {
    let lo = 0, hi = n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (sorted[m]! <= c) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const scores = cands.map((c) => -Math.abs((1 - o.q) * lowerBound(c) - o.q * (n - upperBound(c))));
  const i = exponentialMechanism(scores, { sensitivity: Math.max(o.q, 1 - o.q), epsilon: o.epsilon });
  return cands[i]!;
}
