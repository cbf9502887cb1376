/**
 * The shared suite every Forecaster runs: fit, predict with intervals that
 * nest and contain the mean, fitted values of the right length, JSON round
 * trip to the same forecast, and sensible accuracy on a clean seasonal series.
 */
import assert from "node:assert/strict";
import { type Forecaster, restoreForecaster } from "@mercury/forecast";

/** A seasonal series with trend and deterministic noise. */
export function seasonalSeries(n: number, m: number): number[] {
  let s = 7;
  const noise = () => ((s = (s * 48271) % 2147483647) / 2147483647 - 0.5) * 2;
  return Array.from({ length: n }, (_, t) => 100 + 0.2 * t + 15 * Math.sin((2 * Math.PI * t) / m) + noise());
}

/** Runs the contract checks against a model factory. */
export async function forecasterSuite(
  t: Deno.TestContext,
  name: string,
  make: () => Forecaster,
  maxMase = 3,
): Promise<void> {
  const m = 12, h = 12;
  const y = seasonalSeries(96, m);
  const train = y.slice(0, 84), test = y.slice(84);
  const model = make();
  await t.step(`${name}: fit() and predict() give a mean and nested intervals`, async () => {
    await model.fit(train, { season: m, stepMs: 3_600_000 });
    const f = model.predict(h, [80, 95]);
    assert.equal(f.mean.length, h);
    assert.ok(f.mean.every(Number.isFinite), "finite forecasts");
    const [i80, i95] = f.intervals;
    assert.equal(i80!.level, 80);
    for (let k = 0; k < h; k++) {
      assert.ok(
        i95!.lower[k]! <= i80!.lower[k]! + 1e-9 && i80!.lower[k]! <= f.mean[k]! + 1e-9,
        `lower bounds nest at ${k}`,
      );
      assert.ok(
        f.mean[k]! <= i80!.upper[k]! + 1e-9 && i80!.upper[k]! <= i95!.upper[k]! + 1e-9,
        `upper bounds nest at ${k}`,
      );
    }
  });
  await t.step(`${name}: forecasts the seasonal series with MASE < ${maxMase}`, () => {
    const f = model.predict(h, [95]);
    let e = 0, sc = 0;
    for (let k = 0; k < h; k++) e += Math.abs(test[k]! - f.mean[k]!);
    for (let k = m; k < train.length; k++) sc += Math.abs(train[k]! - train[k - m]!);
    const mase = e / h / (sc / (train.length - m));
    assert.ok(mase < maxMase, `MASE ${mase.toFixed(2)}`);
  });
  await t.step(`${name}: fitted() has one value per point`, () => {
    const fit = model.fitted();
    assert.equal(fit.length, train.length);
    assert.ok(fit.filter(Number.isFinite).length >= train.length / 2);
  });
  await t.step(`${name}: toJSON() → restore gives the same forecast`, async () => {
    const state = JSON.parse(JSON.stringify(model.toJSON()));
    assert.equal(state.algorithm, model.algorithm);
    const back = await restoreForecaster(state);
    const a = model.predict(h, [95]).mean, b = back.predict(h, [95]).mean;
    for (let k = 0; k < h; k++) {
      assert.ok(Math.abs(a[k]! - b[k]!) <= 1e-3 * (1 + Math.abs(a[k]!)), `step ${k}: ${a[k]} vs ${b[k]}`);
    }
  });
}
