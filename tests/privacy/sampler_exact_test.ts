import assert from "node:assert/strict";
import {
  bernoulliExp,
  floatToRational,
  isqrt,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
  sampleGeometric,
} from "@mercury/privacy/mechanisms/samplers";
import { chi2Critical, chi2Integer, Z_1E4 } from "./_chi2.ts";
import { peerPython } from "./_peer.ts";

const N = 20_000;

function draw(f: () => bigint, n = N): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(f());
  return out;
}

Deno.test("sampleDiscreteGaussian() matches the exact pmf (χ², σ² = 4 and σ² = 5/2)", async (t) => {
  for (const [num, den] of [[4n, 1n], [5n, 2n]] as const) {
    await t.step(`σ² = ${num}/${den}`, () => {
      const s2 = Number(num) / Number(den);
      const xs = draw(() => sampleDiscreteGaussian(num, den));
      const { stat, df } = chi2Integer(xs, (x) => Math.exp(-(x * x) / (2 * s2)), -7, 7);
      assert.ok(stat < chi2Critical(df, Z_1E4), `χ² = ${stat.toFixed(1)} on ${df} df`);
    });
  }
});

Deno.test("the χ² check rejects a discrete Gaussian of the wrong variance", () => {
  const xs = draw(() => sampleDiscreteGaussian(4n, 1n));
  const { stat, df } = chi2Integer(xs, (x) => Math.exp(-(x * x) / (2 * 5)), -7, 7);
  assert.ok(stat > chi2Critical(df, Z_1E4), `χ² = ${stat.toFixed(1)} should reject σ² = 5`);
});

Deno.test("sampleDiscreteLaplace() matches the exact pmf (χ², scale 3/2 and scale 4)", async (t) => {
  for (const [s, tt] of [[3n, 2n], [4n, 1n]] as const) {
    await t.step(`scale ${s}/${tt}`, () => {
      const b = Number(s) / Number(tt);
      const xs = draw(() => sampleDiscreteLaplace(s, tt));
      const { stat, df } = chi2Integer(xs, (x) => Math.exp(-Math.abs(x) / b), -10, 10);
      assert.ok(stat < chi2Critical(df, Z_1E4), `χ² = ${stat.toFixed(1)} on ${df} df`);
    });
  }
});

Deno.test("sampleGeometric() matches the one-sided pmf (χ², scale 5/2)", () => {
  const xs = draw(() => sampleGeometric(5n, 2n));
  const { stat, df } = chi2Integer(xs, (x) => (x < 0 ? 0 : Math.exp(-x / 2.5)), 0, 12);
  assert.ok(stat < chi2Critical(df, Z_1E4), `χ² = ${stat.toFixed(1)} on ${df} df`);
});

Deno.test("bernoulliExp() is true with probability exp(−γ) (γ = 7/5, 1/3, 0)", () => {
  for (const [num, den] of [[7n, 5n], [1n, 3n]] as const) {
    const p = Math.exp(-Number(num) / Number(den));
    let hits = 0;
    for (let i = 0; i < N; i++) if (bernoulliExp(num, den)) hits++;
    const z = (hits - N * p) / Math.sqrt(N * p * (1 - p));
    assert.ok(Math.abs(z) < Z_1E4, `z = ${z.toFixed(2)} for γ = ${num}/${den}`);
  }
  for (let i = 0; i < 100; i++) assert.equal(bernoulliExp(0n, 1n), true);
});

Deno.test("isqrt() and floatToRational() are exact", () => {
  assert.equal(isqrt(10n ** 40n), 10n ** 20n);
  assert.equal(isqrt(10n ** 40n - 1n), 10n ** 20n - 1n);
  const r = floatToRational(0.1); // 0.1 is 3602879701896397 / 2^55 exactly
  assert.equal(r.num * 36028797018963968n, 3602879701896397n * r.den);
  assert.deepEqual(floatToRational(-3), { num: -3n, den: 1n });
  assert.throws(() => sampleDiscreteGaussian(0n, 1n), /σ² must be a rational > 0/);
});

Deno.test("sampleDiscreteGaussian() draws the same distribution as OpenDP's make_gaussian (χ² homogeneity, σ = 3)", async () => {
  const python = await peerPython();
  const n = 5000;
  const out = await new Deno.Command(python, {
    args: [
      new URL("../../bench/peers/dp_accounting/sampler_peer.py", import.meta.url).pathname,
      "3",
      String(n),
      "--samples",
    ],
    stdout: "piped",
  }).output();
  assert.ok(out.success);
  const theirs: number[] = JSON.parse(new TextDecoder().decode(out.stdout)).samples;
  const ours = draw(() => sampleDiscreteGaussian(9n, 1n), n);
  // Two-sample χ² on the bins ≤ −6, −5 … 5, ≥ 6.
  const bin = (x: number) => Math.min(6, Math.max(-6, x)) + 6;
  const a = new Array(13).fill(0), b = new Array(13).fill(0);
  for (const x of ours) a[bin(x)]++;
  for (const x of theirs) b[bin(x)]++;
  let stat = 0;
  for (let i = 0; i < 13; i++) if (a[i] + b[i] > 0) stat += (a[i] - b[i]) ** 2 / (a[i] + b[i]);
  assert.ok(stat < chi2Critical(12, Z_1E4), `χ² = ${stat.toFixed(1)}`);
});
