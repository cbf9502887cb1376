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
  type SparkError,
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

Deno.test("Iceberg schema evolution: add, rename, widen, drop and re-add; old snapshots keep their schema", async (t) => {
  await using spark = await SparkSession.connect();
  const table = lakeTable(`lake.mercury_test.evolve_${crypto.randomUUID().slice(0, 8).replaceAll("-", "")}`);
  const q = async (sql: string) => await (await spark.sql(sql)).collect();
  try {
    await spark.sql(`CREATE TABLE ${table.name} (id BIGINT, v STRING, n INT) USING iceberg`);
    await spark.sql(`INSERT INTO ${table.name} VALUES (1, 'a', 10), (2, 'b', 20)`);
    const first = (await snapshots(spark, table)).at(-1)!.id;

    await t.step("ADD COLUMN: old rows read NULL, new rows carry it", async () => {
      await spark.sql(`ALTER TABLE ${table.name} ADD COLUMN score DOUBLE`);
      await spark.sql(`INSERT INTO ${table.name} VALUES (3, 'c', 30, 0.5)`);
      const rows = await q(`SELECT id, score FROM ${table.name} ORDER BY id`);
      assert.deepEqual(rows.map((r) => [r.id, r.score]), [[1n, null], [2n, null], [3n, 0.5]]);
    });

    await t.step("RENAME COLUMN keeps the data (columns are matched by id, not name)", async () => {
      await spark.sql(`ALTER TABLE ${table.name} RENAME COLUMN v TO label`);
      const rows = await q(`SELECT id, label FROM ${table.name} ORDER BY id`);
      assert.deepEqual(rows.map((r) => r.label), ["a", "b", "c"]);
      await assert.rejects(() => q(`SELECT v FROM ${table.name}`), /UNRESOLVED_COLUMN|cannot be resolved/);
    });

    await t.step("INT widens to BIGINT in place; narrowing is refused with Spark's error class", async () => {
      await spark.sql(`ALTER TABLE ${table.name} ALTER COLUMN n TYPE BIGINT`);
      await spark.sql(`INSERT INTO ${table.name} VALUES (4, 'd', 5000000000, 1.5)`);
      const rows = await q(`SELECT n FROM ${table.name} ORDER BY id`);
      assert.deepEqual(rows.map((r) => r.n), [10n, 20n, 30n, 5000000000n]);
      await assert.rejects(
        () => spark.sql(`ALTER TABLE ${table.name} ALTER COLUMN n TYPE INT`),
        (e: SparkError) => e.sparkErrorClass === "NOT_SUPPORTED_CHANGE_COLUMN" && /BIGINT.*INT/.test(e.message),
      );
    });

    await t.step("DROP then ADD a column of the same name does not bring the old values back", async () => {
      await spark.sql(`ALTER TABLE ${table.name} DROP COLUMN score`);
      await spark.sql(`ALTER TABLE ${table.name} ADD COLUMN score DOUBLE`);
      const rows = await q(`SELECT id, score FROM ${table.name} ORDER BY id`);
      assert.deepEqual(rows.map((r) => r.score), [null, null, null, null]);
    });

    await t.step("time travel reads the first snapshot with the schema it was written with", async () => {
      const old = await (await readAsOf(spark, table, first)).collect();
      assert.deepEqual(Object.keys(old[0]!).sort(), ["id", "n", "v"]);
      assert.deepEqual(old.map((r) => `${r.id}:${r.v}:${r.n}`).sort(), ["1:a:10", "2:b:20"]);
    });
  } finally {
    await spark.sql(`DROP TABLE IF EXISTS ${table.name} PURGE`);
  }
});

Deno.test("Iceberg z-order compaction: rows are laid out by interleaved x and y, not insertion order", async () => {
  await using spark = await SparkSession.connect();
  const table = lakeTable(`lake.mercury_test.zorder_${crypto.randomUUID().slice(0, 8).replaceAll("-", "")}`);
  try {
    await spark.sql(`CREATE TABLE ${table.name} (x INT, y INT) USING iceberg`);
    // A 16 × 16 grid in a shuffled order, over four inserts (four small files).
    for (let part = 0; part < 4; part++) {
      await spark.sql(
        `INSERT INTO ${table.name} SELECT x, y FROM (SELECT id % 16 AS x, id DIV 16 AS y FROM range(256)) ` +
          `WHERE (x * 7 + y * 3) % 4 = ${part} ORDER BY hash(x, y)`,
      );
    }
    const { filesBefore, filesAfter } = await compact(spark, table, { zorderBy: ["x", "y"] });
    assert.ok(filesBefore >= 4 && filesAfter === 1, `${filesBefore} → ${filesAfter}`);
    const [file] = await (await spark.sql(`SELECT file_path FROM ${table.name}.files`)).collect();
    const rows = await spark.read.parquet(String(file!.file_path)).collect();
    assert.equal(rows.length, 256);
    // Z-order: the first quarter of the file is one quadrant, the last quarter the opposite one.
    const quadrant = (r: Record<string, unknown>) => `${Number(r.x) < 8 ? 0 : 1}${Number(r.y) < 8 ? 0 : 1}`;
    assert.deepEqual(new Set(rows.slice(0, 64).map(quadrant)), new Set(["00"]));
    assert.deepEqual(new Set(rows.slice(192).map(quadrant)), new Set(["11"]));
    // And neighbours in the file are neighbours on the grid (mean step ≤ 2; a linear sort by x has |Δy| up to 15).
    const steps = rows.slice(1).map((r, i) =>
      Math.abs(Number(r.x) - Number(rows[i]!.x)) + Math.abs(Number(r.y) - Number(rows[i]!.y))
    );
    assert.ok(steps.reduce((s, d) => s + d, 0) / steps.length <= 2, `mean step ${steps}`);
  } finally {
    await spark.sql(`DROP TABLE IF EXISTS ${table.name} PURGE`);
  }
});
