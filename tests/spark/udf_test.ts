/**
 * The vectorised Python UDF step of `spark process --udf zscore` on the real
 * cluster: the robust z-score per category that a pandas UDF computed on the
 * executors equals DuckDB's `(amount − median) / (1.4826 · mad)` over the
 * same written rows.
 */
import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { applyInPandas, generateEvents, processEvents, SparkSession } from "@mercury/spark";

Deno.test("spark process --udf zscore: the pandas UDF's robust z-scores equal DuckDB's", async (t) => {
  await using spark = await SparkSession.connect();
  const dir = await Deno.makeTempDir({ prefix: "mercury-spark-udf-" });
  try {
    const gen = await generateEvents(spark, { output: `${dir}/raw`, rows: 3_000, days: 2, products: 40, files: 2 });
    const out = `${dir}/events`;
    const r = await processEvents(spark, {
      input: gen.events,
      products: gen.products,
      output: out,
      partitions: 2,
      strategy: "none",
      udf: "zscore",
    });

    await t.step("every written row has the UDF's column, equal to DuckDB's", async () => {
      await using duck = await openDuckDB();
      const rows = (await duck.connection.runAndReadAll(`
        WITH e AS (SELECT event_id, category, amount, amount_robust_z
                   FROM read_parquet('${out}/**/*.parquet', hive_partitioning = true)),
             s AS (SELECT category, median(amount) AS med, mad(amount) AS mad FROM e GROUP BY category)
        SELECT e.event_id, e.amount_robust_z AS got, (e.amount - s.med) / (1.4826 * s.mad) AS want
        FROM e JOIN s USING (category)`)).getRowObjects();
      assert.equal(rows.length, r.cleanRows);
      const bad = rows.filter((x) =>
        !(Math.abs(Number(x.got) - Number(x.want)) <= 1e-9 * (1 + Math.abs(Number(x.want))))
      );
      assert.deepEqual(bad.slice(0, 3), [], `${bad.length} of ${rows.length} rows differ`);
      assert.ok(rows.some((x) => Math.abs(Number(x.got)) > 1), "the scores spread beyond ±1");
    });

    await t.step("grouping by a column the input lacks is one clear line", async () => {
      const df = await spark.sql("SELECT 1.0D AS amount");
      await assert.rejects(
        () => applyInPandas(df, ["nope"], { file: "x.py", factory: "make", addFields: [] }),
        /cannot group by "nope": the input has amount/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
