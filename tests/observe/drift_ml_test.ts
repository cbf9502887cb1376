import assert from "node:assert/strict";
import { normal, seededRandom } from "@mercury/core/random";
import { MercuryError } from "@mercury/core";
import { dataDrift, domainClassifierDrift, PcaDrift } from "@mercury/observe/stats";

/** Rows of 4 features; `rho` correlates features 0 and 1; `shift` moves feature 2's mean. */
function rows(n: number, seed: number, rho: number, shift = 0): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const a = normal(r), e = normal(r);
    return [a, rho * a + Math.sqrt(1 - rho * rho) * e, normal(r, shift), normal(r)];
  });
}

const columns = (m: number[][]) =>
  Object.fromEntries([0, 1, 2, 3].map((j) => [`f${j}`, Float64Array.from(m, (r) => r[j]!)]));

Deno.test("domain classifier: AUC ≈ 0.5 without drift, drift found when one feature's mean moves", () => {
  const same = domainClassifierDrift(rows(1500, 1, 0.5), rows(1500, 2, 0.5), { seed: 3 });
  assert.ok(Math.abs(same.rocAuc - 0.5) < 0.04, `AUC ${same.rocAuc}`);
  assert.equal(same.drifted, false);
  const moved = domainClassifierDrift(rows(1500, 1, 0.5), rows(1500, 2, 0.5, 0.5), { seed: 3 });
  assert.ok(moved.rocAuc > 0.6, `AUC ${moved.rocAuc}`);
  assert.equal(moved.drifted, true);
  // the weight of the moved feature dominates
  const top = moved.weights.map((w, i) => [Math.abs(w), i]).sort((a, b) => b[0]! - a[0]!)[0]![1];
  assert.equal(top, 2);
  assert.equal(moved.threshold, 0.55, "reference > 1,000 rows: Evidently's fixed 0.55");
  // a small reference: the 95th percentile of random scorings' AUC (≈ 0.5 + 1.645·√((n0+n1+1)/(12·n0·n1)))
  const small = domainClassifierDrift(rows(200, 1, 0.5), rows(200, 2, 0.5), { seed: 3 });
  assert.ok(Math.abs(small.threshold - 0.5 - 1.6449 * Math.sqrt(401 / (12 * 200 * 200))) < 1e-4);
});

Deno.test("PCA reconstruction error catches a broken correlation that per-column tests miss", () => {
  const pca = PcaDrift.fit(rows(5000, 1, 0.9), { chunkSize: 500 });
  assert.ok(pca.components >= 1 && pca.components < 4);
  const same = pca.check(rows(500, 5, 0.9));
  assert.equal(same.drifted, false, `error ${same.error} band [${pca.lower}, ${pca.upper}]`);
  const broken = rows(500, 6, -0.9); // same marginals, correlation flipped
  const flipped = pca.check(broken);
  assert.equal(flipped.drifted, true, `error ${flipped.error} band [${pca.lower}, ${pca.upper}]`);
  // the marginals did not move: Evidently's per-column tests see no dataset drift
  const perColumn = dataDrift(columns(rows(5000, 1, 0.9)), columns(broken));
  assert.equal(perColumn.datasetDrift, false);
});

Deno.test("ML drift rejects too few rows and ragged or NaN rows with a clear error", () => {
  assert.throws(
    () => domainClassifierDrift([[1], [2]], [[1], [2], [3], [4], [5]]),
    (e) => e instanceof MercuryError && /at least 5 rows/.test(e.message),
  );
  const ref = rows(20, 1, 0);
  const bad = rows(20, 2, 0);
  bad[3] = [1, NaN, 2, 3];
  assert.throws(
    () => domainClassifierDrift(ref, bad),
    (e) => e instanceof MercuryError && /current row 3/.test(e.message),
  );
  assert.throws(
    () => PcaDrift.fit(rows(10, 1, 0), { chunkSize: 10 }),
    (e) => e instanceof MercuryError && /2 chunks/.test(e.message),
  );
});
