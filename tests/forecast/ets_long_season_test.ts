import { AutoARIMA, AutoETS, createForecaster, mase, syntheticSeries, syntheticSet } from "@mercury/forecast";
import { Mstl } from "@mercury/forecast/prophet";
import assert from "node:assert/strict";
import { plausibleFirstStep } from "./forecaster_suite.ts";

/** Mean MASE of an algorithm over the held-out horizons of a synthetic set. */
async function meanMase(name: string, kind: "weekly" | "weekly_short", count: number): Promise<number> {
  let sum = 0;
  for (const s of syntheticSet(kind, count)) {
    const train = s.y.slice(0, s.y.length - s.h), test = s.y.slice(s.y.length - s.h);
    const model = createForecaster(name);
    await model.fit(train, { season: s.m });
    sum += mase(train, test, model.predict(s.h, []).mean, s.m);
  }
  return sum / count;
}

Deno.test("AutoETS on long seasons and short series", async (t) => {
  await t.step("weekly m=52 with level shifts: clearly better than naive and seasonal naive", async () => {
    // development data only (seeded synthetic); the joint search of 51 seasonal states scored 0.99 here (naive 1.10, seasonal naive 1.07)
    const ets = await meanMase("auto_ets", "weekly", 40);
    const naive = await meanMase("naive", "weekly", 40);
    const snaive = await meanMase("seasonal_naive", "weekly", 40);
    assert.ok(
      ets < 0.8 * Math.min(naive, snaive),
      `auto_ets ${ets.toFixed(3)}, naive ${naive.toFixed(3)}, snaive ${snaive.toFixed(3)}`,
    );
  });
  await t.step("weekly m=52: every first step near the recent level", async () => {
    for (const s of syntheticSet("weekly", 20)) {
      const train = s.y.slice(0, s.y.length - s.h);
      const m = new AutoETS();
      await m.fit(train, { season: 52 });
      const [lo, hi] = plausibleFirstStep(train, 52);
      const first = m.predict(s.h, []).mean[0]!;
      assert.ok(first >= lo && first <= hi, `${s.id}: ${first} outside [${lo}, ${hi}], ${m.describe()}`);
    }
  });
  await t.step("a seasonal weekly model follows a level shift in the last season", async () => {
    // each series doubles or halves 30 weeks before its end; the joint search of 51 seasonal states left the level
    // behind: series ending near 328 forecast at 639, near 24 at 73, near 7,404 at 4,811
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const s = syntheticSeries("weekly", seed);
      const n = s.y.length - s.h;
      const y = s.y.slice(0, n).map((v, t) => (t >= n - 30 ? v * (seed % 2 ? 2 : 0.5) : v));
      const m = new AutoETS({ model: "MNM" });
      await m.fit(y, { season: 52 });
      const recent = y.slice(-8).reduce((a, b) => a + b, 0) / 8;
      const first = m.predict(1, []).mean[0]!;
      assert.ok(Math.abs(first / recent - 1) < 0.3, `seed ${seed}: first step ${first}, recent mean ${recent}`);
    }
  });
  await t.step("a weekly series shorter than two seasons falls back to a non-seasonal model and says so", async () => {
    const s = syntheticSeries("weekly_short", 3);
    const train = s.y.slice(0, 80);
    const m = new AutoETS();
    await m.fit(train, { season: 52 });
    assert.match(m.describe(), /^ETS\([AM],(N|A|Ad),N\) \[non-seasonal: 80 points < 106 for season 52\]$/);
    assert.equal(m.fallback, "non-seasonal: 80 points < 106 for season 52");
    const back = AutoETS.fromState(JSON.parse(JSON.stringify(m.toJSON())));
    assert.equal(back.fallback, m.fallback);
    assert.equal(m.predict(13, []).mean.length, 13);
  });
  await t.step("a series long enough for its season records no fallback", async () => {
    const s = syntheticSeries("monthly", 2);
    const m = new AutoETS();
    await m.fit(s.y.slice(0, s.y.length - s.h), { season: 12 });
    assert.equal(m.fallback, undefined);
    assert.doesNotMatch(m.describe(), /non-seasonal/);
  });
  await t.step(
    "MSTL on a series shorter than two seasons forecasts (non-seasonal AutoETS) instead of failing",
    async () => {
      const s = syntheticSeries("weekly_short", 1);
      const train = s.y.slice(0, s.y.length - s.h);
      const m = new Mstl();
      await m.fit(train, { season: 52 });
      assert.match(m.describe(), /^MSTL\(periods=none: \d+ points < 2×52\) → ETS\(/);
      const f = m.predict(s.h, [80]);
      assert.ok(f.mean.every(Number.isFinite));
    },
  );
});

Deno.test("AutoARIMA on long seasons and short series fits non-seasonal and says so", async (t) => {
  await t.step("daily with a 365-day season: non-seasonal, within seconds", async () => {
    const s = syntheticSeries("daily_yearly", 1);
    const t0 = performance.now();
    const m = new AutoARIMA();
    await m.fit(s.y.slice(0, s.y.length - s.h), { season: 365 });
    assert.match(m.describe(), /^ARIMA\(\d,\d,\d\)( with \w+)? \[non-seasonal: season 365 > 52\]$/);
    assert.equal(m.model.fallback, "non-seasonal: season 365 > 52");
    assert.ok(performance.now() - t0 < 30_000, `${performance.now() - t0} ms`);
  });
  await t.step("weekly shorter than two seasons: non-seasonal, recorded in the saved state", async () => {
    const s = syntheticSeries("weekly_short", 2);
    const m = new AutoARIMA();
    await m.fit(s.y.slice(0, 80), { season: 52 });
    assert.match(m.describe(), /\[non-seasonal: 80 points < 107 for season 52\]$/);
    const back = AutoARIMA.fromState(JSON.parse(JSON.stringify(m.toJSON())));
    assert.equal(back.describe(), m.describe());
  });
  await t.step("weekly m=52 with enough history keeps its season", async () => {
    const s = syntheticSeries("weekly", 2);
    const m = new AutoARIMA();
    await m.fit(s.y.slice(0, s.y.length - s.h), { season: 52 });
    assert.equal(m.model.fallback, undefined);
  });
});
