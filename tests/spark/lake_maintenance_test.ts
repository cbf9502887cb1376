/**
 * Lake-table maintenance on the real cluster: an Iceberg table in the `lake`
 * catalog gets a MERGE upsert, compaction (rewrite_data_files) and snapshot
 * expiry (expire_snapshots), and time travel to an expired snapshot is one
 * clear line. A Delta table (by path) gets the same: MERGE, OPTIMIZE ZORDER BY,
 * VACUUM, its history and time travel.
 */
import assert from "node:assert/strict";
import {
  compact,
  expireSnapshots,
  fileCount,
  lakeTable,
  mergeInto,
  readAsOf,
  snapshots,
  SparkSession,
} from "@mercury/spark";

const ids = (rs: Record<string, unknown>[]) => rs.map((r) => `${r.id}:${r.v}`).sort();

Deno.test("Iceberg: MERGE upsert, rewrite_data_files, expire_snapshots, time travel to an expired snapshot", async (t) => {
  await using spark = await SparkSession.connect();
  const table = lakeTable(`lake.mercury_test.maint_${crypto.randomUUID().slice(0, 8).replaceAll("-", "")}`);
  try {
    await spark.sql(`CREATE TABLE ${table.name} (id BIGINT, v STRING) USING iceberg`);
    for (let i = 0; i < 3; i++) {
      await spark.sql(`INSERT INTO ${table.name} VALUES (${2 * i}, 'a'), (${2 * i + 1}, 'b')`);
    }
    const first = (await snapshots(spark, table))[0]!;

    await t.step("MERGE updates matched rows and inserts new ones", async () => {
      const source = await spark.sql("SELECT * FROM VALUES (1L, 'x'), (4L, 'y'), (100L, 'new') AS s(id, v)");
      const { snapshot } = await mergeInto(spark, table, source, ["id"]);
      assert.deepEqual(
        ids(await spark.table(table.name).collect()),
        ["0:a", "100:new", "1:x", "2:a", "3:b", "4:y", "5:b"],
      );
      assert.equal((await snapshots(spark, table)).at(-1)!.id, snapshot);
      // The first snapshot still reads as it was.
      assert.equal(await (await readAsOf(spark, table, first.id)).count(), 2);
    });

    await t.step("rewrite_data_files reduces the file count", async () => {
      const { filesBefore, filesAfter } = await compact(spark, table);
      assert.ok(filesBefore >= 4, `files before: ${filesBefore}`);
      assert.ok(filesAfter < filesBefore, `${filesBefore} → ${filesAfter}`);
      assert.equal(filesAfter, await fileCount(spark, table));
      assert.equal(await spark.table(table.name).count(), 7);
    });

    await t.step("expire_snapshots leaves only the kept snapshot", async () => {
      const before = await snapshots(spark, table);
      assert.ok(before.length >= 5);
      const { kept, deletedDataFiles } = await expireSnapshots(spark, table, {
        olderThan: new Date(Date.now() + 1000),
        retainLast: 1,
      });
      assert.deepEqual(kept.map((s) => s.id), [before.at(-1)!.id]);
      assert.ok((deletedDataFiles ?? 0) > 0);
      assert.equal(await spark.table(table.name).count(), 7);
    });

    await t.step("time travel to an expired snapshot is a clear not_found", async () => {
      await assert.rejects(
        () => readAsOf(spark, table, first.id),
        (err: Error & { code?: string; hint?: string }) => {
          assert.equal(err.code, "not_found");
          assert.match(err.message, new RegExp(`has no snapshot ${first.id}: it was expired`));
          assert.match(err.hint ?? "", /time travel to one it has/);
          return true;
        },
      );
    });
  } finally {
    await spark.sql(`DROP TABLE IF EXISTS ${table.name} PURGE`);
  }
});

Deno.test("Delta: MERGE upsert, OPTIMIZE ZORDER BY, VACUUM, history and time travel", async (t) => {
  await using spark = await SparkSession.connect();
  const dir = await Deno.makeTempDir({ prefix: "mercury-delta-" });
  const table = lakeTable(`${dir}/orders`, "delta");
  try {
    await spark.sql(`CREATE TABLE ${table.name} (id BIGINT, v STRING) USING delta`);
    for (let i = 0; i < 3; i++) {
      await spark.sql(`INSERT INTO ${table.name} VALUES (${2 * i}, 'a'), (${2 * i + 1}, 'b')`);
    }
    const versions = await snapshots(spark, table);
    assert.deepEqual(versions.map((s) => s.id), ["0", "1", "2", "3"], "create and three inserts");

    await t.step(
      "MERGE updates matched rows and inserts new ones; an older version still reads as it was",
      async () => {
        const source = await spark.sql("SELECT * FROM VALUES (1L, 'x'), (4L, 'y'), (100L, 'new') AS s(id, v)");
        const { snapshot } = await mergeInto(spark, table, source, ["id"]);
        assert.deepEqual(
          ids(await spark.sql(`SELECT * FROM ${table.name}`).then((df) => df.collect())),
          ["0:a", "100:new", "1:x", "2:a", "3:b", "4:y", "5:b"],
        );
        assert.equal((await snapshots(spark, table)).at(-1)!.id, snapshot);
        assert.deepEqual(ids(await (await readAsOf(spark, table, 1)).collect()), ["0:a", "1:b"]);
      },
    );

    await t.step("OPTIMIZE ZORDER BY compacts the small files; the rows stay", async () => {
      const { filesBefore, filesAfter } = await compact(spark, table, { zorderBy: ["id"] });
      assert.ok(filesBefore >= 3, `files before: ${filesBefore}`);
      assert.ok(filesAfter < filesBefore, `${filesBefore} → ${filesAfter}`);
      assert.equal((await spark.sql(`SELECT count(*) AS n FROM ${table.name}`).then((df) => df.collect()))[0]!.n, 7n);
    });

    await t.step("VACUUM deletes the files no current version needs; the history stays", async () => {
      const parquet = () => [...Deno.readDirSync(`${dir}/orders`)].filter((e) => e.name.endsWith(".parquet")).length;
      const before = parquet();
      const { kept } = await expireSnapshots(spark, table, { olderThan: new Date() });
      assert.ok(parquet() < before, `parquet files ${before} → ${parquet()}`);
      assert.ok(kept.length >= 6, "Delta keeps its history after VACUUM");
      assert.deepEqual(
        ids(await spark.sql(`SELECT * FROM ${table.name}`).then((df) => df.collect())),
        ["0:a", "100:new", "1:x", "2:a", "3:b", "4:y", "5:b"],
      );
    });

    await t.step("time travel to a version that never existed is a clear not_found", async () => {
      await assert.rejects(
        () => readAsOf(spark, table, 99),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, "not_found");
          assert.match(err.message, /has no snapshot 99/);
          return true;
        },
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("lakeTable() refuses names that are not tables", () => {
  assert.throws(() => lakeTable("lake.db"), /not catalog\.db\.table/);
  assert.throws(() => lakeTable("a b"), /not a table name/);
  assert.equal(lakeTable("db.t").format, "delta");
});
