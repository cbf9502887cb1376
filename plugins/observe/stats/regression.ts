/**
 * Regression metrics with scikit-learn's semantics: MAE, RMSE, MAPE (relative
 * to max(|y|, ε), as `mean_absolute_percentage_error`, a fraction, not
 * percent) and R² (1 when a constant target is predicted exactly, 0 otherwise,
 * as `r2_score`'s `force_finite`).
 *
 * @example
 * ```ts
 * import { regressionReport } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const r = regressionReport([1, 2, 3], [1, 2, 4]);
 * assert.equal(r.mae, 1 / 3);
 * assert.equal(r.r2, 0.5);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** MAE, RMSE, MAPE and R² of one window. */
export interface RegressionReport {
  n: number;
  mae: number;
  rmse: number;
  mape: number;
  r2: number;
}

/** All regression metrics of `yTrue` against `yPred`. */
export function regressionReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionReport {
  const n = yTrue.length;
  if (n !== yPred.length || n === 0) {
    throw new MercuryError("input", `y_pred has ${yPred.length} values but y_true has ${n}`, {
      where: "y_pred",
      hint: "pass one prediction per labelled row (at least one)",
    });
  }
  let abs = 0, sq = 0, pct = 0, mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i]!, e = y - yPred[i]!;
    abs += Math.abs(e);
    sq += e * e;
    pct += Math.abs(e) / Math.max(Math.abs(y), Number.EPSILON);
    tot += (y - mean) ** 2;
  }
  const r2 = tot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / tot;
  return { n, mae: abs / n, rmse: Math.sqrt(sq / n), mape: pct / n, r2 };
}
