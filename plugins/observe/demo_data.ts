/**
 * Seeded synthetic data for the notebook, tests and benchmark: a binary
 * "churn" problem (4 numeric features, logistic ground truth) and a
 * "basket" regression (3 features, linear plus noise). `shift` moves the
 * features' means (covariate drift) and `flip` changes the ground truth
 * (concept drift), so a monitor has something to react to.
 *
 * @example
 * ```ts
 * import { churnData } from "./demo_data.ts";
 * import assert from "node:assert/strict";
 *
 * const d = churnData(100, { seed: 1 });
 * assert.equal(d.x.length, 100);
 * assert.deepEqual(d.features, ["tenure", "spend", "tickets", "discount"]);
 * ```
 *
 * @module
 */
import { normal, seededRandom } from "@mercury/core/random";

/** Rows, labels and feature names. */
export interface DemoData {
  features: string[];
  x: number[][];
  y: number[];
}

/** Drift knobs. */
export interface DemoOptions {
  seed?: number;
  /** Added to every feature's mean (covariate drift). */
  shift?: number;
  /** 0…1: how far the true relation moves away from the trained one (concept drift). */
  flip?: number;
}

/** Binary churn data: y ~ Bernoulli(sigmoid(w·x + b)). */
export function churnData(n: number, o: DemoOptions = {}): DemoData {
  const rnd = seededRandom(o.seed ?? 1);
  const shift = o.shift ?? 0, flip = o.flip ?? 0;
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = [
      normal(rnd, shift, 1),
      normal(rnd, shift, 1),
      normal(rnd, shift * 0.5, 1),
      normal(rnd, 0, 1),
    ];
    const z = (1 - 2 * flip) * (1.5 * r[0]! - 1.0 * r[1]!) + 0.8 * r[2]! + 2 * flip * r[3]! - 0.2;
    x.push(r);
    y.push(rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
  }
  return { features: ["tenure", "spend", "tickets", "discount"], x, y };
}

/** Basket-size regression: y = 3 + 2·a − b + 0.5·c + noise. */
export function basketData(n: number, o: DemoOptions = {}): DemoData {
  const rnd = seededRandom(o.seed ?? 2);
  const shift = o.shift ?? 0, flip = o.flip ?? 0;
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = [normal(rnd, shift, 1), normal(rnd, shift, 1), normal(rnd, 0, 1)];
    x.push(r);
    y.push(3 + (2 - 4 * flip) * r[0]! - r[1]! + 0.5 * r[2]! + normal(rnd, 0, 0.3));
  }
  return { features: ["items", "visits", "coupon"], x, y };
}
