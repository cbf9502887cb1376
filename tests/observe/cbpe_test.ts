import assert from "node:assert/strict";
import { normal, seededRandom } from "@mercury/core/random";
import { MercuryError } from "@mercury/core";
import { accuracy, Cbpe, precisionRecallF1, rocAuc } from "@mercury/observe/stats";

/** A world where P(y=1|x) = σ(1.5·x) and a model that is overconfident: σ(3·x). */
function chunk(n: number, mean: number, seed: number) {
  const r = seededRandom(seed);
  const scores: number[] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = normal(r, mean, 1);
    const truth = 1 / (1 + Math.exp(-1.5 * x));
    labels.push(r() < truth ? 1 : 0);
    scores.push(1 / (1 + Math.exp(-3 * x)));
  }
  return { scores, labels, preds: scores.map((s) => (s >= 0.5 ? 1 : 0)) };
}

Deno.test("CBPE estimates track the realised metrics under covariate shift once labels arrive", () => {
  const ref = chunk(20_000, 0, 1);
  const cbpe = Cbpe.fit({ scores: ref.scores, labels: ref.labels });
  assert.equal(cbpe.calibrated, true, "an overconfident model gets calibrated");
  // production drifts towards x ≈ 0 (hard cases): accuracy drops; the estimate must follow
  const rows: string[] = [];
  let maxAccErr = 0, maxAucErr = 0, maxF1Err = 0;
  const realisedAcc: number[] = [];
  for (const [k, mean] of [0, 0.5, -0.3, 1.2].entries()) {
    const c = chunk(5_000, mean, 10 + k);
    const est = cbpe.estimate(c.scores);
    const acc = accuracy(c.labels, c.preds), auc = rocAuc(c.labels, c.scores);
    const f1 = precisionRecallF1(c.labels, c.preds).f1;
    realisedAcc.push(acc);
    maxAccErr = Math.max(maxAccErr, Math.abs(est.accuracy - acc));
    maxAucErr = Math.max(maxAucErr, Math.abs(est.rocAuc - auc));
    maxF1Err = Math.max(maxF1Err, Math.abs(est.f1 - f1));
    rows.push(
      `mean ${mean}: accuracy est ${est.accuracy.toFixed(4)} real ${acc.toFixed(4)} ±${
        est.accuracyStdErr.toFixed(4)
      }; auc est ${est.rocAuc.toFixed(4)} real ${auc.toFixed(4)}`,
    );
  }
  console.log(rows.join("\n"));
  // the shift moves the realised accuracy by more than the tolerance, so a constant would fail
  assert.ok(Math.max(...realisedAcc) - Math.min(...realisedAcc) > 0.05, `realised accuracies ${realisedAcc}`);
  assert.ok(maxAccErr < 0.02, `accuracy error ${maxAccErr}`);
  assert.ok(maxF1Err < 0.03, `F1 error ${maxF1Err}`);
  assert.ok(maxAucErr < 0.02, `ROC AUC error ${maxAucErr}`);
});

Deno.test("CBPE without calibration misestimates an overconfident model (calibration matters)", () => {
  const ref = chunk(20_000, 0, 1);
  const raw = Cbpe.fit({ scores: ref.scores, labels: ref.labels, calibrate: false });
  const c = chunk(5_000, 0, 99);
  const acc = accuracy(c.labels, c.preds);
  assert.ok(raw.estimate(c.scores).accuracy - acc > 0.05, "raw scores overstate accuracy");
});

Deno.test("CBPE rejects an empty chunk and a non-probability with a clear error", () => {
  const cbpe = Cbpe.fit({ scores: [0.2, 0.8], labels: [0, 1], calibrate: false });
  assert.throws(() => cbpe.estimate([]), (e) => e instanceof MercuryError && /empty/.test(e.message));
  assert.throws(() => cbpe.estimate([0.5, 1.2]), (e) => e instanceof MercuryError && /row 1/.test(e.message));
  assert.throws(() => Cbpe.fit({ scores: [0.1], labels: [] }), MercuryError);
});
