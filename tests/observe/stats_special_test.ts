/** The distributions behind the drift tests, against values scipy 1.17 printed (no Python needed to run this). */
import assert from "node:assert/strict";
import { chi2Sf, normalCdf, normalQuantile, normalSf } from "../../plugins/observe/stats/_special.ts";
import { kstwoSf } from "../../plugins/observe/stats/_kstwo.ts";
import { ks2samp } from "@mercury/observe/stats";

const rel = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.abs(b), `${what}: ${a} vs scipy ${b}`);

Deno.test("chi-squared, normal and kstwo survival functions equal scipy's to 1e-12 relative", () => {
  rel(chi2Sf(3.84, 1), 0.05004352124870519, 1e-12, "chi2.sf(3.84, 1)");
  rel(chi2Sf(250, 200), 0.009379131668826098, 1e-12, "chi2.sf(250, 200)");
  rel(chi2Sf(0.5, 7), 0.9994464813904249, 1e-12, "chi2.sf(0.5, 7)");
  rel(normalSf(1.96), 0.024997895148220435, 1e-12, "norm.sf(1.96)");
  rel(normalSf(8.5), 9.47953482220325e-18, 1e-10, "norm.sf(8.5)");
  rel(normalCdf(-0.3), 0.3820885778110474, 1e-12, "norm.cdf(-0.3)");
  rel(kstwoSf(800, 0.05), 0.035390032458746834, 1e-12, "kstwo.sf(0.05, 800)");
  rel(kstwoSf(30, 0.2), 0.15796916101547398, 1e-12, "kstwo.sf(0.2, 30)");
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-12);
});

Deno.test("ks2samp() exact p-value for unequal samples equals scipy's", () => {
  const r = ks2samp(
    Float64Array.from([0.1, 0.5, 0.9, 1.3, 2.0, 2.2]),
    Float64Array.from([0.4, 1.1, 1.9, 2.5, 2.6, 3.0, 3.1]),
  );
  assert.equal(r.method, "exact");
  rel(r.pValue, 0.14685314685314685, 1e-12, "ks_2samp p");
});
