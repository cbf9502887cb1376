/**
 * `@datadog/sketches-js` shape: plugins/stream/_ddsketch.ts reads DDSketch's
 * private mapping fields and store layout. These tests fail loudly when a new
 * version of the library moves or changes them.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DDSketch } from "@datadog/sketches-js";
import {
  compactFromDDSketchBase64,
  DDSKETCH_MAPPING,
  type DDSketchInternals,
  ddsketchKey,
  MIN_POSITIVE,
  QUANTILE_ACCURACY,
} from "../../plugins/stream/_ddsketch.ts";
import { QuantileSketch } from "../../plugins/stream/quantile.ts";

Deno.test("DDSketch mapping: the private _multiplier/_offset exist and key() is ceil(log2(v)·multiplier)+offset", () => {
  assert.equal(typeof DDSKETCH_MAPPING._multiplier, "number");
  assert.equal(typeof DDSKETCH_MAPPING._offset, "number");
  assert.equal(typeof DDSKETCH_MAPPING.minPossible, "number");
  assert.ok(MIN_POSITIVE > 0 && MIN_POSITIVE < 1e-100);
  for (const v of [1e-9, 0.5, 1, 1.5, 42, 1234.5, 1e9]) {
    assert.equal(ddsketchKey(v), DDSKETCH_MAPPING.key(v), `key(${v})`);
    // value(key(v)) is within the relative accuracy of v.
    assert.ok(Math.abs(DDSKETCH_MAPPING.value(ddsketchKey(v)) - v) / v <= QUANTILE_ACCURACY + 1e-12, `value(${v})`);
  }
});

Deno.test("DDSketch state: store.bins/offset/add and the summary fields exist and hold what was accepted", () => {
  const d = new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
  for (const v of [1, 2, 2, 300]) d.accept(v);
  d.accept(0);
  const s = d as unknown as DDSketchInternals;
  assert.ok(Array.isArray(s.store.bins), "store.bins is an array");
  assert.equal(typeof s.store.offset, "number");
  assert.equal(typeof s.store.add, "function");
  assert.equal(s.store.bins.reduce((a, b) => a + (b ?? 0), 0), 4);
  assert.equal(s.store.bins[ddsketchKey(2) - s.store.offset], 2);
  assert.deepEqual([s.zeroCount, s.count, s.sum, s.min, s.max], [1, 5, 305, 0, 300]);
});

Deno.test("a DDSketch checkpointed as base64 protobuf reads back as the same QuantileSketch", () => {
  const d = new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY });
  const q = new QuantileSketch();
  for (let i = 1; i <= 500; i++) {
    d.accept(i * 3.7);
    q.accept(i * 3.7);
  }
  const b64 = Buffer.from(d.toProto()).toString("base64");
  const back = QuantileSketch.fromCompact(compactFromDDSketchBase64(b64));
  const qs = [0, 0.25, 0.5, 0.9, 0.99, 1];
  assert.deepEqual(back.getValuesAtQuantiles(qs), q.getValuesAtQuantiles(qs));
  assert.deepEqual(back.getValuesAtQuantiles(qs), qs.map((x) => d.getValueAtQuantile(x)));
  assert.equal(back.count, 500);
});
