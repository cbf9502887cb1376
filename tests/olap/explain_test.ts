/** explain analyze: the row groups min/max statistics let a scan skip (estimated from the files' own statistics). */
import assert from "node:assert/strict";
import { duck, salesEngine } from "./_fixtures.ts";

Deno.test("explain analyze: row groups pruned by statistics, inside files and across Hive partitions", async (t) => {
  const env = await salesEngine();
  try {
    const file = `${env.dir}/big.parquet`;
    await duck(`copy (select range as id, range % 7 as k from range(100000)) to '${file}'`);
    await env.olap.ingest("big", { file }, { sortBy: ["id"], rowGroupSize: 10_240 });

    await t.step("a range on the sort key reads one row group of ten", async () => {
      const ex = await env.olap.explain("select sum(k) from big where id between 50000 and 50100", { analyze: true });
      assert.deepEqual(ex.profile?.rowGroups, { total: 10, scannedEstimate: 1, prunedEstimate: 9 });
      assert.match(ex.text.split("\n")[0]!, /~9\/10 row groups pruned by statistics \(estimate\)/);
    });
    await t.step("a filter statistics cannot decide prunes nothing (errs towards scanning)", async () => {
      const ex = await env.olap.explain("select count(*) from big where k = 3", { analyze: true });
      assert.deepEqual(ex.profile?.rowGroups, { total: 10, scannedEstimate: 10, prunedEstimate: 0 });
    });
    await t.step("a Hive partition filter: the other partitions' row groups are skipped", async () => {
      const ex = await env.olap.explain("select count(*) from sales where day = date '2024-01-03'", { analyze: true });
      assert.equal(ex.profile?.filesPruned, 23);
      assert.deepEqual(ex.profile?.rowGroups, { total: 24, scannedEstimate: 1, prunedEstimate: 23 });
    });
  } finally {
    await env.close();
  }
});
