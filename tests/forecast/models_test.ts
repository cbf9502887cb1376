import { AutoARIMA, AutoETS, createForecaster } from "@mercury/forecast";
import assert from "node:assert/strict";
import { forecasterSuite, seasonalSeries } from "./forecaster_suite.ts";

const tiny = { lookback: 24, horizon: 12, units: 4, epochs: 3, calibration: 12 };
const cases: [string, Record<string, unknown>, number][] = [
  ["naive", {}, 6],
  ["seasonal_naive", {}, 3],
  ["drift", {}, 6],
  ["naive2", {}, 6],
  ["theta", {}, 3],
  ["optimized_theta", {}, 3],
  ["auto_ets", {}, 3],
  ["auto_arima", {}, 3],
  ["mstl", {}, 3],
  ["prophet", {}, 3],
  ["lstm", tiny, 12],
  ["transformer", tiny, 12],
  // N-BEATS is a global model; fitted on this one 84-point series alone it has ~15 training windows (MASE 3.6 here).
  ["nbeats", { lookback: 2, units: 32, epochs: 60, batchSize: 32 }, 5],
  ["ensemble", { members: ["seasonal_naive", "theta", "auto_ets"], combination: "weighted", horizon: 12 }, 3],
];

Deno.test("every Forecaster passes the shared suite", { sanitizeResources: false, sanitizeOps: false }, async (t) => {
  for (const [name, params, maxMase] of cases) {
    await forecasterSuite(t, name, () => createForecaster(name, params), maxMase);
  }
});

Deno.test("AutoARIMA finds the seasonal difference and an exact-likelihood fit", async () => {
  const y = seasonalSeries(120, 12);
  const m = new AutoARIMA();
  await m.fit(y, { season: 12 });
  assert.equal(m.model.order.D, 1);
  assert.equal(m.model.method, "CSS-ML");
  assert.match(m.describe(), /\[12\]/);
});

Deno.test("AutoARIMA reproduces an AR(1) coefficient", async () => {
  let v = 0, s = 1;
  const y = Array.from({ length: 400 }, () => {
    s = (s * 16807) % 2147483647;
    const u1 = s / 2147483647;
    s = (s * 16807) % 2147483647;
    const u2 = s / 2147483647;
    return (v = 0.6 * v + Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  });
  const m = new AutoARIMA({ order: [1, 0, 0] });
  await m.fit(y, { season: 1 });
  assert.ok(Math.abs(m.model.coefs.ar[0]! - 0.6) < 0.1, `ar1 = ${m.model.coefs.ar[0]}`);
});

Deno.test("AutoETS picks a seasonal model for a seasonal series and rejects a bad spec", async () => {
  const m = new AutoETS();
  await m.fit(seasonalSeries(96, 12), { season: 12 });
  assert.match(m.describe(), /ETS\([AM],(N|A|Ad),[AM]\)/);
  assert.throws(() => new AutoETS({ model: "QQQ" }), /Cannot parse ETS model/);
});
