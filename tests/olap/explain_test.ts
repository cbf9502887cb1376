/**
 * explain analyze: the row groups a scan can skip — estimated from the Parquet files' own statistics for a parquet
 * table, from the serving table's zone maps (`pragma_storage_info`) for DuckDB storage (the default).
 */
import assert from "node:assert/strict";
import { duck, salesCsv, salesEngine } from "./_fixtures.ts";

Deno.test("explain analyze: row groups pruned by statistics, inside files and across Hive partitions", async (t) => {
  const env = await salesEngine();
  try {
    const file = `${env.dir}/big.parquet`;
    await duck(`copy (select range as id, range % 7 as k from range(100000)) to '${file}'`);
    await env.olap.ingest("big", { file }, { sortBy: ["id"], rowGroupSize: 10_240, storage: "parquet" });
    await env.olap.ingest("sales_pq", { file: await salesCsv(env.dir, 2000, "pq.csv") }, {
      partitionBy: "day=cast(ts as date)",
      sortBy: ["ts"],
      storage: "parquet",
    });

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
      const q = "select count(*) from sales_pq where day = date '2024-01-03'";
      const ex = await env.olap.explain(q, { analyze: true });
      assert.equal(ex.profile?.filesPruned, 23);
      assert.deepEqual(ex.profile?.rowGroups, { total: 24, scannedEstimate: 1, prunedEstimate: 23 });
    });
  } finally {
    await env.close();
  }
});

Deno.test("explain analyze: DuckDB storage (duckdb+parquet) estimates row groups from the table's zone maps", async (t) => {
  const env = await salesEngine();
  try {
    const file = `${env.dir}/native.parquet`;
    // DuckDB's row groups hold 122,880 rows: 500,000 sorted ids make 5 of them.
    await duck(`copy (select range as id, range % 7 as k, 'v' || range as s from range(500000)) to '${file}'`);
    const meta = await env.olap.ingest("native", { file }, { sortBy: ["id"] });
    assert.equal(meta.storage, "duckdb+parquet");

    await t.step("a range on the sort key: four row groups of five pruned", async () => {
      const ex = await env.olap.explain("select sum(k) from native where id between 200000 and 200100", {
        analyze: true,
      });
      assert.deepEqual(ex.profile?.rowGroups, { total: 5, scannedEstimate: 1, prunedEstimate: 4 });
      assert.match(ex.text.split("\n")[0]!, /~4\/5 row groups pruned by zone maps \(estimate\)/);
    });
    await t.step("a column without usable zone maps (VARCHAR) or an undecidable filter prunes nothing", async () => {
      for (const q of ["select count(*) from native where s = 'v7'", "select count(*) from native where k = 3"]) {
        const ex = await env.olap.explain(q, { analyze: true });
        assert.deepEqual(ex.profile?.rowGroups, { total: 5, scannedEstimate: 5, prunedEstimate: 0 }, q);
      }
    });
    await t.step("describe counts the serving table's row groups", async () => {
      const d = await env.olap.describe("native");
      assert.equal(d.rowGroups, 5);
    });
  } finally {
    await env.close();
  }
});
