/**
 * SHAP values: exact for linear models (φⱼ = wⱼ·(xⱼ − E_bg[xⱼ]), as
 * `shap.LinearExplainer` with an independent background), exact
 * interventional Shapley values by enumerating coalitions for any model with
 * few features (the values `shap.KernelExplainer` converges to, and reaches
 * when it can enumerate every coalition), and KernelSHAP (Lundberg & Lee
 * 2017: coalitions sampled from the Shapley kernel in complementary pairs, a
 * least-squares fit with the efficiency constraint) for many features.
 * The value of a coalition S is the mean model output over the background
 * rows with the features of S taken from x. Models are batch functions from
 * rows to one output each (a probability, a log-odds, a regression value).
 *
 * @example
 * ```ts
 * import { exactShap, linearShap } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const background = [[0, 0], [2, 2]];
 * const lin = linearShap([1, -2], 0.5, background, [[3, 2]]);
 * assert.deepEqual(lin.values[0], [2, -2]);
 * const f = (rows: number[][]) => rows.map((r) => r[0]! * r[1]!);
 * const ex = exactShap(f, background, [[3, 1]]);
 * assert.ok(Math.abs(ex.values[0]![0]! + ex.values[0]![1]! + ex.baseValue - 3) < 1e-12);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { seededRandom } from "@mercury/core/random";
import { solveSymmetric } from "./_linalg.ts";

/** A model: rows in, one output per row. */
export type BatchModel = (rows: number[][]) => ArrayLike<number>;

/** SHAP values of explained rows. */
export interface ShapValues {
  /** values[i][j]: contribution of feature j to row i's output. */
  values: number[][];
  /** E[f(background)]: the output with no feature known. */
  baseValue: number;
  /** The explained rows. */
  data: number[][];
}

function checkRows(rows: number[][], d: number, what: string): void {
  rows.forEach((r, i) => {
    if (r.length !== d) {
      throw new MercuryError("input", `${what} row ${i} has ${r.length} features, expected ${d}`, {
        where: `${what}[${i}]`,
        hint: "pass rows with the model's features in order",
      });
    }
  });
}

/** Exact SHAP values of a linear model `intercept + w·x` against a background. */
export function linearShap(weights: number[], intercept: number, background: number[][], x: number[][]): ShapValues {
  const d = weights.length;
  if (background.length === 0) {
    throw new MercuryError("input", "background is empty", { where: "linearShap", hint: "pass background rows" });
  }
  checkRows(background, d, "background");
  checkRows(x, d, "x");
  const mean = new Array(d).fill(0);
  for (const r of background) for (let j = 0; j < d; j++) mean[j] += r[j]! / background.length;
  const baseValue = intercept + weights.reduce((s, w, j) => s + w * mean[j], 0);
  return { values: x.map((r) => r.map((v, j) => weights[j]! * (v - mean[j]))), baseValue, data: x };
}

/** Coalition values v(S) for a list of masks (bit j set: feature j from x). */
function coalitionValues(f: BatchModel, background: number[][], x: number[], masks: number[]): Float64Array {
  const rows: number[][] = [];
  for (const mask of masks) {
    for (const b of background) rows.push(b.map((v, j) => (mask & (1 << j) ? x[j]! : v)));
  }
  const out = f(rows);
  const values = new Float64Array(masks.length);
  const nb = background.length;
  for (let m = 0; m < masks.length; m++) {
    let s = 0;
    for (let k = 0; k < nb; k++) s += out[m * nb + k]!;
    values[m] = s / nb;
  }
  return values;
}

function baseOf(f: BatchModel, background: number[][]): number {
  const out = f(background);
  let s = 0;
  for (let i = 0; i < background.length; i++) s += out[i]!;
  return s / background.length;
}

/** Exact interventional Shapley values by enumerating all 2^M coalitions (M ≤ 16). */
export function exactShap(f: BatchModel, background: number[][], x: number[][]): ShapValues {
  const d = background[0]?.length ?? 0;
  if (d === 0 || d > 16) {
    throw new MercuryError("input", `exact SHAP enumerates 2^M coalitions; M = ${d} is out of 1…16`, {
      where: "exactShap",
      hint: "use kernelShap for many features",
    });
  }
  checkRows(background, d, "background");
  checkRows(x, d, "x");
  const full = 1 << d;
  const masks = Array.from({ length: full }, (_, m) => m);
  // Shapley weight of a coalition of size s: s!(M−s−1)!/M!
  const fact = [1];
  for (let i = 1; i <= d; i++) fact.push(fact[i - 1]! * i);
  const weight = Array.from({ length: d }, (_, s) => (fact[s]! * fact[d - s - 1]!) / fact[d]!);
  const popcount = (m: number) => {
    let c = 0;
    for (; m; m &= m - 1) c++;
    return c;
  };
  const values = x.map((row) => {
    const v = coalitionValues(f, background, row, masks);
    const phi = new Array(d).fill(0);
    for (let m = 0; m < full; m++) {
      const s = popcount(m);
      for (let j = 0; j < d; j++) if (!(m & (1 << j))) phi[j] += weight[s]! * (v[m | (1 << j)]! - v[m]!);
    }
    return phi;
  });
  return { values, baseValue: baseOf(f, background), data: x };
}

/** Options of {@linkcode kernelShap}. */
export interface KernelShapOptions {
  /** Coalitions evaluated per row (2·M + 2048 by default); enumerates all when ≥ 2^M − 2. */
  nsamples?: number;
  /** Seed of the coalition sampling (0). */
  seed?: number;
}

/**
 * KernelSHAP with a background sample. With a budget covering every coalition
 * it returns the exact values (see {@linkcode exactShap}); otherwise it samples.
 */
export function kernelShap(
  f: BatchModel,
  background: number[][],
  x: number[][],
  options: KernelShapOptions = {},
): ShapValues {
  const d = background[0]?.length ?? 0;
  if (d === 0) {
    throw new MercuryError("input", "background is empty", { where: "kernelShap", hint: "pass background rows" });
  }
  checkRows(background, d, "background");
  checkRows(x, d, "x");
  const nsamples = options.nsamples ?? 2 * d + 2048;
  if (d <= 16 && nsamples >= 2 ** d - 2) return exactShap(f, background, x);
  if (d > 30) {
    throw new MercuryError("input", `kernelShap supports up to 30 features, got ${d}`, {
      where: "kernelShap",
      hint: "group features or explain fewer",
    });
  }
  const rand = seededRandom(options.seed ?? 0);
  // subset sizes 1…M−1 drawn ∝ (M−1)/(s(M−s)); each draw adds the coalition and its complement
  const sizeW = Array.from({ length: d - 1 }, (_, i) => (d - 1) / ((i + 1) * (d - i - 1)));
  const total = sizeW.reduce((a, b) => a + b, 0);
  const masks: number[] = [];
  for (let k = 0; k < Math.floor(nsamples / 2); k++) {
    let u = rand() * total, s = 1;
    for (; s < d - 1 && u > sizeW[s - 1]!; s++) u -= sizeW[s - 1]!;
    const idx = Array.from({ length: d }, (_, j) => j);
    for (let i = 0; i < s; i++) {
      const j = i + Math.floor(rand() * (d - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    let m = 0;
    for (let i = 0; i < s; i++) m |= 1 << idx[i]!;
    masks.push(m, ~m & ((1 << d) - 1));
  }
  const base = baseOf(f, background);
  const values = x.map((row) => {
    const v = coalitionValues(f, background, row, masks);
    const fx = f([row])[0]!;
    const delta = fx - base;
    // efficiency constraint: φ_{M−1} = Δ − Σ_{j<M−1} φ_j; least squares on the rest
    const p = d - 1;
    const ata = new Float64Array(p * p), atb = new Float64Array(p);
    for (let k = 0; k < masks.length; k++) {
      const m = masks[k]!;
      const zl = (m >> (d - 1)) & 1;
      const y = v[k]! - base - zl * delta;
      for (let a = 0; a < p; a++) {
        const za = ((m >> a) & 1) - zl;
        if (za === 0) continue;
        atb[a]! += za * y;
        for (let b = 0; b < p; b++) ata[a * p + b]! += za * (((m >> b) & 1) - zl);
      }
    }
    const phi = Array.from(solveSymmetric(ata, atb, p));
    phi.push(delta - phi.reduce((a, b) => a + b, 0));
    return phi;
  });
  return { values, baseValue: base, data: x };
}
