/**
 * Isotonic regression by pool-adjacent-violators: the calibrator NannyML's
 * CBPE uses (`IsotonicRegression(out_of_bounds="clip")`, increasing, ties
 * in x averaged first as scikit-learn does). Prediction interpolates
 * linearly between the fitted points and clips outside them.
 *
 * @example
 * ```ts
 * import { fitIsotonic } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const f = fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]);
 * assert.deepEqual([f(0.1), f(0.25), f(0.4)], [0, 0.5, 1]);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** Fits a non-decreasing step-linear map from `x` to `y`; returns the predictor. */
export function fitIsotonic(x: ArrayLike<number>, y: ArrayLike<number>): (v: number) => number {
  if (x.length !== y.length || x.length === 0) {
    throw new MercuryError("input", `isotonic fit needs equal, non-empty x and y (got ${x.length} and ${y.length})`, {
      where: "fitIsotonic",
      hint: "pass one label per score",
    });
  }
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  // merge equal x first (weighted mean of y)
  const xs: number[] = [], ys: number[] = [], ws: number[] = [];
  for (const i of order) {
    const last = xs.length - 1;
    if (last >= 0 && xs[last] === x[i]) {
      ys[last] = (ys[last]! * ws[last]! + y[i]!) / (ws[last]! + 1);
      ws[last]!++;
    } else {
      xs.push(x[i]!);
      ys.push(y[i]!);
      ws.push(1);
    }
  }
  // pool adjacent violators over blocks
  const bv: number[] = [], bw: number[] = [], bstart: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    bv.push(ys[i]!);
    bw.push(ws[i]!);
    bstart.push(i);
    while (bv.length > 1 && bv[bv.length - 2]! > bv[bv.length - 1]!) {
      const v = bv.pop()!, w = bw.pop()!;
      bstart.pop();
      const k = bv.length - 1;
      bv[k] = (bv[k]! * bw[k]! + v * w) / (bw[k]! + w);
      bw[k]! += w;
    }
  }
  const fitted = new Float64Array(xs.length);
  for (let b = 0; b < bv.length; b++) {
    const end = b + 1 < bv.length ? bstart[b + 1]! : xs.length;
    for (let i = bstart[b]!; i < end; i++) fitted[i] = bv[b]!;
  }
  const X = Float64Array.from(xs);
  return (v: number) => {
    if (v <= X[0]!) return fitted[0]!;
    if (v >= X[X.length - 1]!) return fitted[X.length - 1]!;
    let lo = 0, hi = X.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (X[mid]! <= v) lo = mid;
      else hi = mid;
    }
    const t = (v - X[lo]!) / (X[hi]! - X[lo]!);
    return fitted[lo]! + t * (fitted[hi]! - fitted[lo]!);
  };
}
