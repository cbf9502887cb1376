/**
 * Permutation importance (as `sklearn.inspection.permutation_importance`):
 * the drop of a score when one feature's column is shuffled, averaged over
 * `repeats` seeded shuffles. Higher is more important; ≈ 0 means the model
 * does not use the feature.
 *
 * @example
 * ```ts
 * import { permutationImportance } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const x = Array.from({ length: 200 }, (_, i) => [i % 7, (i * 13) % 11]);
 * const y = x.map((r) => 2 * r[0]!);
 * const model = (rows: number[][]) => rows.map((r) => 2 * r[0]!);
 * const negMae = (t: ArrayLike<number>, p: ArrayLike<number>) => -Array.from(t).reduce((s, v, i) => s + Math.abs(v - p[i]!), 0) / t.length;
 * const imp = permutationImportance(model, x, y, negMae, { repeats: 3 });
 * assert.ok(imp[0]!.mean > 1 && imp[1]!.mean === 0);
 * ```
 *
 * @module
 */
import { seededRandom } from "@mercury/core/random";
import type { BatchModel } from "./shap.ts";

/** Importance of one feature. */
export interface FeatureImportance {
  feature: number;
  mean: number;
  std: number;
  /** Score drop of each repeat. */
  drops: number[];
}

/** Options of {@linkcode permutationImportance}. */
export interface PermutationImportanceOptions {
  repeats?: number;
  seed?: number;
}

/** Importance of every feature; `score(yTrue, yPred)` is higher-is-better. */
export function permutationImportance(
  model: BatchModel,
  x: number[][],
  y: ArrayLike<number>,
  score: (yTrue: ArrayLike<number>, yPred: ArrayLike<number>) => number,
  options: PermutationImportanceOptions = {},
): FeatureImportance[] {
  const repeats = options.repeats ?? 5;
  const rand = seededRandom(options.seed ?? 0);
  const baseline = score(y, model(x));
  const d = x[0]?.length ?? 0;
  return Array.from({ length: d }, (_, j) => {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const col = x.map((row) => row[j]!);
      for (let i = col.length - 1; i > 0; i--) {
        const k = Math.floor(rand() * (i + 1));
        [col[i], col[k]] = [col[k]!, col[i]!];
      }
      const shuffled = x.map((row, i) => row.map((v, c) => (c === j ? col[i]! : v)));
      drops.push(baseline - score(y, model(shuffled)));
    }
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / repeats);
    return { feature: j, mean, std, drops };
  });
}
