import assert from "node:assert/strict";
import { seededRandom } from "@mercury/core/random";
import { MercuryError } from "@mercury/core";
import {
  accuracy,
  averagePrecision,
  calibration,
  classificationReport,
  confusionMatrix,
  logLoss,
  precisionRecallF1,
  regressionReport,
  rocAuc,
} from "@mercury/observe/stats";
import { runPython } from "./_stats_peer.ts";

function data(n: number, seed: number) {
  const r = seededRandom(seed);
  const y: number[] = [], score: number[] = [], pred: number[] = [], multiTrue: number[] = [], multiPred: number[] = [];
  const yReg: number[] = [], pReg: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = r() < 0.4 ? 1 : 0;
    // rounded scores make ties, which the ROC/PR code must handle as scikit-learn does
    const s = Math.round(Math.min(1, Math.max(0, 0.3 * label + 0.35 + (r() - 0.5) * 0.8)) * 50) / 50;
    y.push(label);
    score.push(s);
    pred.push(s >= 0.5 ? 1 : 0);
    const c = Math.floor(r() * 3);
    multiTrue.push(c);
    multiPred.push(r() < 0.6 ? c : Math.floor(r() * 4));
    const t = 10 + r() * 5;
    yReg.push(t);
    pReg.push(t + (r() - 0.5) * 2);
  }
  return { y, score, pred, multiTrue, multiPred, yReg, pReg };
}

const SKLEARN = `
import numpy as np
from sklearn import metrics as m
from sklearn.calibration import calibration_curve
y, s, p = data["y"], data["score"], data["pred"]
mt, mp = data["multiTrue"], data["multiPred"]
out = {"accuracy": m.accuracy_score(y, p), "roc_auc": m.roc_auc_score(y, s), "ap": m.average_precision_score(y, s),
  "log_loss": m.log_loss(y, s), "cm": m.confusion_matrix(mt, mp).tolist(), "multi_accuracy": m.accuracy_score(mt, mp)}
for avg in ["binary"]:
  out[avg] = [m.precision_score(y, p), m.recall_score(y, p), m.f1_score(y, p)]
for avg in ["macro", "micro", "weighted"]:
  out[avg] = [m.precision_score(mt, mp, average=avg, zero_division=0), m.recall_score(mt, mp, average=avg, zero_division=0), m.f1_score(mt, mp, average=avg, zero_division=0)]
pt, pp = calibration_curve(y, s, n_bins=10)
out["cal_true"], out["cal_pred"] = pt.tolist(), pp.tolist()
yr, pr = data["yReg"], data["pReg"]
out["mae"] = m.mean_absolute_error(yr, pr); out["rmse"] = float(np.sqrt(m.mean_squared_error(yr, pr)))
out["mape"] = m.mean_absolute_percentage_error(yr, pr); out["r2"] = m.r2_score(yr, pr)
print(json.dumps(out))
`;

interface Sk {
  accuracy: number;
  roc_auc: number;
  ap: number;
  log_loss: number;
  cm: number[][];
  multi_accuracy: number;
  binary: number[];
  macro: number[];
  micro: number[];
  weighted: number[];
  cal_true: number[];
  cal_pred: number[];
  mae: number;
  rmse: number;
  mape: number;
  r2: number;
}

const close = (a: number, b: number, what: string, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs scikit-learn ${b}`);

Deno.test("metrics equal scikit-learn's on 2,000 rows with tied scores", async () => {
  const d = data(2000, 7);
  const sk = await runPython<Sk>(SKLEARN, d);
  close(accuracy(d.y, d.pred), sk.accuracy, "accuracy");
  close(rocAuc(d.y, d.score), sk.roc_auc, "roc auc");
  close(averagePrecision(d.y, d.score), sk.ap, "average precision");
  close(logLoss(d.y, d.score), sk.log_loss, "log loss", 1e-9);
  const b = precisionRecallF1(d.y, d.pred, "binary");
  [b.precision, b.recall, b.f1].forEach((v, i) => close(v, sk.binary[i]!, `binary[${i}]`));
  for (const avg of ["macro", "micro", "weighted"] as const) {
    const r = precisionRecallF1(d.multiTrue, d.multiPred, avg);
    [r.precision, r.recall, r.f1].forEach((v, i) => close(v, sk[avg][i]!, `${avg}[${i}]`));
  }
  assert.deepEqual(confusionMatrix(d.multiTrue, d.multiPred).matrix, sk.cm);
  close(accuracy(d.multiTrue, d.multiPred), sk.multi_accuracy, "multiclass accuracy");
  const cal = calibration(d.y, d.score, 10);
  assert.deepEqual(cal.bins.length, sk.cal_true.length);
  cal.bins.forEach((bin, i) => {
    close(bin.fractionPositive, sk.cal_true[i]!, `calibration prob_true[${i}]`);
    close(bin.meanPredicted, sk.cal_pred[i]!, `calibration prob_pred[${i}]`);
  });
  const reg = regressionReport(d.yReg, d.pReg);
  close(reg.mae, sk.mae, "mae");
  close(reg.rmse, sk.rmse, "rmse");
  close(reg.mape, sk.mape, "mape");
  close(reg.r2, sk.r2, "r2");
});

Deno.test("classificationReport() gathers the metrics; a perfect model scores 1", () => {
  const r = classificationReport([0, 1, 1, 0, 1], [0, 1, 1, 0, 1], { scores: [0.1, 0.8, 0.9, 0.2, 0.7] });
  assert.equal(r.accuracy, 1);
  assert.equal(r.macro.f1, 1);
  assert.equal(r.rocAuc, 1);
  assert.equal(r.prAuc, 1);
  assert.ok(r.logLoss! < 0.4);
});

Deno.test("metrics reject mismatched lengths and a one-class ROC AUC with a clear error", () => {
  assert.throws(() => accuracy([1, 0], [1]), (e) => e instanceof MercuryError && /y_pred has 1 values/.test(e.message));
  assert.throws(() => rocAuc([1, 1], [0.2, 0.3]), (e) => e instanceof MercuryError && /both classes/.test(e.message));
  assert.throws(() => calibration([1], [1.5]), (e) => e instanceof MercuryError && /outside \[0, 1\]/.test(e.message));
});

Deno.test("calibration() ECE is 0 for a calibrated bin and grows with overconfidence", () => {
  const y = [1, 0, 1, 0];
  assert.equal(calibration(y, [0.5, 0.5, 0.5, 0.5], 10).ece, 0);
  assert.ok(calibration(y, [0.01, 0.99, 0.01, 0.99], 10).ece > 0.9);
});
