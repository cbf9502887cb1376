/**
 * Calibration of a binary classifier: reliability bins as
 * `sklearn.calibration.calibration_curve(strategy="uniform")` (bin edges
 * `linspace(0, 1, nBins + 1)`, a probability on an inner edge goes to the
 * lower bin, empty bins dropped) and the expected calibration error
 * ECE = Σ (nᵦ/N)·|accuracyᵦ − confidenceᵦ| over the same bins.
 *
 * @example
 * ```ts
 * import { calibration } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const c = calibration([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 5);
 * assert.deepEqual(c.bins.map((b) => b.fractionPositive), [0, 1, 1]);
 * assert.ok(Math.abs(c.ece - 0.15) < 1e-12);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** One non-empty reliability bin. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability (`prob_pred`). */
  meanPredicted: number;
  /** Observed share of positives (`prob_true`). */
  fractionPositive: number;
}

/** Reliability bins and the expected calibration error. */
export interface Calibration {
  bins: ReliabilityBin[];
  ece: number;
}

/** Reliability diagram bins and ECE of `probs` (probability of class 1) against 0/1 labels. */
export function calibration(yTrue: ArrayLike<number>, probs: ArrayLike<number>, nBins = 10): Calibration {
  if (yTrue.length !== probs.length || yTrue.length === 0) {
    throw new MercuryError("input", `probs has ${probs.length} values but y_true has ${yTrue.length}`, {
      where: "probs",
      hint: "pass one probability per labelled row",
    });
  }
  const count = new Float64Array(nBins), sumP = new Float64Array(nBins), sumY = new Float64Array(nBins);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (!(p >= 0 && p <= 1)) {
      throw new MercuryError("input", `probability ${p} at row ${i} is outside [0, 1]`, {
        where: `probs[${i}]`,
        hint: "pass probabilities of class 1",
      });
    }
    // searchsorted(edges[1:-1], p, side="left"): the number of inner edges strictly below p
    let b = Math.ceil(p * nBins) - 1;
    if (b < 0) b = 0;
    // guard floating error against the exact edge values linspace produces
    while (b > 0 && p <= b * (1 / nBins)) b--;
    while (b < nBins - 1 && p > (b + 1) * (1 / nBins)) b++;
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += yTrue[i]!;
  }
  const bins: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < nBins; b++) {
    if (count[b] === 0) continue;
    const c = count[b]!;
    const bin = {
      lower: b / nBins,
      upper: (b + 1) / nBins,
      count: c,
      meanPredicted: sumP[b]! / c,
      fractionPositive: sumY[b]! / c,
    };
    bins.push(bin);
    ece += (c / probs.length) * Math.abs(bin.fractionPositive - bin.meanPredicted);
  }
  return { bins, ece };
}
