/**
 * `deno task bench:stream-aggregate`: the per-event cost of window
 * aggregation, in process (no Kafka, no sink), and the percentile sketch
 * against Datadog's DDSketch in the same run.
 *
 * 1. Sketches: 1,000,000 values into windows of 3 values each (as with many
 *    keys and short windows), one fresh sketch per window: `DDSketch` from
 *    `@datadog/sketches-js` vs Mercury's sparse `QuantileSketch` (same bins,
 *    same answers).
 * 2. Aggregator: 400,000 generated events through parse → `WindowAggregator`
 *    (tumbling 1 minute: count, sum, min, max, HyperLogLog, sketch) at 100 and
 *    10,000 users; µs per event for parse (from text, and from bytes inside
 *    one buffer as the worker does), aggregation and the observation log.
 *
 * Medians of 5 runs. Writes bench/results/stream_aggregate.json.
 *
 * @module
 */
import {
  DDSketch,
  generateEvents,
  isRejected,
  ObservationLog,
  parseEvent,
  parseEventAt,
  QUANTILE_ACCURACY,
  QuantileSketch,
  tumbling,
  WindowAggregator,
} from "@mercury/stream";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = 5;

function sketches(kind: "ddsketch" | "quantile"): number {
  const n = 1_000_000;
  const t = performance.now();
  let s: { accept(v: number): void; getValueAtQuantile(q: number): number } | undefined;
  let check = 0;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      if (s) check += s.getValueAtQuantile(0.5);
      s = kind === "ddsketch" ? new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY }) : new QuantileSketch();
    }
    s!.accept(1 + (i * 7919) % 1000);
  }
  if (!Number.isFinite(check)) throw new Error("unreachable");
  return ((performance.now() - t) * 1000) / n;
}

function aggregate(users: number): { parse: number; parseBytes: number; aggregate: number; log: number } {
  const values = [...generateEvents({ count: 400_000, users, seed: 1, start: Date.now() - 7_200_000, stepMs: 20 })]
    .map((r) => r.value);
  let t = performance.now();
  const parsed = values.map((v) => parseEvent(v));
  const parse = ((performance.now() - t) * 1000) / values.length;
  // As the worker reads them: records inside one buffer (a fetched batch), parsed by offsets.
  const encoded = values.map((v) => new TextEncoder().encode(v));
  const batch = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
  const bounds: number[] = [];
  let at = 0;
  for (const b of encoded) {
    batch.set(b, at);
    bounds.push(at, at + b.length);
    at += b.length;
  }
  t = performance.now();
  let accepted = 0;
  for (let i = 0; i < bounds.length; i += 2) {
    if (!isRejected(parseEventAt(batch, bounds[i]!, bounds[i + 1]!))) accepted++;
  }
  const parseBytes = ((performance.now() - t) * 1000) / values.length;
  if (accepted !== parsed.filter((e) => !isRejected(e)).length) throw new Error("the two parse paths disagree");
  const agg = new WindowAggregator({ window: tumbling(60_000), maxOutOfOrdernessMs: 5000 });
  t = performance.now();
  let n = 0;
  for (const e of parsed) {
    if (isRejected(e)) continue;
    agg.add({ key: e.user, ts: e.ts, value: e.amount, distinct: e.device });
    if (++n % 5000 === 0) agg.advance();
  }
  const aggregate = ((performance.now() - t) * 1000) / n;
  // The observation log between snapshots: one append per accepted observation, a chunk per 8,000.
  const log = new ObservationLog();
  const attrs = { tier: "gold" };
  t = performance.now();
  for (const e of parsed) {
    if (isRejected(e)) continue;
    log.append({ key: e.user, ts: e.ts, value: e.amount, distinct: e.device, attrs });
    if (log.length === 8000) log.take();
  }
  log.take();
  return { parse, parseBytes, aggregate, log: ((performance.now() - t) * 1000) / n };
}

const out: Record<string, number> = {};
const dd: number[] = [];
const qs: number[] = [];
for (let r = 0; r < RUNS; r++) {
  dd.push(sketches("ddsketch"));
  qs.push(sketches("quantile"));
}
out.ddsketch_us_per_value = median(dd);
out.quantile_sketch_us_per_value = median(qs);
console.log(
  `sketch, 3 values per window: DDSketch ${median(dd).toFixed(3)} µs/value, QuantileSketch ${
    median(qs).toFixed(3)
  } µs/value (${(median(dd) / median(qs)).toFixed(1)}× faster)`,
);
for (const users of [100, 10_000]) {
  const runs = Array.from({ length: RUNS }, () => aggregate(users));
  const p = median(runs.map((x) => x.parse));
  const pb = median(runs.map((x) => x.parseBytes));
  const a = median(runs.map((x) => x.aggregate));
  const l = median(runs.map((x) => x.log));
  out[`parse_us_per_event_${users}_users`] = p;
  out[`parse_bytes_us_per_event_${users}_users`] = pb;
  out[`aggregate_us_per_event_${users}_users`] = a;
  out[`observation_log_us_per_event_${users}_users`] = l;
  console.log(
    `${users} users: parse text ${p.toFixed(2)} µs/event, parse bytes in a batch ${pb.toFixed(2)}, ` +
      `aggregate ${a.toFixed(2)}, observation log ${l.toFixed(3)}`,
  );
}
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/stream_aggregate.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), runs: RUNS, ...out }, null, 2) + "\n",
);
