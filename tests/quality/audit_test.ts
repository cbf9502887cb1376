import assert from "node:assert/strict";
import type { ValidationRun } from "../../plugins/quality/types.ts";
import { testStore } from "./_store_fixture.ts";

function fakeRun(i: number): ValidationRun {
  const at = new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
  return {
    run_id: crypto.randomUUID(),
    success: true,
    suite_name: "audited",
    suite_version: 1,
    fingerprint: { source: "orders.parquet", kind: "parquet", row_count: 1000 + i, hash: "ab".repeat(32) },
    started_at: at,
    ended_at: at,
    results: [{
      success: true,
      expectation_config: { type: "expect_table_row_count_to_be_between", kwargs: { min_value: 1 } },
      result: { observed_value: 1000 + i },
      exception_info: { raised_exception: false, exception_message: null, exception_traceback: null },
      meta: {},
    }],
    statistics: {
      evaluated_expectations: 1,
      successful_expectations: 1,
      unsuccessful_expectations: 0,
      success_percent: 100,
    },
  };
}

async function filled() {
  const t = await testStore();
  await t.store.saveSuite({ name: "audited", expectations: [] }, { author: "ada", reason: "start" });
  for (let i = 0; i < 4; i++) await t.store.recordRun(fakeRun(i), null);
  return t;
}

/** Runs SQL as a superuser who turns the append-only trigger off, as a tamperer would. */
async function tamper(t: Awaited<ReturnType<typeof filled>>, sql: string) {
  await t.pg.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx.unsafe(sql.replaceAll("S.", `${t.schema}.`));
  });
}

Deno.test("audit log: an untouched chain verifies; UPDATE and DELETE are refused", async () => {
  await using t = await filled();
  const v = await t.store.verifyAudit();
  assert.deepEqual(v, { ok: true, entries: 5, problems: [] });
  await assert.rejects(() => t.pg.sql.unsafe(`update ${t.schema}.audit set actor = 'eve'`), /append-only/);
  await assert.rejects(() => t.pg.sql.unsafe(`delete from ${t.schema}.audit where seq = 2`), /append-only/);
});

Deno.test("audit verify finds an edited entry", async () => {
  await using t = await filled();
  await tamper(t, `update S.audit set actor = 'eve' where seq = 3`);
  const v = await t.store.verifyAudit();
  assert.equal(v.ok, false);
  assert.deepEqual(v.problems, ["entry 3 (run.record audited@1) was changed: its hash does not match"]);
});

Deno.test("audit verify finds a deleted entry in the middle and at the end", async () => {
  await using t = await filled();
  await tamper(t, `delete from S.audit where seq = 2`);
  let v = await t.store.verifyAudit();
  assert.ok(v.problems.includes("entry 2 is missing (deleted)"), v.problems.join("; "));
  assert.ok(v.problems.includes("entry 3: its link to the previous entry is broken"));
  await using u = await filled();
  await tamper(u, `delete from S.audit where seq = 5`);
  v = await u.store.verifyAudit();
  assert.equal(v.ok, false);
  assert.match(v.problems.join("; "), /the log ends at entry 4 but its head says 5/);
});

Deno.test("audit verify finds a run whose stored results were changed or deleted", async () => {
  await using t = await filled();
  const [run] = await t.pg.sql.unsafe(`select run_id from ${t.schema}.runs order by started_at limit 1`);
  await tamper(
    t,
    `update S.runs set results = jsonb_set(results, '{0,success}', 'false') where run_id = '${run!.run_id}'`,
  );
  let v = await t.store.verifyAudit();
  assert.deepEqual(v.problems, [`run ${run!.run_id}: its stored results were changed after audit entry 2`]);
  await tamper(t, `delete from S.runs where run_id = '${run!.run_id}'`);
  v = await t.store.verifyAudit();
  assert.deepEqual(v.problems, [`run ${run!.run_id} (audit entry 2) was deleted`]);
});
