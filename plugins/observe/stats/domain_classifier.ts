/**
 * ML-based drift: a domain classifier that tries to tell reference rows from
 * current rows. An L2-regularised logistic regression (standardised
 * features, Newton–IRLS) is scored by out-of-fold ROC AUC over stratified
 * k folds (5, as NannyML's `DomainClassifierCalculator`); AUC ≈ 0.5 means the
 * windows are indistinguishable. Drift when the AUC is above a threshold
 * chosen as Evidently's domain-classifier drift does (its text drift tests):
 * with a reference over 1,000 rows a fixed 0.55; with a smaller one the 95th
 * percentile of the ROC AUC of random scores on the same labels (Evidently
 * draws 1,000 random scorings; this uses their normal limit,
 * 0.5 + z₀.₉₅·√((n₀+n₁+1)/(12·n₀·n₁))). A fixed `threshold` overrides. A linear model
 * finds shifts of means and of linear combinations; pass derived columns
 * (squares, one-hot categories) to catch more.
 *
 * @example
 * ```ts
 * import { domainClassifierDrift } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const ref = Array.from({ length: 200 }, (_, i) => [Math.sin(i), Math.cos(i)]);
 * const cur = Array.from({ length: 200 }, (_, i) => [Math.sin(i) + 1, Math.cos(i)]);
 * const r = domainClassifierDrift(ref, cur, { seed: 1 });
 * assert.ok(r.rocAuc > 0.8 && r.drifted);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { seededRandom } from "@mercury/core/random";
import { rocAuc } from "./classification.ts";
import { solveSymmetric } from "./_linalg.ts";

/** Options of {@linkcode domainClassifierDrift}. */
export interface DomainClassifierOptions {
  /** Folds of the cross-validation (5). */
  folds?: number;
  /** Drift when the out-of-fold ROC AUC is above this; by default as Evidently (see the module doc). */
  threshold?: number;
  /** L2 penalty on the standardised weights (1). */
  l2?: number;
  /** Seed of the fold assignment (0). */
  seed?: number;
}

/** Result of the domain classifier. */
export interface DomainClassifierResult {
  rocAuc: number;
  threshold: number;
  drifted: boolean;
  /** Weights of the model fit on all rows, per standardised feature (which features give the shift away). */
  weights: number[];
}

/** Fits an L2 logistic regression by Newton–IRLS; returns [bias, ...weights]. */
export function fitLogistic(x: number[][], y: ArrayLike<number>, l2 = 1, iterations = 25): Float64Array {
  const d = (x[0]?.length ?? 0) + 1;
  const w = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    const grad = new Float64Array(d), hess = new Float64Array(d * d);
    for (let i = 0; i < x.length; i++) {
      const row = x[i]!;
      let z = w[0]!;
      for (let j = 1; j < d; j++) z += w[j]! * row[j - 1]!;
      const p = 1 / (1 + Math.exp(-z)), r = p - y[i]!, s = Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < d; a++) {
        const xa = a === 0 ? 1 : row[a - 1]!;
        grad[a]! += r * xa;
        for (let b = a; b < d; b++) hess[a * d + b]! += s * xa * (b === 0 ? 1 : row[b - 1]!);
      }
    }
    for (let a = 1; a < d; a++) {
      grad[a]! += l2 * w[a]!;
      hess[a * d + a]! += l2;
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) hess[a * d + b] = hess[b * d + a]!;
    hess[0]! += 1e-9;
    const step = solveSymmetric(hess, grad, d);
    let change = 0;
    for (let a = 0; a < d; a++) {
      w[a]! -= step[a]!;
      change = Math.max(change, Math.abs(step[a]!));
    }
    if (change < 1e-10) break;
  }
  return w;
}

function standardise(rows: number[][]): number[][] {
  const d = rows[0]!.length, n = rows.length;
  const mean = new Float64Array(d), sd = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) sd[j]! += (r[j]! - mean[j]!) ** 2 / n;
  return rows.map((r) => r.map((v, j) => (v - mean[j]!) / (Math.sqrt(sd[j]!) || 1)));
}

/** Domain-classifier drift between row-major reference and current feature matrices. */
export function domainClassifierDrift(
  reference: number[][],
  current: number[][],
  options: DomainClassifierOptions = {},
): DomainClassifierResult {
  const folds = options.folds ?? 5, l2 = options.l2 ?? 1;
  const n0 = reference.length, n1 = current.length;
  const threshold = options.threshold ??
    (n0 > 1000 ? 0.55 : 0.5 + 1.6448536269514722 * Math.sqrt((n0 + n1 + 1) / (12 * n0 * n1)));
  if (reference.length < folds || current.length < folds) {
    throw new MercuryError(
      "input",
      `domain classifier needs at least ${folds} rows per window (reference ${reference.length}, current ${current.length})`,
      { where: "domainClassifierDrift", hint: "widen the windows or lower folds" },
    );
  }
  const d = reference[0]!.length;
  for (const [name, rows] of [["reference", reference], ["current", current]] as const) {
    rows.forEach((r, i) => {
      if (r.length !== d || r.some((v) => !Number.isFinite(v))) {
        throw new MercuryError(
          "input",
          `${name} row ${i} has ${r.length} values or a non-finite one (expected ${d} finite)`,
          {
            where: `${name}[${i}]`,
            hint: "impute or drop missing values first",
          },
        );
      }
    });
  }
  const x = standardise([...reference, ...current]);
  const y = new Float64Array(x.length);
  y.fill(1, reference.length);
  // stratified folds: shuffle each class, deal round-robin
  const rand = seededRandom(options.seed ?? 0);
  const fold = new Int32Array(x.length);
  for (const [lo, hi] of [[0, reference.length], [reference.length, x.length]]) {
    const idx = Array.from({ length: hi! - lo! }, (_, i) => lo! + i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((row, k) => (fold[row] = k % folds));
  }
  const scores = new Float64Array(x.length);
  for (let f = 0; f < folds; f++) {
    const trainX: number[][] = [], trainY: number[] = [];
    for (let i = 0; i < x.length; i++) {
      if (fold[i] !== f) {
        trainX.push(x[i]!);
        trainY.push(y[i]!);
      }
    }
    const w = fitLogistic(trainX, trainY, l2);
    for (let i = 0; i < x.length; i++) {
      if (fold[i] !== f) continue;
      let z = w[0]!;
      for (let j = 0; j < d; j++) z += w[j + 1]! * x[i]![j]!;
      scores[i] = z;
    }
  }
  const auc = rocAuc(y, scores);
  const all = fitLogistic(x, y, l2);
  return { rocAuc: auc, threshold, drifted: auc > threshold, weights: Array.from(all.subarray(1)) };
}
