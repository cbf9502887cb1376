import assert from "node:assert/strict";
import { validate } from "../../plugins/quality/validate.ts";
import { runMetrics } from "../../plugins/quality/store/store.ts";
import { scoreRun } from "../../plugins/quality/score.ts";
import type { ExpectationSuite } from "../../plugins/quality/types.ts";
import { testStore } from "./_store_fixture.ts";

const suite = (mostly: number): ExpectationSuite => ({
  name: "orders_store",
  expectations: [
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "email", mostly } },
    { type: "expect_column_mean_to_be_between", kwargs: { column: "amount", min_value: 0, max_value: 100 } },
  ],
});

Deno.test("QualityStore keeps a version per suite change with who, why and the diff", async () => {
  await using t = await testStore();
  const v1 = await t.store.saveSuite(suite(0.9), { author: "ada", reason: "first cut" });
  const again = await t.store.saveSuite(suite(0.9), { author: "bob", reason: "no change" });
  const v2 = await t.store.saveSuite(suite(0.95), { author: "bob", reason: "tighter" });
  assert.equal(v1.version, 1);
  assert.equal(again.version, 1, "an unchanged suite makes no new version");
  assert.equal(v2.version, 2);
  assert.equal(v2.author, "bob");
  assert.equal(v2.reason, "tighter");
  assert.deepEqual(v2.diff.map((c) => [c.kind, c.what]), [["changed", "expect_column_values_to_not_be_null(email)"]]);
  const versions = await t.store.suiteVersions("orders_store");
  assert.deepEqual(versions.map((v) => v.version), [1, 2]);
  assert.equal(versions[1]!.suite.expectations[0]!.kwargs.mostly, 0.95);
  const log = await t.store.auditLog();
  assert.deepEqual(log.map((e) => [e.action, e.subject]), [["suite.save", "orders_store@1"], [
    "suite.save",
    "orders_store@2",
  ]]);
});

Deno.test("QualityStore records a run with its version, fingerprint, score and metrics", async () => {
  await using t = await testStore();
  const dir = await Deno.makeTempDir();
  const csv = `${dir}/o.csv`;
  await Deno.writeTextFile(csv, "email,amount\na@b.io,10\n,20\nc@d.io,30\n,40\n");
  const v = await t.store.saveSuite(suite(0.9), { author: "ada", reason: "test" });
  const run = await validate(csv, v.suite);
  run.suite_version = v.version;
  const score = scoreRun(run, v.suite);
  await t.store.recordRun(run, score);
  const back = await t.store.run(run.run_id);
  assert.equal(back!.run.suite_version, 1);
  assert.equal(back!.run.fingerprint.row_count, 4);
  assert.equal(back!.run.success, false);
  assert.equal(back!.score!.overall, score.overall);
  const rows = await t.store.runs("orders_store");
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.evaluated, 2);
  assert.deepEqual(await t.store.metricHistory("orders_store", "email.null_share"), [
    { at: rows[0]!.started_at, value: 0.5, run_id: run.run_id },
  ]);
  assert.equal(runMetrics(run).get("amount.mean"), 25);
  assert.equal((await t.store.metricHistory("orders_store", "row_count"))[0]!.value, 4);
  await Deno.remove(dir, { recursive: true });
});
