/** The scale model: fitted on sizes made from known parameters, it gives them back and extrapolates as stated. */
import assert from "node:assert/strict";
import { DEFAULT_PRICES, extrapolate, fitScale, type ScaleSample } from "@mercury/spark/analyze";

// A workload with 20 s that cores do not shorten, 90 task core-seconds and 0.3 GB of shuffle per input GB.
const sample = (label: string, inputGB: number, cores: number): ScaleSample => ({
  label,
  inputGB,
  cores,
  taskCoreS: 90 * inputGB,
  wallS: 20 + (90 * inputGB) / cores,
  shuffleGB: 0.3 * inputGB,
});

Deno.test("fitScale recovers the fixed time, core-seconds and shuffle per GB; refuses a single size", () => {
  const m = fitScale([sample("SF1", 0.37, 2), sample("SF10", 3.7, 2)]);
  assert.ok(Math.abs(m.fixedS - 20) < 1e-9, String(m.fixedS));
  assert.ok(Math.abs(m.coreSPerGB - 90) < 1e-9);
  assert.ok(Math.abs(m.shufflePerInputGB - 0.3) < 1e-9);
  assert.ok(Math.abs(m.localEfficiency - 1) < 1e-9, String(m.localEfficiency));
  for (const f of m.fit) assert.ok(Math.abs(f.modelS - f.measuredS) < 1e-9, f.label);
  assert.throws(() => fitScale([sample("a", 1, 2), sample("b", 1, 4)]), /two or more input sizes/);
});

Deno.test("extrapolate: compute shrinks with executors, shuffle with bandwidth; cost is executors × wall × price", () => {
  const m = fitScale([sample("SF1", 1, 2), sample("SF10", 10, 2)]);
  const at = (executors: number, networkGBps?: number) =>
    extrapolate(m, { inputGB: 1000, executors, coresPerExecutor: 4, memoryGbPerExecutor: 16, networkGBps });
  const a = at(100);
  const b = at(200);
  assert.ok(Math.abs(a.computeS - (90 * 1000) / (400 * 0.7)) < 1e-9);
  assert.ok(Math.abs(b.computeS - a.computeS / 2) < 1e-9);
  assert.ok(Math.abs(a.shuffleGB - 300) < 1e-9);
  assert.ok(Math.abs(a.shuffleS - 300 / (100 * 1.25)) < 1e-9);
  assert.ok(at(100, 0.125).shuffleS > a.shuffleS * 9.99);
  assert.ok(Math.abs(a.wallS - (20 + a.computeS + a.shuffleS)) < 1e-9);
  const hours = a.wallS / 3600;
  const money = hours * 100 * (4 * DEFAULT_PRICES.perCoreHour + 16 * DEFAULT_PRICES.perGbHour);
  assert.ok(Math.abs(a.money - money) < 1e-9 * money);
  assert.equal(a.currency, DEFAULT_PRICES.currency);
});
