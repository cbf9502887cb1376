import assert from "node:assert/strict";
import { advancedComposition, basicComposition } from "@mercury/privacy/accounting/composition";
import { gaussianRho, pureToRho, sigmaForRho, zcdpToEpsilon } from "@mercury/privacy/accounting/zcdp";
import { RdpAccountant } from "@mercury/privacy/accounting/rdp";

Deno.test("basicComposition() adds ε and δ; advancedComposition() follows Dwork–Rothblum–Vadhan", () => {
  assert.deepEqual(basicComposition([{ epsilon: 1, delta: 1e-6 }, { epsilon: 0.5, delta: 0 }]), {
    epsilon: 1.5,
    delta: 1e-6,
  });
  const k = 100, e = 0.1, d = 1e-6;
  const adv = advancedComposition({ epsilon: e, delta: 0 }, k, d);
  const expected = Math.sqrt(2 * k * Math.log(1 / d)) * e + k * e * Math.expm1(e);
  assert.ok(Math.abs(adv.epsilon - expected) < 1e-12);
  assert.equal(adv.delta, d);
  // For few large steps basic composition is better, and is what comes back.
  assert.deepEqual(advancedComposition({ epsilon: 1, delta: 0 }, 3, 1e-6), { epsilon: 3, delta: 0 });
  assert.throws(() => basicComposition([{ epsilon: 0, delta: 0 }]), /mechanism 0: epsilon must be a finite number > 0/);
  assert.throws(() => basicComposition([{ epsilon: 1, delta: 1 }]), /delta must lie in \[0, 1\)/);
});

Deno.test("zCDP: ρ of the Gaussian, conversion equals the RDP conversion over a fine grid of orders", () => {
  assert.equal(gaussianRho({ sensitivity: 1, sigma: 5 }), 0.02);
  assert.equal(pureToRho(1), 0.5);
  assert.ok(Math.abs(sigmaForRho(0.02) - 5) < 1e-12);
  const rho = 0.05, delta = 1e-6;
  const { epsilon } = zcdpToEpsilon(rho, delta);
  // ρ-zCDP is RDP ρα at every order: the RDP accountant on a fine grid gives (nearly) the same ε.
  const orders = Array.from({ length: 20000 }, (_, i) => 1.02 + i * 0.01);
  const viaRdp = new RdpAccountant(orders).composeRdp(orders.map((a) => rho * a)).epsilon(delta).epsilon;
  assert.ok(epsilon <= viaRdp + 1e-9 && viaRdp - epsilon < 1e-4, `zCDP ${epsilon}, RDP grid ${viaRdp}`);
  assert.ok(epsilon < rho + 2 * Math.sqrt(rho * Math.log(1 / delta)));
  assert.throws(() => zcdpToEpsilon(0.1, 0), /delta must lie in \(0, 1\)/);
});
