import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { normal, seededRandom } from "@mercury/core/random";
import { type AnomalyStrategy, checkAnomaly, checkMetrics } from "../../plugins/quality/anomaly.ts";
import { validate } from "../../plugins/quality/validate.ts";
import { scoreRun } from "../../plugins/quality/score.ts";
import type { ExpectationSuite } from "../../plugins/quality/types.ts";
import { testStore } from "./_store_fixture.ts";

const COMMON: AnomalyStrategy[] = [
  { type: "relative_change", maxRateDecrease: 0.8, maxRateIncrease: 1.25 },
  { type: "z_score", threshold: 3 },
  { type: "forecast", algorithm: "auto_ets", level: 99 },
];
const FOR_ROWS: AnomalyStrategy[] = [...COMMON, { type: "absolute_change", maxDecrease: 200, maxIncrease: 200 }];
const FOR_NULLS: AnomalyStrategy[] = [...COMMON, { type: "absolute_change", maxDecrease: 0.05, maxIncrease: 0.05 }];

Deno.test("a planted drop in row count and jump in null share is flagged by every strategy; normal days are not", async () => {
  await using t = await testStore();
  using db = await openDuckDB();
  const dir = await Deno.makeTempDir();
  const suite: ExpectationSuite = {
    name: "daily_orders",
    expectations: [
      { type: "expect_column_values_to_not_be_null", kwargs: { column: "email", mostly: 0.5 } },
      { type: "expect_table_row_count_to_be_between", kwargs: { min_value: 1 } },
    ],
  };
  // 12 ordinary days (≈1000 rows, ≈2 % null e-mails, small day-to-day noise), then day 13 with half the rows and
  // 30 % nulls: the planted anomaly.
  const rnd = seededRandom(7);
  const days = [...Array(12).keys()].map(() => ({ rows: Math.round(normal(rnd, 1000, 15)), nullEvery: 50 }));
  days.push({ rows: 500, nullEvery: 3 });
  const judged: Awaited<ReturnType<typeof checkMetrics>>[] = [];
  for (const [i, d] of days.entries()) {
    const path = `${dir}/day${i}.parquet`;
    await db.connection.run(
      `copy (select range as id, case when range % ${d.nullEvery} = 0 then null else 'u' || range || '@x.io' end as email
        from range(${d.rows})) to '${path}' (format parquet)`,
    );
    const run = await validate(path, suite);
    run.started_at = new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
    await t.store.recordRun(run, scoreRun(run, suite));
    judged.push([
      ...await checkMetrics(t.store, "daily_orders", ["row_count"], FOR_ROWS),
      ...await checkMetrics(t.store, "daily_orders", ["email.null_share"], FOR_NULLS),
    ]);
  }
  const last = judged.at(-1)!;
  for (const m of last) {
    assert.equal(m.anomaly, true, m.metric);
    for (const v of m.verdicts) assert.equal(v.anomaly, true, `${m.metric} ${v.strategy}: ${v.detail}`);
  }
  // Days 7…12 have enough history for every strategy, and none of them is an anomaly.
  for (const day of judged.slice(7, 12)) {
    for (const m of day) {
      for (const v of m.verdicts) assert.equal(v.anomaly, false, `${m.metric} ${v.strategy} ${v.detail}`);
      assert.ok(m.verdicts.every((v) => !v.skipped));
    }
  }
  assert.ok(judged[1]!.find((m) => m.metric === "row_count")!.verdicts.find((v) => v.strategy === "forecast")!.skipped);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkAnomaly() strategies compute Deequ's bounds", async () => {
  const rel = await checkAnomaly([100], 79, { type: "relative_change", maxRateDecrease: 0.8 });
  assert.deepEqual([rel.lower, rel.anomaly], [80, true]);
  const abs = await checkAnomaly([100], 104, { type: "absolute_change", maxIncrease: 5 });
  assert.deepEqual([abs.upper, abs.anomaly], [105, false]);
  const z = await checkAnomaly([1, 2, 3], 10, { type: "z_score", threshold: 2 });
  assert.deepEqual([z.expected, z.upper, z.anomaly], [2, 4, true]);
  const skipped = await checkAnomaly([], 1, { type: "absolute_change" });
  assert.equal(skipped.anomaly, false);
  assert.match(skipped.detail, /not judged: no previous value/);
});
