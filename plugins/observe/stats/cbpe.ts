/**
 * Confidence-based performance estimation (NannyML's CBPE) for binary
 * classifiers: performance without labels, from the model's own
 * probabilities. On a labelled reference window the scores are calibrated
 * with isotonic regression (NannyML calibrates only when that lowers the
 * expected calibration error; so does this, measured on a held-out half of
 * the reference). On an unlabelled chunk each row's calibrated probability p
 * is the chance its label is 1, so the expected confusion matrix is
 * E[TP] = Σ_{ŷ=1} p, E[FP] = Σ_{ŷ=1} (1−p), E[FN] = Σ_{ŷ=0} p,
 * E[TN] = Σ_{ŷ=0} (1−p), from which accuracy, precision, recall and F1
 * follow; ROC AUC is estimated from the expected TPR/FPR curve over
 * thresholds (NannyML's `estimate_roc_auc`). Valid under covariate shift
 * (P(y|x) unchanged), not under concept drift.
 *
 * @example
 * ```ts
 * import { Cbpe } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const scores = [0.1, 0.2, 0.8, 0.9, 0.3, 0.7], labels = [0, 0, 1, 1, 0, 1];
 * const cbpe = Cbpe.fit({ scores, labels, calibrate: false });
 * const est = cbpe.estimate([0.9, 0.95, 0.1]);
 * assert.ok(Math.abs(est.accuracy - (0.9 + 0.95 + 0.9) / 3) < 1e-12);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { calibration } from "./calibration.ts";
import { fitIsotonic } from "./isotonic.ts";

/** Estimated metrics of one chunk. */
export interface CbpeEstimate {
  n: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  /** Expected confusion matrix cells. */
  expected: { tp: number; fp: number; fn: number; tn: number };
  /** Standard error of the accuracy estimate (binomial, from the expected per-row accuracies). */
  accuracyStdErr: number;
}

/** Reference data for {@linkcode Cbpe.fit}. */
export interface CbpeReference {
  /** The model's probability of class 1. */
  scores: ArrayLike<number>;
  /** The realised 0/1 labels. */
  labels: ArrayLike<number>;
  /** Decision threshold (0.5). */
  threshold?: number;
  /** Calibrate: true, false, or "auto" (default: when it lowers ECE on held-out reference rows). */
  calibrate?: boolean | "auto";
}

/** A fitted CBPE estimator; see the module doc. */
export class Cbpe {
  readonly threshold: number;
  readonly calibrated: boolean;
  readonly #calibrator: (p: number) => number;

  private constructor(threshold: number, calibrator: ((p: number) => number) | undefined) {
    this.threshold = threshold;
    this.calibrated = calibrator !== undefined;
    this.#calibrator = calibrator ?? ((p) => p);
  }

  /** Fits the calibrator on labelled reference rows. */
  static fit(reference: CbpeReference): Cbpe {
    const { scores, labels } = reference;
    if (scores.length !== labels.length || scores.length < 2) {
      throw new MercuryError(
        "input",
        `CBPE reference needs ≥ 2 rows with one label per score (got ${scores.length} scores, ${labels.length} labels)`,
        {
          where: "CBPE reference",
          hint: "fit on a labelled reference window",
        },
      );
    }
    const threshold = reference.threshold ?? 0.5;
    const mode = reference.calibrate ?? "auto";
    if (mode === false) return new Cbpe(threshold, undefined);
    if (mode === true) return new Cbpe(threshold, fitIsotonic(scores, labels));
    // auto: fit on even rows, compare ECE on odd rows
    const even = (xs: ArrayLike<number>) => Array.from(xs).filter((_, i) => i % 2 === 0);
    const odd = (xs: ArrayLike<number>) => Array.from(xs).filter((_, i) => i % 2 === 1);
    const f = fitIsotonic(even(scores), even(labels));
    const before = calibration(odd(labels), odd(scores), 10).ece;
    const after = calibration(odd(labels), odd(scores).map(f), 10).ece;
    return new Cbpe(threshold, after < before ? fitIsotonic(scores, labels) : undefined);
  }

  /** The calibrated probability of class 1 for a raw score. */
  calibrate(score: number): number {
    return Math.min(1, Math.max(0, this.#calibrator(score)));
  }

  /** Estimated metrics of an unlabelled chunk of scores. */
  estimate(scores: ArrayLike<number>): CbpeEstimate {
    const n = scores.length;
    if (n === 0) {
      throw new MercuryError("input", "CBPE chunk is empty", {
        where: "CBPE estimate",
        hint: "pass at least one score",
      });
    }
    const p = new Float64Array(n);
    let tp = 0, fp = 0, fn = 0, tn = 0, varAcc = 0;
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      if (!(s >= 0 && s <= 1)) {
        throw new MercuryError("input", `score ${s} at row ${i} is not a probability`, {
          where: `CBPE chunk row ${i}`,
          hint: "pass the model's probability of class 1",
        });
      }
      const q = this.calibrate(s);
      p[i] = q;
      if (s >= this.threshold) {
        tp += q;
        fp += 1 - q;
        varAcc += q * (1 - q);
      } else {
        fn += q;
        tn += 1 - q;
        varAcc += q * (1 - q);
      }
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    return {
      n,
      accuracy: (tp + tn) / n,
      precision,
      recall,
      f1: 2 * tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
      rocAuc: expectedRocAuc(Float64Array.from(scores), p),
      expected: { tp, fp, fn, tn },
      accuracyStdErr: Math.sqrt(varAcc) / n,
    };
  }
}

/** ROC AUC of the expected curve: each row counts p as a positive and 1 − p as a negative. */
function expectedRocAuc(scores: Float64Array, p: Float64Array): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let tp = 0, fp = 0, prevTp = 0, prevFp = 0, area = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    tp += p[i]!;
    fp += 1 - p[i]!;
    const next = idx[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      area += (fp - prevFp) * (tp + prevTp) / 2;
      prevTp = tp;
      prevFp = fp;
    }
  }
  return tp === 0 || fp === 0 ? NaN : area / (tp * fp);
}
