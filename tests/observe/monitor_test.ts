import assert from "node:assert/strict";
import { AlertEngine, churnData, ModelMonitor, prometheusRules, promqlOf } from "@mercury/observe";
import { checkRulesText } from "../../plugins/observe/prometheus_files.ts";
import { DEFAULT_RULES } from "../../plugins/observe/alerts.ts";

Deno.test("ModelMonitor: drift reacts to a shift injected half way; degradation against the reference is flagged", () => {
  const features = ["tenure", "spend", "tickets", "discount"];
  const m = new ModelMonitor({ kind: "classifier", features, windowSize: 300, referenceSize: 300 });
  const before = churnData(600, { seed: 3 });
  for (const r of before.x) m.addPrediction(r);
  // Labels: good scores on the reference, poor ones on the current window.
  for (let i = 0; i < 300; i++) m.addLabel(before.y[i]! ? 0.9 : 0.1, before.y[i]!);
  const calm = m.drift()!;
  assert.equal(calm.drifted, false, JSON.stringify(calm));
  assert.deepEqual(calm.features.map((f) => f.method), ["ks", "ks", "ks", "ks"]);
  const after = churnData(300, { seed: 4, shift: 1.5 });
  for (const r of after.x) m.addPrediction(r);
  const d = m.drift()!;
  assert.equal(d.drifted, true);
  assert.ok(d.share >= 0.5, `share ${d.share}`);
  assert.deepEqual(d.features.filter((f) => f.drifted).map((f) => f.name), ["tenure", "spend", "tickets"]);
  for (let i = 0; i < 300; i++) m.addLabel(0.5 + (i % 2 ? 0.1 : -0.1), i % 3 === 0 ? 1 : 0, i % 2 ? "web" : "store");
  const s = m.snapshot();
  assert.equal(s.reference?.metric, "roc_auc");
  assert.equal(s.reference?.value, 1);
  assert.ok(s.current!.value < 0.6);
  assert.equal(s.degraded, true);
  assert.deepEqual(Object.keys(s.segments).sort(), ["store", "web"]);
});

Deno.test("ModelMonitor: CBPE estimates the unlabelled window's accuracy, near the realised one once labels arrive", () => {
  // Scores calibrated by construction (label ~ Bernoulli(score)); the current window is shifted towards high scores.
  let seed = 42;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const m = new ModelMonitor({ kind: "classifier", features: ["p"], windowSize: 2000, referenceSize: 2000 });
  for (let i = 0; i < 2000; i++) {
    const p = rand();
    m.addPrediction([p], p);
    m.addLabel(p, rand() < p ? 1 : 0);
  }
  assert.equal(m.snapshot().estimated?.n, 2000);
  const current: { p: number; y: number }[] = [];
  for (let i = 0; i < 2000; i++) {
    const p = 0.3 + 0.7 * rand();
    current.push({ p, y: rand() < p ? 1 : 0 });
    m.addPrediction([p], p);
  }
  const est = m.snapshot().estimated!;
  assert.equal(est.n, 2000);
  const realised = current.filter((c) => (c.p >= 0.5 ? 1 : 0) === c.y).length / current.length;
  assert.ok(Math.abs(est.accuracy - realised) < 0.04, `estimated ${est.accuracy}, realised ${realised}`);
  assert.ok(est.rocAuc > 0.5 && est.rocAuc < 1, `roc auc ${est.rocAuc}`);
  // A regressor has no CBPE estimate.
  const r = new ModelMonitor({ kind: "regressor", features: ["a"] });
  r.addPrediction([1], 2);
  assert.equal(r.snapshot().estimated, undefined);
});

Deno.test("ModelMonitor: request stats give p99 latency and the error rate", () => {
  const m = new ModelMonitor({ kind: "regressor", features: ["a"] });
  for (let i = 1; i <= 100; i++) m.addRequest(i);
  m.addRequest(NaN);
  const r = m.requestStats();
  assert.equal(r.latencyP99Ms, 99);
  assert.ok(Math.abs(r.errorRate! - 1 / 101) < 1e-12);
});

Deno.test("AlertEngine: for-duration, one webhook per firing, resolve, cool-down", async () => {
  let now = 0;
  const sent: { url: string; state: string }[] = [];
  const engine = new AlertEngine([
    {
      name: "Slow",
      kind: "latency_slo",
      model: "*",
      value: 20,
      forMs: 3000,
      cooldownMs: 10_000,
      webhooks: ["http://hook"],
    },
  ], {
    now: () => now,
    send: (url, p) => {
      sent.push({ url, state: (p as { state: string }).state });
      return Promise.resolve();
    },
  });
  const x = (ms: number) => [{ model: "m", version: "1", metrics: {}, latencyP99Ms: ms }];
  assert.deepEqual((await engine.evaluate(x(30))).map((e) => e.state), ["pending"]);
  now = 2000;
  assert.deepEqual(await engine.evaluate(x(30)), []);
  now = 3000;
  assert.deepEqual((await engine.evaluate(x(30))).map((e) => e.state), ["firing"]);
  now = 4000;
  assert.deepEqual(await engine.evaluate(x(30)), []);
  now = 5000;
  assert.deepEqual((await engine.evaluate(x(5))).map((e) => e.state), ["resolved"]);
  now = 6000;
  assert.deepEqual(await engine.evaluate(x(30)), [], "inside the cool-down nothing starts");
  now = 15_000;
  assert.deepEqual((await engine.evaluate(x(30))).map((e) => e.state), ["pending"]);
  assert.deepEqual(sent, [{ url: "http://hook", state: "firing" }, { url: "http://hook", state: "resolved" }]);
  assert.throws(() => new AlertEngine([{ name: "bad name", kind: "drift", model: "*", value: 1 }]), /identifier/);
  assert.throws(() => new AlertEngine([{ name: "X", kind: "nope" as "drift", model: "*", value: 1 }]), /kind "nope"/);
});

Deno.test("alert rules mirror as Prometheus rules that promtool accepts", async () => {
  const rules = [
    ...DEFAULT_RULES,
    { name: "AucLow", kind: "threshold" as const, model: "churn", metric: "roc_auc", op: "<" as const, value: 0.7 },
  ];
  assert.equal(
    promqlOf(rules[4]!),
    'mercury_observe_performance{window="current",metric="roc_auc",model="churn"} < 0.7',
  );
  const text = prometheusRules(rules);
  const out = await checkRulesText(text);
  assert.match(out, /SUCCESS: 5 rules found/);
  await assert.rejects(() => checkRulesText(text.replace("for: 30s", "for: soon")), /promtool refused/);
  // The checked-in copy for compose users is the same text.
  const shipped = await Deno.readTextFile(new URL("../../services/prometheus/rules/observe.yml", import.meta.url));
  assert.equal(shipped, prometheusRules(DEFAULT_RULES));
});
