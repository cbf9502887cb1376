import assert from "node:assert/strict";
import { normal, seededRandom } from "@mercury/core/random";
import { MercuryError } from "@mercury/core";
import { exactShap, kernelShap, linearShap, permutationImportance } from "@mercury/observe/stats";
import { runPython } from "./_stats_peer.ts";

const r = seededRandom(5);
const matrix = (n: number, d: number) => Array.from({ length: n }, () => Array.from({ length: d }, () => normal(r)));
const background = matrix(25, 5);
const explain = matrix(6, 5);
const weights = [0.7, -1.3, 0.2, 2.1, -0.4];
const intercept = 0.25;

/** A non-linear model with an interaction, written identically in Python below. */
const model = (rows: number[][]) =>
  rows.map(([a, b, c, d, e]) => 1 / (1 + Math.exp(-(0.8 * a! * b! + Math.sin(c!) - 0.5 * d! * d! + 0.3 * e!))));

const PYTHON = `
import numpy as np, shap
bg, X = np.array(data["background"]), np.array(data["explain"])
lin = shap.LinearExplainer((np.array(data["weights"]), data["intercept"]), bg)
def f(x):
    return 1 / (1 + np.exp(-(0.8 * x[:, 0] * x[:, 1] + np.sin(x[:, 2]) - 0.5 * x[:, 3] ** 2 + 0.3 * x[:, 4])))
k = shap.KernelExplainer(f, bg)
kv = k.shap_values(X, nsamples=1000, silent=True)
print(json.dumps({"linear": lin.shap_values(X).tolist(), "linear_base": float(np.ravel(lin.expected_value)[0]),
  "kernel": np.asarray(kv).tolist(), "kernel_base": float(np.ravel(k.expected_value)[0])}))
`;

Deno.test("SHAP values equal Python shap's: LinearExplainer and KernelExplainer (all coalitions) within 1e-6", async () => {
  const py = await runPython<{ linear: number[][]; linear_base: number; kernel: number[][]; kernel_base: number }>(
    PYTHON,
    { background, explain, weights, intercept },
  );
  const lin = linearShap(weights, intercept, background, explain);
  const ker = kernelShap(model, background, explain);
  let worst = 0;
  const cmp = (a: number, b: number) => (worst = Math.max(worst, Math.abs(a - b)));
  lin.values.forEach((row, i) => row.forEach((v, j) => cmp(v, py.linear[i]![j]!)));
  cmp(lin.baseValue, py.linear_base);
  assert.ok(worst < 1e-6, `linear: max difference ${worst}`);
  worst = 0;
  ker.values.forEach((row, i) => row.forEach((v, j) => cmp(v, py.kernel[i]![j]!)));
  cmp(ker.baseValue, py.kernel_base);
  assert.ok(worst < 1e-6, `kernel: max difference ${worst}`);
  // efficiency: base + Σφ = f(x)
  const fx = model(explain);
  ker.values.forEach((row, i) => assert.ok(Math.abs(ker.baseValue + row.reduce((a, b) => a + b, 0) - fx[i]!) < 1e-12));
});

Deno.test("sampled KernelSHAP approaches the exact values on 10 features", () => {
  const bg = matrix(10, 10), x = matrix(2, 10);
  const f = (rows: number[][]) => rows.map((v) => v.reduce((s, t, j) => s + (j % 2 ? t * v[0]! : Math.tanh(t)), 0));
  const exact = exactShap(f, bg, x);
  const approx = kernelShap(f, bg, x, { nsamples: 600, seed: 1 });
  let worst = 0, scale = 0;
  exact.values.forEach((row, i) =>
    row.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - approx.values[i]![j]!));
      scale = Math.max(scale, Math.abs(v));
    })
  );
  assert.ok(worst < 0.1 * scale, `max error ${worst} against max |φ| ${scale}`);
  // efficiency holds exactly even when sampled
  const fx = f(x);
  approx.values.forEach((row, i) =>
    assert.ok(Math.abs(approx.baseValue + row.reduce((a, b) => a + b, 0) - fx[i]!) < 1e-9)
  );
});

Deno.test("permutation importance ranks the used features first and gives ~0 to an unused one", () => {
  const x = matrix(400, 3);
  const y = x.map((v) => 3 * v[0]! + v[1]!);
  const f = (rows: number[][]) => rows.map((v) => 3 * v[0]! + v[1]!);
  const r2 = (t: ArrayLike<number>, p: ArrayLike<number>) => {
    const m = Array.from(t).reduce((a, b) => a + b, 0) / t.length;
    let ss = 0, st = 0;
    for (let i = 0; i < t.length; i++) {
      ss += (t[i]! - p[i]!) ** 2;
      st += (t[i]! - m) ** 2;
    }
    return 1 - ss / st;
  };
  const imp = permutationImportance(f, x, y, r2, { repeats: 4, seed: 2 });
  assert.ok(imp[0]!.mean > imp[1]!.mean && imp[1]!.mean > 0.05);
  assert.equal(imp[2]!.mean, 0);
});

Deno.test("SHAP rejects ragged rows and too many features for exact enumeration", () => {
  assert.throws(
    () => linearShap([1, 2], 0, [[1, 2]], [[1]]),
    (e) => e instanceof MercuryError && /x row 0 has 1 features, expected 2/.test(e.message),
  );
  assert.throws(
    () => exactShap((rows) => rows.map(() => 0), matrix(2, 17), matrix(1, 17)),
    (e) => e instanceof MercuryError && /M = 17/.test(e.message),
  );
});
