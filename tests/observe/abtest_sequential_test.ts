import assert from "node:assert/strict";
import { normal, seededRandom } from "@mercury/core/random";
import { MercuryError } from "@mercury/core";
import { AbTest, SequentialTest, shadow, TrafficSplit } from "@mercury/observe/stats";
import { normalSf } from "../../plugins/observe/stats/_special.ts";

const ALPHA = 0.05;

/** One A/A or A/B run of conversions, watched after every observation; also a naive z-test peeked every 100 pairs. */
function run(seed: number, pA: number, pB: number, n: number) {
  const r = seededRandom(seed);
  const t = new SequentialTest({ alpha: ALPHA, tau: 0.02, minSamples: 100 });
  let naive = false, sA = 0, sB = 0, firstReject = -1;
  for (let i = 1; i <= n; i++) {
    const a = r() < pA ? 1 : 0, b = r() < pB ? 1 : 0;
    t.add("A", a);
    t.add("B", b);
    sA += a;
    sB += b;
    if (firstReject < 0 && t.result().decision !== "continue") firstReject = i;
    if (i % 100 === 0 && !naive) {
      const p = (sA + sB) / (2 * i), se = Math.sqrt(p * (1 - p) * 2 / i);
      if (se > 0 && 2 * normalSf(Math.abs((sB - sA) / i / se)) < ALPHA) naive = true;
    }
  }
  return {
    decision: firstReject > 0 ? t.result().decision : "continue",
    rejected: firstReject > 0,
    naive,
    firstReject,
  };
}

Deno.test("mSPRT on conversions: 2,000 A/A runs watched after every pair keep false positives ≤ α; peeking at a z-test does not", () => {
  const runs = 2000;
  let fp = 0, naiveFp = 0;
  for (let s = 0; s < runs; s++) {
    const o = run(1000 + s, 0.1, 0.1, 3000);
    if (o.rejected) fp++;
    if (o.naive) naiveFp++;
  }
  const rate = fp / runs, naiveRate = naiveFp / runs;
  console.log(
    `A/A false-positive rate: mSPRT ${rate.toFixed(4)} (α = ${ALPHA}), naive z-test peeked 30 times ${
      naiveRate.toFixed(4)
    }`,
  );
  // no margin added: the observed rate itself must be ≤ α (its binomial standard error at α is ≈ 0.005)
  assert.ok(rate <= ALPHA, `false-positive rate ${rate}`);
  // and the comparison shows why it matters: continuous peeking at a fixed-horizon test inflates errors
  assert.ok(naiveRate > 2 * ALPHA, `naive peeking rate ${naiveRate}`);
});

Deno.test("mSPRT on means: 1,000 A/A runs of normal data keep false positives ≤ α", () => {
  let fp = 0;
  for (let s = 0; s < 1000; s++) {
    const r = seededRandom(50_000 + s);
    const t = new SequentialTest({ alpha: ALPHA, tau: 0.5, minSamples: 100 });
    for (let i = 0; i < 2000; i++) {
      t.add("A", normal(r, 10, 3));
      t.add("B", normal(r, 10, 3));
    }
    if (t.result().pValue <= ALPHA) fp++; // p is non-increasing: ≤ α at the end iff it ever crossed
  }
  console.log(`A/A (means) false-positive rate ${(fp / 1000).toFixed(4)}`);
  assert.ok(fp / 1000 <= ALPHA, `false-positive rate ${fp / 1000}`);
});

Deno.test("mSPRT detects a real lift (10% → 13% conversion) in ≥ 90% of 500 runs, choosing B", () => {
  let detected = 0, wrong = 0;
  const when: number[] = [];
  for (let s = 0; s < 500; s++) {
    const o = run(9000 + s, 0.1, 0.13, 4000);
    if (o.decision === "B") {
      detected++;
      when.push(o.firstReject);
    } else if (o.decision === "A") wrong++;
  }
  when.sort((a, b) => a - b);
  console.log(`power ${(detected / 500).toFixed(3)}, median stop at ${when[when.length >> 1]} users per arm`);
  assert.ok(detected / 500 >= 0.9, `power ${detected / 500}`);
  assert.equal(wrong, 0);
});

Deno.test("a guardrail stops a test whose candidate is slower, before the primary metric decides", () => {
  const r = seededRandom(4);
  const test = new AbTest({
    primary: { name: "conversion", tau: 0.02, higherIsBetter: true },
    guardrails: [{ name: "latency_ms", tau: 5, higherIsBetter: false, tolerance: 1 }],
  });
  let i = 0;
  for (; i < 20_000 && test.status().state === "running"; i++) {
    test.observe("A", { conversion: r() < 0.1 ? 1 : 0, latency_ms: normal(r, 50, 10) });
    test.observe("B", { conversion: r() < 0.1 ? 1 : 0, latency_ms: normal(r, 55, 10) });
  }
  const s = test.status();
  assert.equal(s.state, "stopped_by_guardrail");
  assert.equal(s.reason, "latency_ms");
  assert.ok(s.guardrails.latency_ms!.ci[0] > 1);
  assert.ok(i < 2000, `stopped after ${i} pairs`);
  assert.throws(
    () => new AbTest({ primary: { name: "x", tau: 1, higherIsBetter: true } }).observe("A", {}),
    (e) => e instanceof MercuryError && /lacks metric "x"/.test(e.message),
  );
});

Deno.test("TrafficSplit is sticky, follows the weights, and a new salt reshuffles keys", () => {
  const a = new TrafficSplit([{ name: "v1", weight: 1 }, { name: "v2", weight: 1 }], "exp-a");
  const b = new TrafficSplit([{ name: "v1", weight: 1 }, { name: "v2", weight: 1 }], "exp-b");
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
  const va = keys.map((k) => a.assign(k));
  assert.deepEqual(keys.slice(0, 100).map((k) => a.assign(k)), va.slice(0, 100));
  const share = va.filter((v) => v === "v2").length / keys.length;
  assert.ok(Math.abs(share - 0.5) < 0.015, `share ${share}`);
  const same = keys.filter((k, i) => b.assign(k) === va[i]).length / keys.length;
  assert.ok(Math.abs(same - 0.5) < 0.02, `agreement across salts ${same}`);
  assert.throws(() => new TrafficSplit([], "x"), MercuryError);
});

Deno.test("shadow() answers with the primary and records candidate outputs and disagreements", async () => {
  const results: number[] = [];
  const predict = shadow(
    (x: number) => (x > 5 ? 1 : 0),
    (x: number) => Promise.resolve(x > 4 ? 1 : 0),
    (r) => results.push(r.candidate!),
  );
  const out = await Promise.all([1, 5, 9].map((x) => predict(x)));
  await predict.settled();
  assert.deepEqual(out, [0, 0, 1]);
  assert.deepEqual(results, [0, 1, 1]);
  assert.deepEqual(predict.stats(), { calls: 3, candidateErrors: 0, disagreements: 1 });
});
