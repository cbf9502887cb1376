import assert from "node:assert/strict";
import { chartSvg } from "@mercury/core/display";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { epsilonForError, utilityChart, utilityCurve } from "@mercury/privacy/utility";
import { dpCounts, dpHeatmapChart, dpHistogramChart, dpTimeSeriesChart } from "@mercury/privacy/charts";
import { laplaceMechanism } from "@mercury/privacy/mechanisms/float";

const trial = (epsilon: number) => Math.abs(laplaceMechanism(0, { sensitivity: 1, epsilon }).value);

Deno.test("utilityCurve() follows the Laplace error ln 2/ε and its band contains the median", async () => {
  const curve = await utilityCurve(trial, { epsilons: [0.1, 1, 10], runs: 4000 });
  for (const p of curve) {
    // Median of |Laplace(b)| is b·ln 2; the sample median of 4,000 runs has a standard error of 2.3%.
    const expected = Math.LN2 / p.epsilon;
    assert.ok(Math.abs(p.median - expected) / expected < 0.15, `ε=${p.epsilon}: ${p.median} vs ${expected}`);
    assert.ok(p.lo <= p.median && p.median <= p.hi);
  }
  assert.ok(curve[0]!.median > curve[1]!.median && curve[1]!.median > curve[2]!.median);
  await assert.rejects(utilityCurve(trial, { epsilons: [0], runs: 3 }), /every ε must be > 0/);
});

Deno.test("epsilonForError() finds the ε of a target median error (ln 2/ε = 0.1 → ε ≈ 6.93)", async () => {
  const eps = await epsilonForError(trial, 0.1, { runs: 2000 });
  assert.ok(Math.abs(eps - Math.LN2 / 0.1) / (Math.LN2 / 0.1) < 0.2, String(eps));
  await assert.rejects(epsilonForError(trial, 1e-9, { runs: 10, hi: 10 }), /no ε up to/);
});

Deno.test("utility and DP charts render to SVG; small cells are suppressed", async () => {
  const curve = await utilityCurve(trial, { epsilons: [0.5, 2], runs: 20 });
  assert.match(await chartSvg(utilityChart({ laplace: curve }, { target: { error: 0.5 } })), /^<svg/);
  using db = await openDuckDB();
  const c = db.connection;
  await c.run(`create table t as select ['a','b','c'][1 + i % 3] as k, ['x','y'][1 + i % 2] as j,
    (date '2026-01-01' + (i % 10)::int) as d from range(6000) r(i)`);
  await c.run(`insert into t values ('rare', 'x', date '2026-01-01')`);
  // A floor far above the noise (P(Laplace(1) ≥ 19) ≈ 3e-9) makes the suppression itself deterministic.
  const h = await dpCounts(c, "select k as x from t", {
    epsilon: 1,
    x: ["a", "b", "c", "rare", "none"],
    suppressBelow: 20,
  });
  assert.deepEqual(h.map((x) => x.suppressed), [false, false, false, true, true]);
  // The default floor is the 95% half-width ln 20/ε ≈ 3: an empty cell passes it when the discrete Laplace
  // noise is ≥ 3, i.e. with probability e⁻³/(1 + e⁻¹) ≈ 3.6%. Over 600 empty cells the share suppressed is
  // 0.964 ± 0.008 (one standard error).
  const empty = await dpCounts(c, "select k as x from t", {
    epsilon: 1,
    x: Array.from({ length: 600 }, (_, i) => `none${i}`),
  });
  const share = empty.filter((x) => x.suppressed).length / empty.length;
  assert.ok(share > 0.92 && share < 0.995, `suppressed share ${share}`);
  assert.ok(h.every((x) => x.suppressed || (x.lo! <= x.count! && x.count! <= x.hi!)));
  assert.ok(Math.abs(h[0]!.count! - 2000) < 30);
  const hm = await dpCounts(c, "select k as x, j as y from t", {
    epsilon: 1,
    x: ["a", "b", "rare"],
    y: ["x", "y"],
    suppressBelow: 20,
  });
  assert.equal(hm.length, 6);
  assert.ok(hm.filter((x) => x.x === "rare").every((x) => x.suppressed));
  const days = Array.from({ length: 10 }, (_, i) => `2026-01-${String(i + 1).padStart(2, "0")}`);
  const ts = await dpCounts(c, "select strftime(d, '%Y-%m-%d') as x from t", { epsilon: 1, x: days });
  for (const spec of [dpHistogramChart(h), dpHeatmapChart(hm), dpTimeSeriesChart(ts)]) {
    assert.match(await chartSvg(spec), /role-mark/);
  }
  await assert.rejects(dpCounts(c, "select k as x from t", { epsilon: 0, x: ["a"] }), /epsilon must be/);
});
