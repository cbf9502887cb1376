import assert from "node:assert/strict";
import { normal, seededRandom } from "@mercury/core/random";
import { MercuryError } from "@mercury/core";
import { dataDrift, DriftWindow } from "@mercury/observe/stats";

Deno.test("DriftWindow slides: no drift on reference-like rows, drift after the stream shifts, same as a batch report", () => {
  const r = seededRandom(11);
  const reference = {
    x: Float64Array.from({ length: 2000 }, () => normal(r)),
    c: Array.from({ length: 2000 }, () => (r() < 0.5 ? "a" : r() < 0.5 ? "b" : "c")),
  };
  const w = new DriftWindow(reference, { windowSize: 500, minRows: 100 });
  assert.equal(w.report(), undefined, "no report before minRows");
  const pushed: { x: number; c: string }[] = [];
  const push = (shift: number, n: number) => {
    for (let i = 0; i < n; i++) {
      const row = { x: normal(r, shift), c: r() < 0.5 - shift / 4 ? "a" : r() < 0.5 ? "b" : "c" };
      pushed.push(row);
      w.push(row);
    }
  };
  push(0, 700);
  const calm = w.report()!;
  assert.equal(calm.datasetDrift, false);
  push(1, 500); // the window now holds only shifted rows
  const shifted = w.report()!;
  assert.equal(shifted.datasetDrift, true);
  assert.equal(w.size, 500);
  assert.equal(w.seen, 1200);
  // identical to a batch report over the last 500 rows
  const last = pushed.slice(-500);
  const batch = dataDrift(reference, { x: Float64Array.from(last, (p) => p.x), c: last.map((p) => p.c) });
  assert.deepEqual(shifted.columns.map((c) => [c.test, c.score]), batch.columns.map((c) => [c.test, c.score]));
});

Deno.test("DriftWindow rejects a reference with too few rows, naming the column", () => {
  assert.throws(
    () => new DriftWindow({ x: [1, 2, NaN, 3] }, { windowSize: 10, minRows: 4 }),
    (e) => e instanceof MercuryError && /reference column "x" has 3 usable rows, fewer than 4/.test(e.message),
  );
  assert.throws(() => new DriftWindow({ x: [1] }, { windowSize: 0 }), MercuryError);
});

Deno.test("dataDrift() names a missing column and an all-NaN window", () => {
  assert.throws(
    () => dataDrift({ x: [1, 2] }, {}),
    (e) => e instanceof MercuryError && /"x" is missing from the current/.test(e.message),
  );
  assert.throws(
    () => dataDrift({ x: [1, 2] }, { x: [NaN, Infinity] }),
    (e) => e instanceof MercuryError && /no finite values in the current window/.test(e.message),
  );
});
