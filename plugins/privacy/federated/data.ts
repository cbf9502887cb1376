/**
 * Seeded tabular data for federated and DP-SGD runs, and how it is split
 * among clients. The classification set is a synthetic clinical table
 * (age, BMI, blood pressure, cholesterol, glucose, smoker, exercise, family
 * history) whose label comes from a known logistic model with one
 * interaction, so a linear model reaches ~80% accuracy and the ceiling is
 * known; the regression set is a linear model plus Gaussian noise. Columns
 * are standardised, and the last 20% of rows is a held-out test set the
 * coordinator keeps.
 *
 * Splits: `iid` shuffles rows and deals them out evenly; `non-iid` sorts by
 * label and deals two shards per client (McMahan et al. 2017), so most
 * clients see mostly one class.
 *
 * @example
 * ```ts
 * import { makeDataset, splitClients } from "@mercury/privacy/federated/data";
 * import assert from "node:assert/strict";
 *
 * const data = makeDataset("classification", 1000, 7);
 * const parts = splitClients(data.train, 5, "iid", 7);
 * assert.equal(parts.length, 5);
 * assert.equal(parts.reduce((s, p) => s + p.y.length, 0), data.train.y.length);
 * ```
 *
 * @module
 */
import { normal, seededRandom } from "@mercury/core/random";

/** Rows as a flat row-major matrix `x` (`y.length` × `d`) and targets `y`. */
export interface Table {
  d: number;
  x: number[];
  y: number[];
}

/** A training table, a held-out test table and the feature names. */
export interface Dataset {
  task: "classification" | "regression";
  features: string[];
  train: Table;
  test: Table;
}

/** The clinical feature names of the classification set. */
export const CLINICAL_FEATURES = [
  "age",
  "bmi",
  "systolic_bp",
  "cholesterol",
  "glucose",
  "smoker",
  "exercise_hours",
  "family_history",
];

/** Raw (unstandardised) clinical rows: one object of the features plus `outcome` (0/1) per row. */
export function clinicalRows(n: number, seed: number): Record<string, number>[] {
  const rnd = seededRandom(seed);
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < n; i++) {
    const age = Math.round(Math.min(90, Math.max(18, normal(rnd, 50, 15))));
    const bmi = Math.max(15, normal(rnd, 27 + (age - 50) * 0.03, 4.5));
    const sbp = Math.max(90, normal(rnd, 120 + (age - 50) * 0.5 + (bmi - 27) * 0.8, 12));
    const chol = Math.max(120, normal(rnd, 200 + (age - 50) * 0.6, 30));
    const glucose = Math.max(60, normal(rnd, 95 + (bmi - 27) * 1.5, 15));
    const smoker = rnd() < 0.22 ? 1 : 0;
    const exercise = Math.max(0, normal(rnd, 3 - (bmi - 27) * 0.1, 2));
    const family = rnd() < 0.3 ? 1 : 0;
    const z = -0.6 + 0.045 * (age - 50) + 0.08 * (bmi - 27) + 0.025 * (sbp - 125) + 0.01 * (chol - 205) +
      0.02 * (glucose - 98) + 0.9 * smoker - 0.2 * (exercise - 3) + 0.7 * family + 0.6 * smoker * family;
    const outcome = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    rows.push({
      age,
      bmi: round2(bmi),
      systolic_bp: Math.round(sbp),
      cholesterol: Math.round(chol),
      glucose: Math.round(glucose),
      smoker,
      exercise_hours: round2(exercise),
      family_history: family,
      outcome,
    });
  }
  return rows;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * A seeded data set of `n` rows: `classification` (the clinical table,
 * label `outcome`) or `regression` (8 Gaussian features, y = x·w + 0.5 + ε).
 */
export function makeDataset(task: "classification" | "regression", n: number, seed: number): Dataset {
  if (!(Number.isInteger(n) && n >= 20)) throw new RangeError(`a data set needs at least 20 rows, got ${n}`);
  let features: string[];
  const x: number[] = [];
  const y: number[] = [];
  if (task === "classification") {
    features = CLINICAL_FEATURES;
    for (const row of clinicalRows(n, seed)) {
      for (const f of features) x.push(row[f]!);
      y.push(row.outcome!);
    }
  } else {
    const rnd = seededRandom(seed);
    features = Array.from({ length: 8 }, (_, j) => `x${j}`);
    const w = features.map((_, j) => (j % 2 === 0 ? 1 : -1) * (0.5 + j * 0.25));
    for (let i = 0; i < n; i++) {
      let t = 0.5;
      for (let j = 0; j < 8; j++) {
        const v = normal(rnd);
        x.push(v);
        t += v * w[j]!;
      }
      y.push(t + normal(rnd, 0, 0.5));
    }
  }
  standardise(x, features.length);
  const cut = Math.floor(n * 0.8);
  const d = features.length;
  return {
    task,
    features,
    train: { d, x: x.slice(0, cut * d), y: y.slice(0, cut) },
    test: { d, x: x.slice(cut * d), y: y.slice(cut) },
  };
}

function standardise(x: number[], d: number): void {
  const n = x.length / d;
  for (let j = 0; j < d; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j]!;
    const mean = s / n;
    for (let i = 0; i < n; i++) s2 += (x[i * d + j]! - mean) ** 2;
    const sd = Math.sqrt(s2 / n) || 1;
    for (let i = 0; i < n; i++) x[i * d + j] = (x[i * d + j]! - mean) / sd;
  }
}

/** The rows of `t` at `idx`, in that order. */
export function takeRows(t: Table, idx: readonly number[]): Table {
  const x: number[] = [];
  const y: number[] = [];
  for (const i of idx) {
    for (let j = 0; j < t.d; j++) x.push(t.x[i * t.d + j]!);
    y.push(t.y[i]!);
  }
  return { d: t.d, x, y };
}

/** A seeded Fisher–Yates permutation of 0…n-1. */
export function permutation(n: number, seed: number): number[] {
  const rnd = seededRandom(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(rnd() * (i + 1));
    [p[i], p[k]] = [p[k]!, p[i]!];
  }
  return p;
}

/** Splits `t` among `clients`: `iid` (shuffled, even) or `non-iid` (label-sorted, two shards each). */
export function splitClients(t: Table, clients: number, mode: "iid" | "non-iid", seed: number): Table[] {
  const n = t.y.length;
  if (!(Number.isInteger(clients) && clients >= 1 && clients * 2 <= n)) {
    throw new RangeError(`cannot split ${n} rows among ${clients} clients; use between 1 and ${Math.floor(n / 2)}`);
  }
  const perm = permutation(n, seed);
  if (mode === "iid") {
    return Array.from({ length: clients }, (_, c) => takeRows(t, perm.filter((_, k) => k % clients === c)));
  }
  const sorted = [...perm].sort((a, b) => t.y[a]! - t.y[b]! || a - b);
  const shards = clients * 2;
  const size = Math.floor(n / shards);
  const order = permutation(shards, seed + 1);
  return Array.from({ length: clients }, (_, c) => {
    const idx: number[] = [];
    for (const s of [order[2 * c]!, order[2 * c + 1]!]) {
      const end = s === shards - 1 ? n : (s + 1) * size;
      idx.push(...sorted.slice(s * size, end));
    }
    return takeRows(t, idx);
  });
}
