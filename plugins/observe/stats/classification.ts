/**
 * Classification metrics with scikit-learn's semantics: accuracy, precision,
 * recall and F1 (binary, macro, micro, weighted), the confusion matrix, ROC
 * AUC, PR AUC (average precision, as `sklearn.metrics.average_precision_score`)
 * and log loss. Labels are integers; scores are probabilities of class 1.
 * Division by zero gives 0 (scikit-learn's `zero_division="warn"` value).
 * `tests/observe/stats_metrics_test.ts` checks every value against
 * scikit-learn 1.9 to 1e-12.
 *
 * @example
 * ```ts
 * import { classificationReport } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const r = classificationReport([0, 1, 1, 0], [0, 1, 0, 0], { scores: [0.1, 0.9, 0.4, 0.3] });
 * assert.equal(r.accuracy, 0.75);
 * assert.equal(r.binary.precision, 1);
 * assert.equal(r.rocAuc, 1);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** How per-class scores are combined. */
export type Average = "binary" | "macro" | "micro" | "weighted";

/** Precision, recall and F1 of one averaging. */
export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

/** Labels as any numeric array. */
export type Labels = ArrayLike<number>;

function checkPair(yTrue: ArrayLike<number>, other: ArrayLike<number>, what: string): void {
  if (yTrue.length !== other.length) {
    throw new MercuryError("input", `${what} has ${other.length} values but y_true has ${yTrue.length}`, {
      where: what,
      hint: "pass one value per row",
    });
  }
  if (yTrue.length === 0) {
    throw new MercuryError("input", "no rows to score", { where: what, hint: "pass at least one row" });
  }
}

/** Fraction of rows where the prediction equals the label. */
export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkPair(yTrue, yPred, "y_pred");
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** A confusion matrix: `matrix[i][j]` counts rows with label `labels[i]` predicted as `labels[j]`. */
export interface ConfusionMatrix {
  labels: number[];
  matrix: number[][];
}

/** Confusion matrix over the sorted union of labels (as `sklearn.metrics.confusion_matrix`). */
export function confusionMatrix(yTrue: Labels, yPred: Labels, labels?: number[]): ConfusionMatrix {
  checkPair(yTrue, yPred, "y_pred");
  const ls = labels ?? [...new Set([...Array.from(yTrue), ...Array.from(yPred)])].sort((a, b) => a - b);
  const index = new Map(ls.map((l, i) => [l, i]));
  const matrix = ls.map(() => ls.map(() => 0));
  for (let i = 0; i < yTrue.length; i++) {
    const a = index.get(yTrue[i]!), b = index.get(yPred[i]!);
    if (a !== undefined && b !== undefined) matrix[a]![b]!++;
  }
  return { labels: ls, matrix };
}

const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1Of = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Precision, recall and F1 with one averaging; `binary` scores `posLabel`
 * (default 1). F1 per class is computed from that class's precision and recall.
 */
export function precisionRecallF1(yTrue: Labels, yPred: Labels, average: Average = "binary", posLabel = 1): PRF {
  const { labels, matrix } = confusionMatrix(yTrue, yPred);
  const k = labels.length;
  const tp = labels.map((_, i) => matrix[i]![i]!);
  const predicted = labels.map((_, j) => matrix.reduce((s, row) => s + row[j]!, 0));
  const support = matrix.map((row) => row.reduce((s, v) => s + v, 0));
  if (average === "binary") {
    const i = labels.indexOf(posLabel);
    if (k > 2) {
      throw new MercuryError("input", `average "binary" needs two classes, found ${k}`, {
        where: "y_true/y_pred",
        hint: 'use average "macro", "micro" or "weighted"',
      });
    }
    if (i < 0) return { precision: 0, recall: 0, f1: 0 };
    const p = div(tp[i]!, predicted[i]!), r = div(tp[i]!, support[i]!);
    return { precision: p, recall: r, f1: f1Of(p, r) };
  }
  if (average === "micro") {
    const t = tp.reduce((a, b) => a + b, 0);
    const p = div(t, predicted.reduce((a, b) => a + b, 0)), r = div(t, support.reduce((a, b) => a + b, 0));
    return { precision: p, recall: r, f1: f1Of(p, r) };
  }
  const ps = tp.map((t, i) => div(t, predicted[i]!));
  const rs = tp.map((t, i) => div(t, support[i]!));
  const fs = ps.map((p, i) => f1Of(p, rs[i]!));
  const total = support.reduce((a, b) => a + b, 0);
  const w = average === "weighted" ? support.map((s) => s / total) : labels.map(() => 1 / k);
  const avg = (xs: number[]) => xs.reduce((s, x, i) => s + x * w[i]!, 0);
  return { precision: avg(ps), recall: avg(rs), f1: avg(fs) };
}

/** Sorts indices by score descending (stable). */
function byScoreDesc(scores: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** Area under the ROC curve for binary labels (ties count one half, as scikit-learn's trapezoids). */
export function rocAuc(yTrue: Labels, scores: ArrayLike<number>): number {
  checkPair(yTrue, scores, "scores");
  const idx = byScoreDesc(scores);
  let tp = 0, fp = 0, prevTp = 0, prevFp = 0, area = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (yTrue[i] === 1) tp++;
    else fp++;
    const next = idx[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      area += (fp - prevFp) * (tp + prevTp) / 2;
      prevTp = tp;
      prevFp = fp;
    }
  }
  if (tp === 0 || fp === 0) {
    throw new MercuryError("input", "ROC AUC needs both classes in y_true", {
      where: "y_true",
      hint: "score a window that holds positives and negatives",
    });
  }
  return area / (tp * fp);
}

/** Average precision Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds (scikit-learn's PR AUC). */
export function averagePrecision(yTrue: Labels, scores: ArrayLike<number>): number {
  checkPair(yTrue, scores, "scores");
  const idx = byScoreDesc(scores);
  let positives = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === 1) positives++;
  if (positives === 0) return 0;
  let tp = 0, fp = 0, prevRecall = 0, ap = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (yTrue[i] === 1) tp++;
    else fp++;
    const next = idx[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      const recall = tp / positives;
      ap += (recall - prevRecall) * (tp / (tp + fp));
      prevRecall = recall;
    }
  }
  return ap;
}

/** Mean binary cross-entropy, probabilities clipped to [ε, 1−ε] with ε = 2⁻⁵² (scikit-learn ≥ 1.3). */
export function logLoss(yTrue: Labels, probs: ArrayLike<number>): number {
  checkPair(yTrue, probs, "probs");
  const eps = Number.EPSILON;
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probs[i]!));
    s -= yTrue[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / yTrue.length;
}

/** Every classification metric of one window. */
export interface ClassificationReport {
  n: number;
  accuracy: number;
  binary: PRF;
  macro: PRF;
  micro: PRF;
  weighted: PRF;
  confusion: ConfusionMatrix;
  /** Present when scores were given and both classes occur. */
  rocAuc?: number;
  prAuc?: number;
  logLoss?: number;
}

/** All metrics at once; `scores` (probability of class 1) adds ROC AUC, PR AUC and log loss. */
export function classificationReport(
  yTrue: Labels,
  yPred: Labels,
  options: { scores?: ArrayLike<number>; posLabel?: number } = {},
): ClassificationReport {
  const labels = new Set([...Array.from(yTrue), ...Array.from(yPred)]);
  const report: ClassificationReport = {
    n: yTrue.length,
    accuracy: accuracy(yTrue, yPred),
    binary: labels.size <= 2
      ? precisionRecallF1(yTrue, yPred, "binary", options.posLabel)
      : { precision: NaN, recall: NaN, f1: NaN },
    macro: precisionRecallF1(yTrue, yPred, "macro"),
    micro: precisionRecallF1(yTrue, yPred, "micro"),
    weighted: precisionRecallF1(yTrue, yPred, "weighted"),
    confusion: confusionMatrix(yTrue, yPred),
  };
  if (options.scores) {
    let pos = 0;
    for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === 1) pos++;
    if (pos > 0 && pos < yTrue.length) report.rocAuc = rocAuc(yTrue, options.scores);
    report.prAuc = averagePrecision(yTrue, options.scores);
    report.logLoss = logLoss(yTrue, options.scores);
  }
  return report;
}
