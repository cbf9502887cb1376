import assert from "node:assert/strict";
import { PrivacyLossDistribution } from "@mercury/privacy/accounting/pld";
import { gaussianDelta } from "@mercury/privacy/mechanisms/float";
import { askPeer } from "./_peer.ts";
import { RdpAccountant } from "@mercury/privacy/accounting/rdp";

const h = 1e-3;

/** The exact ε at δ of k Gaussian mechanisms of noise σ (one Gaussian of σ/√k), by bisection. */
function exactGaussianEpsilon(sigma: number, k: number, delta: number): number {
  const s = sigma / Math.sqrt(k);
  let lo = 0, hi = 100;
  for (let i = 0; i < 100; i++) {
    const m = (lo + hi) / 2;
    if (gaussianDelta({ sensitivity: 1, epsilon: m, sigma: s }) > delta) lo = m;
    else hi = m;
  }
  return hi;
}

Deno.test("PLD ε equals dp-accounting's pessimistic PLD within the discretisation (Gaussian and Laplace)", async () => {
  const cases = [
    { kind: "pld_gauss", scale: 1, count: 1 },
    { kind: "pld_gauss", scale: 3, count: 10 },
    { kind: "pld_gauss", scale: 10, count: 50 },
    { kind: "pld_laplace", scale: 1, count: 1 },
    { kind: "pld_laplace", scale: 4, count: 20 },
  ].map((c) => ({ ...c, delta: 1e-6, interval: h }));
  const peer = await askPeer(cases);
  cases.forEach((c, i) => {
    const one = c.kind === "pld_gauss"
      ? PrivacyLossDistribution.gaussian({ sigma: c.scale, interval: h })
      : PrivacyLossDistribution.laplace({ scale: c.scale, interval: h });
    const ours = one.selfCompose(c.count).epsilonForDelta(c.delta);
    // Both round every loss up to the same grid: they agree far inside one grid step.
    assert.ok(Math.abs(ours - peer[i]!) < h / 10, `${JSON.stringify(c)}: ours ${ours}, dp-accounting ${peer[i]}`);
  });
});

Deno.test("Gaussian PLD is pessimistic: above the exact ε, by at most k grid steps", () => {
  for (const [sigma, k] of [[1, 1], [3, 10], [10, 50]] as const) {
    const exact = exactGaussianEpsilon(sigma, k, 1e-6);
    const ours = PrivacyLossDistribution.gaussian({ sigma, interval: h }).selfCompose(k).epsilonForDelta(1e-6);
    assert.ok(ours >= exact - 1e-9, `σ=${sigma}, k=${k}: ${ours} < exact ${exact}`);
    assert.ok(ours - exact <= k * h, `σ=${sigma}, k=${k}: ${ours} − ${exact} > ${k * h}`);
  }
});

Deno.test("Laplace PLD of one release gives ε = Δ/b at tiny δ, and rejects bad input", () => {
  const p = PrivacyLossDistribution.laplace({ scale: 2, interval: h });
  assert.ok(Math.abs(p.epsilonForDelta(1e-12) - 0.5) <= h);
  assert.equal(p.deltaForEpsilon(0.5 + h), 0);
  assert.throws(() => p.epsilonForDelta(1), /delta must lie in \(0, 1\)/);
  assert.throws(() => PrivacyLossDistribution.gaussian({ sigma: 0 }), /sigma must be > 0/);
  assert.throws(() => p.compose(PrivacyLossDistribution.laplace({ scale: 2, interval: 1e-2 })), /different grids/);
});

Deno.test("subsampled-Gaussian PLD (add and remove) equals dp-accounting's and is within its rounding of RDP or below", async () => {
  const cases = [[1, 0.01, 100], [0.8, 0.05, 50], [1.1, 0.004, 1000]].map(([scale, q, count]) => ({
    kind: "pld_sgauss",
    scale,
    q,
    count,
    delta: 1e-5,
    interval: h,
  }));
  const peer = await askPeer(cases);
  cases.forEach((c, i) => {
    const ours = PrivacyLossDistribution.subsampledGaussian({ sigma: c.scale!, q: c.q!, interval: h })
      .selfCompose(c.count!).epsilonForDelta(c.delta);
    assert.ok(Math.abs(ours - peer[i]!) < h / 10, `${JSON.stringify(c)}: ours ${ours}, dp-accounting ${peer[i]}`);
    const rdp = new RdpAccountant().composeSubsampledGaussian({ q: c.q!, sigma: c.scale!, steps: c.count! })
      .epsilon(c.delta).epsilon;
    // Tighter than RDP up to the pessimistic rounding, which adds at most one grid step per composition.
    assert.ok(ours < rdp + c.count! * h, `PLD ${ours} ≥ RDP ${rdp} + ${c.count! * h}`);
  });
  assert.throws(() => PrivacyLossDistribution.subsampledGaussian({ sigma: 1, q: 0 }), /q must lie in \(0, 1\]/);
});
