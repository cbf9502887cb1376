import {
  backtest,
  Baseline,
  cleanSeries,
  conformalIntervals,
  createForecaster,
  detectAnomalies,
  mase,
  owa,
  smape,
  tune,
} from "@mercury/forecast";
import assert from "node:assert/strict";
import { seasonalSeries } from "./forecaster_suite.ts";

Deno.test("metrics follow the M4 definitions", () => {
  assert.equal(smape([0, 10], [0, 10]), 0);
  assert.ok(Math.abs(smape([100, 100], [90, 110]) - (200 * 10 / 190 + 200 * 10 / 210) / 2) < 1e-12);
  // MASE scale: in-sample seasonal naive MAE at lag m.
  assert.equal(mase([1, 2, 1, 2, 3, 4], [5], [4], 2), 1); // scale: mean of |0|,|0|,|2|,|2|
  assert.equal(owa(10, 2, 20, 2), 0.75);
});

Deno.test("M4 Naive2 seasonally adjusts only when the 90% ACF test passes", async () => {
  const seasonal = seasonalSeries(96, 12);
  const m = new Baseline("naive2");
  await m.fit(seasonal, { season: 12 });
  assert.match(m.describe(), /seasonally adjusted/);
  const flat = new Baseline("naive2");
  let u = 11;
  await flat.fit(Array.from({ length: 96 }, () => 50 + (u = (u * 16807) % 2147483647) / 2147483647), { season: 12 });
  assert.match(flat.describe(), /not seasonal/);
});

Deno.test("backtest() coverage of analytical intervals is near nominal on Gaussian noise", async () => {
  let s = 3;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const y = Array.from({ length: 600 }, () => 50 + Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd()));
  const r = await backtest(y, () => createForecaster("auto_ets", { model: "ANN" }), { h: 10, windows: 20, season: 1 });
  assert.ok(r.coverage["95"]! > 0.85 && r.coverage["95"]! <= 1, `95% coverage ${r.coverage["95"]}`);
  assert.ok(r.coverage["80"]! > 0.65 && r.coverage["80"]! < 0.95, `80% coverage ${r.coverage["80"]}`);
});

Deno.test("conformal intervals widen with the backtest errors", () => {
  const [iv] = conformalIntervals([0, 0], [[1, 4], [2, 5], [3, 6], [4, 7]], [50]);
  assert.ok(iv!.upper[1]! > iv!.upper[0]!);
});

Deno.test("tune() ranks by the chosen metric", async () => {
  const y = seasonalSeries(96, 12);
  const board = await tune(y, ["naive", "seasonal_naive"], { h: 12, windows: 2, season: 12 }, "rmse");
  assert.equal(board[0]!.algorithm, "seasonal_naive");
  assert.equal(board[0]!.rank, 1);
});

Deno.test("detectAnomalies() flags an injected spike by both methods and cleanSeries() removes it", async () => {
  const y = seasonalSeries(120, 12);
  y[70] = y[70]! + 80;
  for (const method of ["residual", "decomposition"] as const) {
    const d = await detectAnomalies(y, { method, season: 12 });
    assert.ok(d.anomaly[70], `${method} flags the spike`);
    assert.ok(d.score[70]! > d.threshold);
    assert.ok(d.anomaly.filter(Boolean).length <= 3, `${method} flags few points`);
  }
  const d = await detectAnomalies(y, { method: "decomposition", season: 12 });
  const c = cleanSeries(y, d.anomaly);
  assert.ok(Math.abs(c[70]! - (c[69]! + c[71]!) / 2) < 1e-9);
});
