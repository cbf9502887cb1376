/**
 * DP-SGD (Abadi et al. 2016) for centralised training of a logistic
 * regression or a one-hidden-layer MLP in tfjs: Poisson-sampled lots at rate
 * q = L/N, every example's gradient clipped to L2 norm C, Gaussian noise
 * N(0, σ²C²) added to the clipped sum, divided by the expected lot size L.
 * ε comes from the RDP accountant of the Poisson-subsampled Gaussian
 * (`accounting/rdp.ts`); given a target ε, σ is found by bisection
 * (`noiseMultiplierFor`).
 *
 * Per-example gradients without a loop over examples: for a dense layer the
 * gradient of example i is the outer product a_i ⊗ δ_i of its input and its
 * back-propagated error, so its squared norm is ‖a_i‖²·‖δ_i‖² (plus ‖δ_i‖² for
 * the bias) and the clipped sum is aᵀ·diag(c)·δ (Goodfellow 2015, the
 * "ghost norm" trick Opacus also uses). The test checks these gradients
 * against tfjs's autodiff one example at a time.
 *
 * @example
 * ```ts
 * import { trainDpSgd } from "@mercury/privacy/dpsgd";
 * import { makeDataset } from "@mercury/privacy/federated/data";
 * import assert from "node:assert/strict";
 *
 * const data = makeDataset("classification", 4000, 5);
 * const r = await trainDpSgd({ train: data.train, test: data.test, epsilon: 3, delta: 1e-5, epochs: 2, seed: 5 });
 * assert.ok(r.epsilon <= 3.0001 && r.accuracy > 0.6);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { normal, seededRandom } from "@mercury/core/random";
import { noiseMultiplierFor, RdpAccountant } from "./accounting/rdp.ts";
import type { Table } from "./federated/data.ts";

/** Settings of {@linkcode trainDpSgd}. */
export interface DpSgdOptions {
  train: Table;
  test: Table;
  /** Hidden units; 0 trains a logistic regression (default 16). */
  hidden?: number;
  epochs?: number;
  /** Expected lot size L (default 128). */
  lot?: number;
  lr?: number;
  /** Per-example clipping norm C (default 1). */
  clip?: number;
  /** Target ε; σ is derived from it. Omit with `noiseMultiplier` absent for non-private training. */
  epsilon?: number;
  noiseMultiplier?: number;
  delta?: number;
  seed?: number;
}

/** The outcome of a DP-SGD run. */
export interface DpSgdResult {
  accuracy: number;
  /** ε spent at `delta` (Infinity for non-private training). */
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  steps: number;
  ms: number;
}

let ready: Promise<void> | undefined;

/** The clipped per-example gradient sum of one lot, with each example's unclipped norm. */
export function clippedGradients(
  params: tf.Tensor[],
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  clip: number,
): { grads: tf.Tensor[]; norms: tf.Tensor1D } {
  return tf.tidy(() => {
    const sq = (t: tf.Tensor) => tf.sum(tf.square(t), 1); // per row
    const [w1, b1, w2, b2] = params;
    if (!w2) {
      const dz = tf.sub(tf.sigmoid(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1!)), y) as tf.Tensor2D;
      const norms = tf.sqrt(tf.mul(tf.add(sq(x), 1), sq(dz))) as tf.Tensor1D;
      const c = tf.minimum(1, tf.div(clip, tf.maximum(norms, 1e-12))).reshape([-1, 1]);
      const cdz = tf.mul(dz, c) as tf.Tensor2D;
      return { grads: [tf.matMul(x, cdz, true, false), tf.sum(cdz, 0, true)], norms };
    }
    const z1 = tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1!) as tf.Tensor2D;
    const h = tf.relu(z1) as tf.Tensor2D;
    const dz2 = tf.sub(tf.sigmoid(tf.add(tf.matMul(h, w2 as tf.Tensor2D), b2!)), y) as tf.Tensor2D;
    const dz1 = tf.mul(tf.matMul(dz2, w2 as tf.Tensor2D, false, true), tf.step(z1)) as tf.Tensor2D;
    const norms = tf.sqrt(tf.add(tf.mul(tf.add(sq(x), 1), sq(dz1)), tf.mul(tf.add(sq(h), 1), sq(dz2)))) as tf.Tensor1D;
    const c = tf.minimum(1, tf.div(clip, tf.maximum(norms, 1e-12))).reshape([-1, 1]);
    const c1 = tf.mul(dz1, c) as tf.Tensor2D, c2 = tf.mul(dz2, c) as tf.Tensor2D;
    return {
      grads: [tf.matMul(x, c1, true, false), tf.sum(c1, 0, true), tf.matMul(h, c2, true, false), tf.sum(c2, 0, true)],
      norms,
    };
  });
}

/** Builds the parameters of the model (`hidden` 0: logistic regression). */
export function initParams(d: number, hidden: number, seed: number): tf.Variable[] {
  const rnd = seededRandom(seed);
  const dense = (a: number, b: number) =>
    tf.variable(tf.tensor2d(Array.from({ length: a * b }, () => (rnd() * 2 - 1) * Math.sqrt(2 / a)), [a, b]));
  const bias = (b: number) => tf.variable(tf.zeros([1, b]));
  return hidden === 0 ? [dense(d, 1), bias(1)] : [dense(d, hidden), bias(hidden), dense(hidden, 1), bias(1)];
}

/** Trains with DP-SGD (or without privacy when neither `epsilon` nor `noiseMultiplier` is given). */
export async function trainDpSgd(o: DpSgdOptions): Promise<DpSgdResult> {
  // Production mode: no per-op NaN checks, and no "install tfjs-node" banner on stderr (it would show in notebooks).
  ready ??= (tf.enableProdMode(), tf.setBackend("cpu").then(() => tf.ready()));
  await ready;
  const started = performance.now();
  const n = o.train.y.length, d = o.train.d;
  const hidden = o.hidden ?? 16, epochs = o.epochs ?? 5, lot = o.lot ?? 128, lr = o.lr ?? 0.5;
  const clip = o.clip ?? 1, delta = o.delta ?? 1e-5, seed = o.seed ?? 1;
  if (o.epsilon !== undefined && !(o.epsilon > 0)) {
    throw new RangeError(`epsilon must be > 0, got ${o.epsilon}; use a positive privacy budget`);
  }
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  const q = Math.min(1, lot / n);
  const steps = Math.max(1, Math.round((epochs * n) / lot));
  const sigma = o.noiseMultiplier ??
    (o.epsilon !== undefined ? noiseMultiplierFor({ epsilon: o.epsilon, delta }, q, steps) : 0);
  const priv = sigma > 0;
  const rnd = seededRandom(seed * 7 + 1);
  const params = initParams(d, hidden, seed);
  const X = tf.tensor2d(o.train.x, [n, d]);
  const Y = tf.tensor2d(o.train.y, [n, 1]);
  for (let s = 0; s < steps; s++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (rnd() < q) idx.push(i);
    if (idx.length === 0) continue;
    tf.tidy(() => {
      const ix = tf.tensor1d(idx, "int32");
      const { grads } = clippedGradients(params, tf.gather(X, ix), tf.gather(Y, ix), priv ? clip : Infinity);
      grads.forEach((g, k) => {
        const noise = priv
          ? tf.tensor(Array.from({ length: g.size }, () => normal(rnd, 0, sigma * clip)), g.shape)
          : tf.zerosLike(g);
        const denom = priv ? lot : idx.length;
        params[k]!.assign(tf.sub(params[k]!, tf.mul(lr / denom, tf.add(g, noise))));
      });
    });
  }
  const accuracy = tf.tidy(() => {
    const xt = tf.tensor2d(o.test.x, [o.test.y.length, d]);
    let z = tf.add(tf.matMul(xt, params[0] as tf.Tensor2D), params[1]!) as tf.Tensor2D;
    if (hidden > 0) z = tf.add(tf.matMul(tf.relu(z), params[2] as tf.Tensor2D), params[3]!) as tf.Tensor2D;
    const p = z.dataSync();
    let right = 0;
    for (let i = 0; i < p.length; i++) if ((p[i]! >= 0 ? 1 : 0) === o.test.y[i]) right++;
    return right / p.length;
  });
  tf.dispose([...params, X, Y]);
  const epsilon = priv
    ? new RdpAccountant().composeSubsampledGaussian({ q, sigma, steps }).epsilon(delta).epsilon
    : Infinity;
  return { accuracy, epsilon, delta, noiseMultiplier: sigma, steps, ms: performance.now() - started };
}

/** One row of the DP-SGD utility figure. */
export interface UtilityRow {
  epsilon: number | "non-private";
  seed: number;
  accuracy: number;
  noiseMultiplier: number;
}

/** Accuracy at each ε (and without privacy) over `seeds`, on the same data, lots and epochs. */
export async function dpsgdUtility(
  data: { train: Table; test: Table },
  epsilons: readonly number[],
  seeds: readonly number[],
  options: Omit<DpSgdOptions, "train" | "test" | "epsilon" | "seed"> = {},
): Promise<UtilityRow[]> {
  const rows: UtilityRow[] = [];
  for (const seed of seeds) {
    const base = await trainDpSgd({ ...data, ...options, seed });
    rows.push({ epsilon: "non-private", seed, accuracy: base.accuracy, noiseMultiplier: 0 });
    for (const epsilon of epsilons) {
      const r = await trainDpSgd({ ...data, ...options, epsilon, seed });
      rows.push({ epsilon, seed, accuracy: r.accuracy, noiseMultiplier: r.noiseMultiplier });
    }
  }
  return rows;
}
