/**
 * The models a federated client trains: linear and logistic regression in
 * plain TypeScript (weights then bias, one flat vector) and a small tfjs MLP
 * (loaded only when asked for). Local training is mini-batch SGD for
 * `epochs` passes; FedProx adds the proximal term μ/2‖w − w_global‖² to the
 * local loss (Li et al. 2020), which pulls clients with skewed data towards
 * the global model.
 *
 * @example
 * ```ts
 * import { loadModel } from "@mercury/privacy/federated/models";
 * import { makeDataset } from "@mercury/privacy/federated/data";
 * import assert from "node:assert/strict";
 *
 * const data = makeDataset("classification", 2000, 1);
 * const model = await loadModel("logistic_regression", data.train.d);
 * const w = await model.train(model.init(1), data.train, { epochs: 5, lr: 0.1, batch: 32, mu: 0, seed: 1 });
 * assert.ok(model.evaluate(w, data.test).accuracy! > 0.7);
 * ```
 *
 * @module
 */
import { permutation, type Table } from "./data.ts";

/** The model kinds `privacy federated --model` takes. */
export const MODEL_KINDS = ["linear_regression", "logistic_regression", "mlp"] as const;
/** One of {@linkcode MODEL_KINDS}. */
export type ModelKind = typeof MODEL_KINDS[number];

/** Local training settings. */
export interface TrainOptions {
  epochs: number;
  lr: number;
  batch: number;
  /** FedProx's proximal weight μ (0 is FedAvg). */
  mu: number;
  seed: number;
}

/** Loss, and accuracy for classifiers. */
export interface Evaluation {
  loss: number;
  accuracy?: number;
}

/** A model as a flat parameter vector and the functions over it. */
export interface Model {
  kind: ModelKind;
  /** Number of parameters. */
  dim: number;
  init(seed: number): number[];
  /** Local training from `w`; returns the new weights. */
  train(w: readonly number[], data: Table, options: TrainOptions): Promise<number[]>;
  evaluate(w: readonly number[], data: Table): Evaluation;
}

/** The model of `kind` over `d` features; `mlp` loads tfjs. */
export async function loadModel(kind: ModelKind, d: number): Promise<Model> {
  if (kind === "mlp") return (await import("./mlp.ts")).mlpModel(d);
  return glm(kind, d);
}

const sigmoid = (z: number) => z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

function glm(kind: "linear_regression" | "logistic_regression", d: number): Model {
  const logistic = kind === "logistic_regression";
  const predict = (w: readonly number[], x: readonly number[], i: number) => {
    let z = w[d]!;
    for (let j = 0; j < d; j++) z += w[j]! * x[i * d + j]!;
    return logistic ? sigmoid(z) : z;
  };
  return {
    kind,
    dim: d + 1,
    init: () => new Array(d + 1).fill(0),
    train(w0, data, o) {
      const w = [...w0];
      const n = data.y.length;
      const grad = new Array(d + 1).fill(0);
      for (let e = 0; e < o.epochs; e++) {
        const order = permutation(n, o.seed * 7919 + e);
        for (let b = 0; b < n; b += o.batch) {
          grad.fill(0);
          const end = Math.min(n, b + o.batch);
          for (let k = b; k < end; k++) {
            const i = order[k]!;
            const r = predict(w, data.x, i) - data.y[i]!;
            for (let j = 0; j < d; j++) grad[j] += r * data.x[i * d + j]!;
            grad[d] += r;
          }
          const m = end - b;
          for (let j = 0; j <= d; j++) w[j] = w[j]! - o.lr * (grad[j]! / m + o.mu * (w[j]! - w0[j]!));
        }
      }
      return Promise.resolve(w);
    },
    evaluate(w, data) {
      const n = data.y.length;
      let loss = 0, right = 0;
      for (let i = 0; i < n; i++) {
        const p = predict(w, data.x, i);
        const y = data.y[i]!;
        if (logistic) {
          const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
          loss -= y * Math.log(q) + (1 - y) * Math.log(1 - q);
          if ((p >= 0.5 ? 1 : 0) === y) right++;
        } else loss += (p - y) ** 2;
      }
      return logistic ? { loss: loss / n, accuracy: right / n } : { loss: loss / n };
    },
  };
}
