import assert from "node:assert/strict";
import {
  generateEvents,
  hopping,
  HyperLogLog,
  isRejected,
  murmur3,
  parseEvent,
  parseEventAt,
  session,
  tumbling,
  WindowAggregator,
  type WindowResult,
} from "@mercury/stream";

const obs = (key: string, ts: number, value = 1, distinct = "d") => ({ key, ts, value, distinct });
const brief = (r: WindowResult[]) => r.map((w) => [w.key, w.start, w.end, w.count, w.sum]);

Deno.test("WindowAggregator: tumbling windows close on the watermark, once", () => {
  const agg = new WindowAggregator({ window: tumbling(10), maxOutOfOrdernessMs: 3 });
  for (const [k, ts] of [["a", 1], ["a", 9], ["b", 5], ["a", 12], ["a", 8]] as const) {
    assert.equal(agg.add(obs(k, ts)), "ok");
  }
  assert.deepEqual(agg.advance(), []); // watermark 9
  agg.add(obs("b", 14)); // watermark 11 → [0,10) final
  assert.deepEqual(brief(agg.advance()), [["a", 0, 10, 3, 3], ["b", 0, 10, 1, 1]]);
  assert.deepEqual(agg.advance(), []);
  assert.equal(agg.add(obs("a", 7)), "late");
  assert.deepEqual(brief(agg.openWindows()).sort(), [["a", 10, 20, 1, 1], ["b", 10, 20, 1, 1]]);
});

Deno.test("WindowAggregator: allowed lateness keeps a window open past the watermark", () => {
  const agg = new WindowAggregator({ window: tumbling(10), maxOutOfOrdernessMs: 0, allowedLatenessMs: 5 });
  agg.add(obs("a", 3));
  agg.add(obs("a", 12));
  assert.deepEqual(agg.advance(), []);
  assert.equal(agg.add(obs("a", 4)), "ok"); // late but allowed
  agg.add(obs("a", 15));
  assert.deepEqual(brief(agg.advance()), [["a", 0, 10, 2, 2]]);
  assert.equal(agg.add(obs("a", 5)), "late");
});

Deno.test("WindowAggregator: hopping windows count an event in size/slide windows", () => {
  const agg = new WindowAggregator({ window: hopping(10, 5), maxOutOfOrdernessMs: 0 });
  agg.add(obs("k", 7, 2));
  agg.add(obs("k", 100));
  const closed = agg.advance().filter((w) => w.count > 0 && w.sum === 2);
  assert.deepEqual(closed.map((w) => [w.start, w.end]), [[0, 10], [5, 15]]);
});

Deno.test("WindowAggregator: session windows merge on overlap and close after the gap", () => {
  const agg = new WindowAggregator({ window: session(10), maxOutOfOrdernessMs: 20 });
  agg.add(obs("k", 0));
  agg.add(obs("k", 25));
  agg.add(obs("k", 8)); // joins the first session
  agg.add(obs("k", 17)); // bridges the two sessions into one
  agg.add(obs("other", 100));
  assert.deepEqual(brief(agg.advance()), [["k", 0, 35, 4, 4]]);
  agg.add(obs("k", 60)); // 60 + gap 10 is before the watermark (80): late
  assert.deepEqual(brief(agg.openWindows()), [["other", 100, 110, 1, 1]]);
});

Deno.test("WindowAggregator: aggregates — min, max, mean, distinct, percentiles", () => {
  const agg = new WindowAggregator({ window: tumbling(1000), maxOutOfOrdernessMs: 0 });
  for (let i = 1; i <= 100; i++) agg.add(obs("k", i, i, `dev${i % 7}`));
  agg.add(obs("z", 5000));
  const [w] = agg.advance();
  assert.equal(w!.count, 100);
  assert.equal(w!.sum, 5050);
  assert.equal(w!.min, 1);
  assert.equal(w!.max, 100);
  assert.equal(w!.mean, 50.5);
  assert.equal(w!.distinct, 7);
  assert.ok(Math.abs(w!.p50 - 50) / 50 <= 0.03, `p50 ${w!.p50}`);
  assert.ok(Math.abs(w!.p99 - 99) / 99 <= 0.03, `p99 ${w!.p99}`);
});

Deno.test("WindowAggregator: snapshot and restore mid-stream give the same results as an uninterrupted run", async (t) => {
  for (const window of [tumbling(60_000), hopping(60_000, 20_000), session(5_000)]) {
    await t.step(window.kind, () => {
      const events = [...generateEvents({ count: 20_000, seed: 3, users: 50, stepMs: 50, disorderMs: 1500 })]
        .map((r) => r.event!);
      const options = { window, maxOutOfOrdernessMs: 2000 };
      const straight = new WindowAggregator(options);
      const out1: WindowResult[] = [];
      for (const e of events) {
        straight.add(obs(e.user, e.ts, e.amount, e.device));
        out1.push(...straight.advance());
      }
      let agg = new WindowAggregator(options);
      const out2: WindowResult[] = [];
      events.forEach((e, i) => {
        if (i % 3001 === 0) agg = WindowAggregator.restore(options, JSON.parse(JSON.stringify(agg.snapshot())));
        agg.add(obs(e.user, e.ts, e.amount, e.device));
        out2.push(...agg.advance());
      });
      assert.ok(out1.length > 10);
      assert.deepEqual(out2, out1);
      const sort = (r: WindowResult[]) => r.sort((a, b) => a.start - b.start || a.key.localeCompare(b.key));
      assert.deepEqual(sort(agg.openWindows()), sort(straight.openWindows()));
    });
  }
});

Deno.test("parseEvent() rejects malformed records with a reason instead of throwing", () => {
  const now = () => Date.UTC(2026, 0, 1);
  const cases: [string | null, RegExp][] = [
    [null, /empty/],
    ["{x", /bad JSON/],
    ["[1]", /not a JSON object/],
    ['{"id":"1","device":"d","amount":1,"ts":1}', /user/],
    ['{"id":"1","user":"u","device":"d","amount":"1","ts":1}', /amount/],
    ['{"id":"1","user":"u","device":"d","amount":1,"ts":-5}', /ts/],
    ['{"id":"1","user":"u","device":"d","amount":1,"ts":1.5}', /ts/],
    [`{"id":"1","user":"u","device":"d","amount":1,"ts":${now() + 86_400_000}}`, /future/],
  ];
  for (const [value, re] of cases) {
    const r = parseEvent(value, { now });
    assert.ok(isRejected(r), `accepted ${value}`);
    assert.match(r.reason, re);
  }
  assert.ok(!isRejected(parseEvent('{"id":"1","user":"u","device":"d","amount":1,"ts":1}', { now })));
});

Deno.test("parseEvent(): the scanning fast paths (text and bytes) and JSON.parse agree on every input", () => {
  // "{ " instead of "{" is the same JSON but never matches the fast path's layout, so it takes the
  // JSON.parse path: both must give the same event or the same rejection.
  const now = () => Date.UTC(2026, 0, 1);
  const viaJson = (s: string) => parseEvent(s.startsWith("{") ? "{ " + s.slice(1) : s, { now });
  const base = '{"id":"p-1","user":"u7","device":"d7-1","amount":12.34,"ts":1767225600000}';
  const inputs = [
    base,
    ...[...generateEvents({ count: 2000, seed: 3, malformedShare: 0.05 })].map((r) => String(r.value)),
  ];
  for (
    const amount of [
      "0",
      "0.5",
      "00.5",
      "01",
      "1.",
      ".5",
      "-1",
      "1e3",
      "1.0e2",
      "123456789012345",
      "1234567890123456",
      "0.1",
      "9.99",
    ]
  ) {
    inputs.push(base.replace("12.34", amount));
  }
  for (const ts of ["0", "01", "1.5", "-1", "1e12", "1767225600000 ", "99999999999999999"]) {
    inputs.push(base.replace("1767225600000", ts));
  }
  for (const s of ['"u\\u0037"', '"u\t"', '""', '"ü"', '"u\u007f"', '"日本"', "7"]) {
    inputs.push(base.replace('"u7"', s));
  }
  inputs.push(base.replace('"p-1"', '"p-12345678901234567"'), base.replace('"d7-1"', '"d7-1234567"'));
  inputs.push(base.replace('"d7-1"', '""'), base.replace('"p-1"', '""'), base + " ", base.replace("}", ',"x":1}'));
  // Random byte-level damage around the fast path's landmarks.
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 3000; i++) {
    const at = Math.floor(rnd() * base.length);
    const ch = '{}":,.0123456789e-\\ ab'[Math.floor(rnd() * 24)]!;
    const op = rnd();
    inputs.push(
      op < 0.4
        ? base.slice(0, at) + ch + base.slice(at + 1)
        : op < 0.7
        ? base.slice(0, at) + base.slice(at + 1)
        : base.slice(0, at) + ch + base.slice(at),
    );
  }
  let accepted = 0;
  for (const s of inputs) {
    const fast = parseEvent(s, { now });
    assert.deepEqual(fast, viaJson(s), `disagree on ${s}`);
    // The worker hands over the record's bytes: the byte scanner must agree too.
    assert.deepEqual(parseEvent(new TextEncoder().encode(s), { now }), fast, `bytes disagree on ${s}`);
    // And inside a batch, between bytes that would complete a cut-off record if read past its end.
    const inBatch = new TextEncoder().encode(`7"${s}0}"`);
    assert.deepEqual(parseEventAt(inBatch, 2, inBatch.length - 3, { now }), fast, `in a batch: disagree on ${s}`);
    if (!isRejected(fast)) accepted++;
  }
  assert.ok(accepted > 1500, `only ${accepted} accepted`);
});

Deno.test("generateEvents(): deterministic, bounded disorder, shares of malformed and late records", () => {
  const records = [
    ...generateEvents({ count: 10_000, seed: 9, disorderMs: 1000, malformedShare: 0.02, lateShare: 0.01 }),
  ];
  const malformed = records.filter((r) => !r.event).length;
  assert.ok(malformed > 100 && malformed < 300, `malformed ${malformed}`);
  for (const r of records.filter((r) => !r.event)) assert.ok(isRejected(parseEvent(r.value)), r.value);
  const events = records.filter((r) => r.event).map((r) => r.event!);
  const late = events.filter((e, i) => i > 0 && e.ts < events[i - 1]!.ts - 5000).length;
  assert.ok(late > 50 && late < 200, `late ${late}`);
  for (const r of records) if (r.event) assert.ok(r.value.length < 130, r.value);
});

Deno.test("WindowAggregator.delta(): replaying deltas rebuilds exactly the open state", async (t) => {
  for (const window of [tumbling(60_000), hopping(60_000, 20_000), session(5_000)]) {
    await t.step(window.kind, () => {
      const events = [...generateEvents({ count: 20_000, seed: 4, users: 40, stepMs: 50, disorderMs: 1500 })]
        .map((r) => r.event!);
      const agg = new WindowAggregator({ window, maxOutOfOrdernessMs: 2000 });
      const table = new Map<string, number>();
      const id = (k: string, s: number, e: number) => `${k}|${s}|${e}`;
      const apply = () => {
        const d = agg.delta();
        for (const [k, s, e] of d.removed) table.delete(id(k, s, e));
        for (const [k, s, e, acc] of d.upserts) table.set(id(k, s, e), acc.c);
      };
      events.forEach((e, i) => {
        agg.add(obs(e.user, e.ts, e.amount, e.device));
        agg.advance();
        if (i % 777 === 0) apply();
      });
      apply();
      const expected = new Map(agg.snapshot().open.map(([k, s, e, acc]) => [id(k, s, e), acc.c]));
      assert.ok(expected.size > 0);
      assert.deepEqual(new Map([...table].sort()), new Map([...expected].sort()));
    });
  }
});

Deno.test("HyperLogLog: exact while sparse (list → table → registers), same counts after JSON and merges", () => {
  // Distinct 32-bit hashes including 0 and values above 2^31 (kept as int32 inside).
  const hashes = [0, 1, 0xffffffff, 0x80000000, ...Array.from({ length: 400 }, (_, i) => murmur3(`device-${i}`))];
  const unique = [...new Set(hashes)];
  for (const n of [1, 3, 8, 9, 40, 256, 257, unique.length]) {
    const h = new HyperLogLog(10);
    for (const x of unique.slice(0, n)) h.addHash(x), h.addHash(x); // duplicates change nothing
    const back = HyperLogLog.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    if (n <= 256) {
      assert.equal(h.count(), n, `exact at ${n}`);
      assert.deepEqual([...(h.toJSON().s ?? [])].sort(), unique.slice(0, n).sort(), `hashes kept at ${n}`);
    } else {
      assert.equal(h.toJSON().s, undefined, `registers past 256 (${n})`);
      assert.ok(Math.abs(h.count() - n) / n < 0.1, `estimate ${h.count()} for ${n}`);
    }
    assert.equal(back.count(), h.count());
    // Merging the halves gives the whole, whatever form each half is in.
    const a = new HyperLogLog(10);
    const b = new HyperLogLog(10);
    unique.slice(0, n).forEach((x, i) => (i % 3 ? a : b).addHash(x));
    a.merge(b);
    assert.equal(a.count(), h.count(), `merge at ${n}`);
  }
});
