/** The scale model: fitted on sizes made from known parameters, it gives them back and extrapolates as stated. */
import assert from "node:assert/strict";
import {
  DEFAULT_PRICES,
  executorsFor,
  extrapolate,
  fitScale,
  fitSingleNode,
  type ScaleSample,
  singleNodeCapacityGB,
} from "@mercury/spark/analyze";

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

Deno.test("the crossover: one machine's capacity per budget, and the fewest executors the model needs for it", () => {
  const duck = fitSingleNode([{ inputGB: 0.5, wallS: 9 }, { inputGB: 4, wallS: 65 }], 2);
  assert.ok(Math.abs(duck.sPerGB - 16) < 1e-9 && Math.abs(duck.fixedS - 1) < 1e-9);
  assert.ok(Math.abs(singleNodeCapacityGB(duck, 3601) - 225) < 1e-9);
  // 16 cores at efficiency 0.7: 16 / 2 × 0.7 = 5.6 times the rate.
  assert.ok(Math.abs(singleNodeCapacityGB(duck, 3601, 16, 0.7) - 225 * 5.6) < 1e-6);
  assert.equal(singleNodeCapacityGB(duck, 0.5), 0);
  assert.throws(() => fitSingleNode([{ inputGB: 1, wallS: 2 }], 2), RangeError);

  const model = fitScale([
    { label: "a", inputGB: 1, cores: 2, wallS: 110, taskCoreS: 200, shuffleGB: 2 },
    { label: "b", inputGB: 10, cores: 2, wallS: 1010, taskCoreS: 2000, shuffleGB: 20 },
  ]);
  for (const [gb, budget] of [[100, 600], [1000, 3600], [5, 60]] as const) {
    const n = executorsFor(model, gb, budget, 4);
    const at = (k: number) =>
      extrapolate(model, { inputGB: gb, executors: k, coresPerExecutor: 4, memoryGbPerExecutor: 16 });
    assert.ok(at(n).wallS <= budget + 1e-9, `${n} executors finish ${gb} GB in ${budget} s`);
    if (n > 1) assert.ok(at(n - 1).wallS > budget, `${n - 1} executors do not`);
  }
  assert.equal(executorsFor(model, 10, model.fixedS, 4), Infinity);
});
