/**
 * The shared suite every Forecaster runs: fit, predict with intervals that
 * nest and contain the mean, fitted values of the right length, JSON round
 * trip to the same forecast, sensible accuracy on a clean seasonal series, and
 * a first forecast step near the recent level on seeded synthetic series of
 * every frequency (weekly with level shifts, short weekly, daily, monthly,
 * quarterly, yearly).
 */
import assert from "node:assert/strict";
import {
  ALGORITHMS,
  type Forecaster,
  linearFit,
  restoreForecaster,
  type SyntheticKind,
  syntheticSeries,
} from "@mercury/forecast";

/** The synthetic series every model's first forecast step is checked on (one seeded series of each kind). */
export const PLAUSIBILITY_KINDS: SyntheticKind[] = [
  "weekly",
  "weekly_short",
  "daily",
  "monthly",
  "quarterly",
  "yearly",
];

/**
 * Where a first forecast step is plausible: the range of the last season (at least 8 points), widened by half its
 * width and by what the recent trend (slope of the last two seasons) moves over that window.
 */
export function plausibleFirstStep(train: number[], m: number): [number, number] {
  const w = Math.max(m, 8);
  const last = train.slice(-w);
  const lo = Math.min(...last), hi = Math.max(...last);
  const [, slope] = linearFit(train.slice(-Math.max(2 * m, 16)));
  const widen = 0.5 * (hi - lo) + Math.abs(slope) * w;
  return [lo - widen, hi + widen];
}

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
  await t.step(`${name}: the first forecast step lies near the recent level on synthetic series`, async () => {
    const min = ALGORITHMS.get(name)?.minPoints ?? (() => 0);
    for (const kind of PLAUSIBILITY_KINDS) {
      const s = syntheticSeries(kind, 1);
      const train = s.y.slice(0, s.y.length - s.h);
      if (train.length < min(s.m)) continue; // the CLI refuses this series for this model
      const model = make();
      try {
        await model.fit(train, { season: s.m });
      } catch (e) {
        // a model whose parameters need more history than the registry's minimum refuses it by name (neural lookback)
        if (e instanceof RangeError && /needs at least/.test(e.message)) continue;
        throw e;
      }
      const first = model.predict(s.h, [80]).mean[0]!;
      const [lo, hi] = plausibleFirstStep(train, s.m);
      assert.ok(
        first >= lo && first <= hi,
        `${s.id} (${train.length} points, m ${s.m}): first step ${first.toFixed(1)} outside [${lo.toFixed(1)}, ${
          hi.toFixed(1)
        }], last value ${train[train.length - 1]!.toFixed(1)}, ${model.describe()}`,
      );
    }
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
