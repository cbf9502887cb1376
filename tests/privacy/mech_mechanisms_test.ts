import assert from "node:assert/strict";
import {
  analyticGaussianSigma,
  gaussianDelta,
  gaussianMechanism,
  laplaceMechanism,
  logNormalCdf,
} from "@mercury/privacy/mechanisms/float";
import { exponentialMechanism, reportNoisyMax, sparseVector } from "@mercury/privacy/mechanisms/selection";
import { dpQuantile } from "@mercury/privacy/mechanisms/quantile";
import { boundContributions, dpHistogram, partitionThreshold } from "@mercury/privacy/mechanisms/histogram";
import { chi2Critical, Z_1E4 } from "./_chi2.ts";

Deno.test("laplaceMechanism() releases grid multiples with Laplace-distributed noise (χ² on bins)", () => {
  const n = 10_000, b = 2, x = 10.123456789;
  const r0 = laplaceMechanism(x, { sensitivity: 1, epsilon: 0.5 });
  assert.ok(Math.abs(r0.scale - b) < 1e-8);
  // Bins of width 1 from −6 to 6 around x, tails merged: Laplace CDF F(t) = 1 − ½e^(−t/b) for t ≥ 0.
  const cdf = (t: number) => (t < 0 ? 0.5 * Math.exp(t / b) : 1 - 0.5 * Math.exp(-t / b));
  const edges = [-Infinity, ...Array.from({ length: 13 }, (_, i) => i - 6), Infinity];
  const obs = new Array(edges.length - 1).fill(0);
  for (let i = 0; i < n; i++) {
    const r = laplaceMechanism(x, { sensitivity: 1, epsilon: 0.5 });
    // Every output is a whole number of grid steps: no low bits from the input.
    assert.equal(r.value / r.granularity, Math.round(r.value / r.granularity));
    const d = r.value - x;
    let j = 0;
    while (d >= edges[j + 1]!) j++;
    obs[j]++;
  }
  let stat = 0;
  for (let j = 0; j < obs.length; j++) {
    const e = n * (cdf(edges[j + 1]!) - cdf(edges[j]!));
    stat += (obs[j] - e) ** 2 / e;
  }
  assert.ok(stat < chi2Critical(obs.length - 1, Z_1E4), `χ² = ${stat.toFixed(1)}`);
});

Deno.test("gaussianMechanism() has the analytic σ and Gaussian spread", () => {
  const p = { sensitivity: 1, epsilon: 1, delta: 1e-5 };
  const sigma = analyticGaussianSigma(p);
  // Balle & Wang 2018: σ ≈ 3.73 at ε = 1, δ = 1e-5 (the classic bound gives 4.84).
  assert.ok(Math.abs(sigma - 3.7306) < 1e-3, `σ = ${sigma}`);
  assert.ok(Math.abs(gaussianDelta({ ...p, sigma }) - 1e-5) < 1e-9);
  assert.ok(gaussianDelta({ ...p, sigma: sigma * 0.99 }) > 1e-5);
  let s = 0, s2 = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const d = gaussianMechanism(0, p).value;
    s += d;
    s2 += d * d;
  }
  const sd = Math.sqrt(s2 / n - (s / n) ** 2);
  // The sample sd of 4,000 draws is within 5% of σ (±4.5 standard errors).
  assert.ok(Math.abs(sd - sigma) / sigma < 0.05, `sd ${sd} vs σ ${sigma}`);
  assert.throws(() => gaussianMechanism(0, { ...p, delta: 1 }), /delta must lie in \(0, 1\)/);
  assert.throws(() => laplaceMechanism(0, { sensitivity: 1, epsilon: 0 }), /epsilon must be a finite number > 0/);
});

Deno.test("exponentialMechanism() picks i with probability ∝ exp(εu/(2Δ)) (χ²)", () => {
  const u = [0, 1, 2.5, -1], eps = 2, n = 20_000;
  const w = u.map((x) => Math.exp((eps * x) / 2));
  const z = w.reduce((a, b) => a + b);
  const obs = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) obs[exponentialMechanism(u, { sensitivity: 1, epsilon: eps })]!++;
  const stat = obs.reduce((acc, o, i) => acc + (o - (n * w[i]!) / z) ** 2 / ((n * w[i]!) / z), 0);
  assert.ok(stat < chi2Critical(3, Z_1E4), `χ² = ${stat.toFixed(1)}, counts ${obs}`);
});

Deno.test("reportNoisyMax() and sparseVector() find the clear winner", () => {
  assert.equal(reportNoisyMax([1, 5, 200, 3], { sensitivity: 1, epsilon: 1 }), 2);
  const answers = sparseVector([1, 2, 3, 500, 4, 600, 700], {
    threshold: 100,
    sensitivity: 1,
    epsilon: 1,
    maxAnswers: 2,
  });
  assert.deepEqual(answers, [false, false, false, true, false, true]);
});

Deno.test("dpQuantile() lands near the true quantile and inside the bounds", () => {
  const xs = Array.from({ length: 5000 }, (_, i) => (i % 1000) / 10);
  for (const q of [0.1, 0.5, 0.9]) {
    const v = dpQuantile(xs, { q, lower: 0, upper: 100, epsilon: 1 });
    assert.ok(Math.abs(v - q * 100) < 3, `q=${q}: ${v}`);
  }
  const clamped = dpQuantile([1e9, 1e9, 1e9], { q: 0.5, lower: 0, upper: 10, epsilon: 1 });
  assert.ok(clamped >= 0 && clamped <= 10);
  assert.throws(() => dpQuantile(xs, { q: 1.5, lower: 0, upper: 1, epsilon: 1 }), /q must lie in \[0, 1\]/);
});

Deno.test("dpHistogram() bounds contributions and drops keys of a few units", () => {
  const rows: { unit: number; key: string }[] = [];
  for (let u = 0; u < 500; u++) for (const key of ["a", "b", "c"]) rows.push({ unit: u, key });
  rows.push({ unit: 9999, key: "secret-key" }, { unit: 9998, key: "secret-key" });
  const h = dpHistogram(rows, { epsilon: 1, delta: 1e-6, maxPartitions: 1 });
  // Each unit counts toward one key only: the three counts add up to about 500.
  const total = h.bins.reduce((s, b) => s + b.count, 0);
  assert.ok(Math.abs(total - 500) < 40, `total ${total}`);
  assert.ok(!h.bins.some((b) => b.key === "secret-key"));
  assert.equal(h.threshold, partitionThreshold(1, 1e-6, 1));
  const known = dpHistogram(rows, { epsilon: 1, keys: ["a", "zzz"] });
  assert.deepEqual(known.bins.map((b) => b.key), ["a", "zzz"]);
  assert.throws(() => dpHistogram(rows, { epsilon: 1 }), /unknown keys need delta/);
  const bounded = boundContributions([1, 2, 3, 4, 5, 6], (x) => x % 2, 2);
  assert.equal(bounded.length, 4);
  assert.equal(bounded.filter((x) => x % 2 === 0).length, 2);
});

Deno.test("gaussianMechanism() noise is Gaussian with the analytic σ (χ² on bins of σ/2)", () => {
  const p = { sensitivity: 1, epsilon: 1, delta: 1e-5 };
  const n = 10_000, x = -7.25;
  const sigma = gaussianMechanism(x, p).scale;
  const edges = [-Infinity, ...Array.from({ length: 13 }, (_, i) => (i - 6) * 0.5 * sigma), Infinity];
  const cdf = (t: number) => (t === -Infinity ? 0 : t === Infinity ? 1 : Math.exp(logNormalCdf(t / sigma)));
  const obs = new Array(edges.length - 1).fill(0);
  for (let i = 0; i < n; i++) {
    const d = gaussianMechanism(x, p).value - x;
    let j = 0;
    while (d >= edges[j + 1]!) j++;
    obs[j]++;
  }
  let stat = 0;
  for (let j = 0; j < obs.length; j++) {
    const e = n * (cdf(edges[j + 1]!) - cdf(edges[j]!));
    stat += (obs[j] - e) ** 2 / e;
  }
  assert.ok(stat < chi2Critical(obs.length - 1, Z_1E4), `χ² = ${stat.toFixed(1)}`);
});
