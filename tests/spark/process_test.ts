/**
 * `spark process` on the real cluster: the cleaned, enriched and aggregated
 * output equals DuckDB's reading of the same raw files; partitioned folders;
 * atomic writes (a failed run leaves the old output); a Delta schema mismatch
 * is refused with Spark's error class and no new table version.
 */
import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { checkStagedWrite } from "./_atomic.ts";
import { fileStats, generateEvents, processEvents, SparkError, SparkSession, tableRows } from "@mercury/spark";

Deno.test("spark process: partitioned output equal to DuckDB's on the same raw events; atomic on failure", async (t) => {
  await using spark = await SparkSession.connect();
  const dir = await Deno.makeTempDir({ prefix: "mercury-spark-process-" });
  try {
    const gen = await generateEvents(spark, { output: `${dir}/raw`, rows: 20_000, days: 4, products: 200, files: 2 });
    const out = `${dir}/events`;
    const r = await processEvents(spark, { input: gen.events, products: gen.products, output: out, partitions: 4 });

    await t.step("rows and folders", () => {
      assert.equal(r.rawRows, 20_000);
      assert.ok(r.cleanRows < r.rawRows && r.cleanRows > 19_000, `clean rows ${r.cleanRows}`);
      const dates = [...Deno.readDirSync(out)].filter((e) => e.isDirectory).map((e) => e.name).sort();
      assert.deepEqual(dates, ["date=2026-01-01", "date=2026-01-02", "date=2026-01-03", "date=2026-01-04"]);
      const regions = [...Deno.readDirSync(`${out}/date=2026-01-01`)].map((e) => e.name).sort();
      assert.deepEqual(regions, ["region=apac", "region=eu", "region=latam", "region=us"]);
      // by-columns: one file per (date, region, category) folder
      assert.equal(r.files?.files, r.files?.folders);
      assert.equal(r.aggregateRows, 4 * 4 * 8);
    });

    await t.step("the daily aggregate equals DuckDB's", async () => {
      await using duck = await openDuckDB();
      const want = (await duck.connection.runAndReadAll(`
        WITH raw AS (SELECT * FROM read_json('${gen.events}/*.json', columns = {
               event_id: 'VARCHAR', ts: 'VARCHAR', user_id: 'BIGINT', product_id: 'INTEGER',
               amount: 'VARCHAR', region: 'VARCHAR', event_type: 'VARCHAR'})),
             clean AS (SELECT DISTINCT ON (event_id) event_id, lower(trim(region)) AS region,
                              TRY_CAST(amount AS DOUBLE) AS amount, CAST(TRY_CAST(ts AS TIMESTAMP) AS DATE) AS date,
                              user_id, product_id
                       FROM raw WHERE TRY_CAST(amount AS DOUBLE) >= 0 AND TRY_CAST(ts AS TIMESTAMP) IS NOT NULL),
             p AS (SELECT * FROM read_parquet('${gen.products}/*.parquet'))
        SELECT CAST(date AS VARCHAR) AS date, region, coalesce(category, 'unknown') AS category,
               count(*) AS events, round(sum(amount), 2) AS revenue, count(DISTINCT user_id) AS users
        FROM clean LEFT JOIN p USING (product_id) GROUP BY ALL ORDER BY ALL`)).getRowObjects();
      const got = tableRows(
        await (await spark.sql(
          `SELECT CAST(date AS STRING) AS date, region, category, events, round(revenue, 2) AS revenue, users
           FROM parquet.\`${r.aggregateOutput}\` ORDER BY date, region, category`,
        )).toArrow(),
      );
      const norm = (rows: Record<string, unknown>[]) =>
        rows.map((x) =>
          `${x.date}|${x.region}|${x.category}|${Number(x.events)}|${Number(x.revenue).toFixed(2)}|${Number(x.users)}`
        );
      assert.equal(got.length, want.length);
      assert.deepEqual(norm(got), norm(want));
      assert.equal(got.reduce((s, x) => s + Number(x.events), 0), r.cleanRows);
    });

    await t.step("a failed run (bad input path) names PATH_NOT_FOUND and leaves the old output", async () => {
      const before = await fileStats(out);
      await assert.rejects(
        () => processEvents(spark, { input: `${dir}/no-such-raw`, products: gen.products, output: out, partitions: 4 }),
        (e: SparkError) => e.sparkErrorClass === "PATH_NOT_FOUND" && !e.format().includes("\n"),
      );
      assert.deepEqual(await fileStats(out), before);
      const leftovers = [...Deno.readDirSync(dir)].filter((e) => /staging|\.old-/.test(e.name));
      assert.deepEqual(leftovers, []);
    });

    await t.step("a job that fails part-way leaves the old output whole; a good one replaces it", async () => {
      await checkStagedWrite(
        spark,
        `${dir}/staged`,
        () => Promise.resolve([...Deno.readDirSync(dir)].map((e) => e.name)),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Delta append with a mismatched schema is refused with Spark's error class, no new version", async () => {
  await using spark = await SparkSession.connect();
  const dir = await Deno.makeTempDir({ prefix: "mercury-spark-delta-" });
  try {
    const table = `${dir}/t`;
    await (await spark.sql("SELECT id, CAST(id AS STRING) AS name FROM range(10)")).write.format("delta").save(table);
    const bad = await spark.sql("SELECT id, CAST(id AS DOUBLE) AS name FROM range(3)");
    await assert.rejects(
      () => bad.write.format("delta").mode("append").save(table),
      (e: SparkError) => e.sparkErrorClass?.startsWith("DELTA_") === true && e.code === "input",
    );
    const history = tableRows(await (await spark.sql(`DESCRIBE HISTORY delta.\`${table}\``)).toArrow());
    assert.equal(history.length, 1);
    assert.equal(await spark.read.format("delta").load(table).count(), 10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an Iceberg table in the `lake` catalog: create, append, snapshots, time travel", async () => {
  await using spark = await SparkSession.connect();
  const name = `lake.mercury_test.t_${crypto.randomUUID().slice(0, 8).replace(/-/g, "")}`;
  try {
    await spark.sql(`CREATE TABLE ${name} (id BIGINT, v STRING) USING iceberg`);
    await spark.sql(`INSERT INTO ${name} VALUES (1, 'a'), (2, 'b')`);
    await spark.sql(`INSERT INTO ${name} VALUES (3, 'c')`);
    const snaps = tableRows(
      await (await spark.sql(`SELECT snapshot_id FROM ${name}.snapshots ORDER BY committed_at`)).toArrow(),
    );
    assert.equal(snaps.length, 2);
    const first = String(snaps[0]!.snapshot_id);
    assert.equal(await spark.table(name).count(), 3);
    assert.equal(await (await spark.sql(`SELECT * FROM ${name} VERSION AS OF ${first}`)).count(), 2);
  } finally {
    await spark.sql(`DROP TABLE IF EXISTS ${name} PURGE`);
  }
});
