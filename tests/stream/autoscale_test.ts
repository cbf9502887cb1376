import assert from "node:assert/strict";
import { Autoscaler, bucketQuantile, decideScale, parseHistogram, type WorkerPool } from "@mercury/stream";

const policy = { min: 1, max: 6, scaleUpLagPerWorker: 10_000, scaleDownLagPerWorker: 1_000, cooldownMs: 10_000 };

Deno.test("decideScale(): thresholds, caps and cooldown", async (t) => {
  const at = (workers: number, lag: number, partitions = 12, sinceChangeMs = 60_000) =>
    decideScale(policy, { workers, partitions, lag, sinceChangeMs }).to;
  await t.step("scales up to what the lag needs, capped by max", () => {
    assert.equal(at(1, 25_000), 3);
    assert.equal(at(1, 1_000_000), 6);
  });
  await t.step("never more workers than partitions", () => assert.equal(at(1, 1_000_000, 4), 4));
  await t.step("holds between the thresholds (hysteresis)", () => {
    assert.equal(at(3, 20_000), 3); // 6,667 per worker: below up, above down
  });
  await t.step("scales down one step at a time, not below min", () => {
    assert.equal(at(4, 0), 3);
    assert.equal(at(1, 0), 1);
  });
  await t.step("cooldown blocks changes but not the minimum", () => {
    assert.equal(at(2, 1_000_000, 12, 5_000), 2);
    assert.equal(at(0, 0, 12, 0), 1);
  });
});

class FakePool implements WorkerPool {
  n = 0;
  size = () => this.n;
  start = () => Promise.resolve(void this.n++);
  stop = () => Promise.resolve(void this.n--);
}

Deno.test("Autoscaler: follows a burst up and back down without flapping, logging each decision", async () => {
  const pool = new FakePool();
  let now = 0;
  const lags = [0, 50_000, 60_000, 40_000, 9_000, 3_000, 500, 500, 2_000, 500, 500, 0, 0, 0];
  let i = 0;
  const lines: string[] = [];
  const scaler = new Autoscaler({
    policy,
    pool,
    lag: () => Promise.resolve({ lag: lags[Math.min(i++, lags.length - 1)]!, partitions: 12 }),
    log: (l) => lines.push(l),
    now: () => now,
  });
  const sizes: number[] = [];
  for (let step = 0; step < lags.length; step++) {
    await scaler.step();
    sizes.push(pool.n);
    now += 5_000; // two steps per cooldown
  }
  // Up at once when the cooldown allows, then down one step per cooldown.
  assert.deepEqual(sizes, [1, 1, 6, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1]);
  // Every change is logged with the lag behind it, and no change reverses the previous one within the cooldown.
  assert.equal(lines.length, scaler.decisions.length);
  for (const l of lines) assert.match(l, /^scale \d → \d workers: .*\(lag \d+\)$/);
  for (let k = 1; k < scaler.decisions.length; k++) {
    assert.ok(scaler.decisions[k]!.at - scaler.decisions[k - 1]!.at >= policy.cooldownMs);
  }
  assert.throws(
    () => new Autoscaler({ ...scaler.options, policy: { ...policy, scaleDownLagPerWorker: 20_000 } }),
    /flap/,
  );
});

Deno.test("parseHistogram() and bucketQuantile() read latency percentiles out of /metrics text", () => {
  const text = [
    "# TYPE mercury_stream_end_to_end_latency_seconds histogram",
    'mercury_stream_end_to_end_latency_seconds_bucket{le="0.1"} 50',
    'mercury_stream_end_to_end_latency_seconds_bucket{le="1"} 90',
    'mercury_stream_end_to_end_latency_seconds_bucket{le="+Inf"} 100',
    "mercury_stream_end_to_end_latency_seconds_count 100",
  ].join("\n");
  const b = parseHistogram(text, "mercury_stream_end_to_end_latency_seconds");
  parseHistogram(text, "mercury_stream_end_to_end_latency_seconds", b); // a second worker
  assert.equal(b.get(Infinity), 200);
  assert.equal(bucketQuantile(b, 0.5), 0.1);
  assert.ok(Math.abs(bucketQuantile(b, 0.7)! - 0.55) < 1e-9);
  assert.equal(bucketQuantile(b, 0.99), 1);
  assert.equal(bucketQuantile(new Map(), 0.5), undefined);
});
