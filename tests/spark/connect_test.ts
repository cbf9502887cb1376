/**
 * The Deno Spark Connect client against the real cluster (`deno task services
 * up spark`): answers equal to DuckDB's on the same data, Spark's error
 * classes, interrupt on timeout, a usable session after errors, plan hints.
 */
import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { col, fn, SparkError, SparkSession, tableRows, Window } from "@mercury/spark";

const ROWS = 20_000;
// The same rows in Spark and DuckDB: generated from range() with integer arithmetic only.
const DATA_SQL = `SELECT id, id % 7 AS g, (id * 37) % 101 AS v, CAST(id % 3 AS STRING) AS k FROM range(${ROWS})`;
const DUCK_SQL =
  `SELECT id, id % 7 AS g, (id * 37) % 101 AS v, CAST(id % 3 AS VARCHAR) AS k FROM (SELECT range AS id FROM range(${ROWS}))`;

const sorted = (rows: Record<string, unknown>[]) =>
  rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v))).sort();

Deno.test("the Spark client's DataFrame answers equal DuckDB's on the same rows", async (t) => {
  await using spark = await SparkSession.connect();
  await using duck = await openDuckDB();
  await duck.connection.run(`CREATE VIEW t AS ${DUCK_SQL}`);
  const df = await spark.sql(DATA_SQL);
  const duckRows = async (q: string) => {
    const r = await duck.connection.runAndReadAll(q);
    return r.getRowObjects().map((o) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
    );
  };

  await t.step("groupBy/agg with filter and withColumn", async () => {
    const got = await df.filter(col("v").gt(10)).withColumn("v2", "v * 2")
      .groupBy("g").agg(fn.sum("v2").alias("s"), fn.count().alias("n"), fn.max("v").alias("mx"))
      .orderBy("g").collect();
    const want = await duckRows(
      "SELECT g, sum(v * 2) AS s, count(*) AS n, max(v) AS mx FROM t WHERE v > 10 GROUP BY g ORDER BY g",
    );
    assert.equal(got.length, 7);
    assert.deepEqual(sorted(got), sorted(want));
  });

  await t.step("window function (row_number over a partition)", async () => {
    const w = Window.partitionBy("g").orderBy(col("v").desc(), col("id").asc());
    const got = await df.withColumn("rn", fn.rowNumber().over(w)).filter("rn <= 2").select("g", "id", "rn").collect();
    const want = await duckRows(
      "SELECT g, id, rn FROM (SELECT g, id, row_number() OVER (PARTITION BY g ORDER BY v DESC, id ASC) AS rn FROM t) WHERE rn <= 2",
    );
    assert.equal(got.length, 14);
    assert.deepEqual(sorted(got), sorted(want));
  });

  await t.step("join with a broadcast hint, and orderBy/limit", async () => {
    const dims = await spark.sql("SELECT id AS g, concat('group-', CAST(id AS STRING)) AS name FROM range(7)");
    const got = await df.join(dims.hint("broadcast"), "g").groupBy("name").agg(fn.count().alias("n"))
      .orderBy(col("n").desc(), col("name").asc()).limit(3).collect();
    await duck.connection.run("CREATE VIEW d AS SELECT range AS g, 'group-' || range AS name FROM range(7)");
    const want = await duckRows(
      "SELECT name, count(*) AS n FROM t JOIN d USING (g) GROUP BY name ORDER BY n DESC, name ASC LIMIT 3",
    );
    assert.deepEqual(got.map((r) => ({ name: r.name, n: Number(r.n) })), want);
  });

  await t.step("count(), cache() and explain()", async () => {
    const cached = await df.filter("k = '1'").cache();
    assert.equal(await cached.count(), (await duckRows("SELECT count(*) AS n FROM t WHERE k = '1'"))[0]!.n);
    assert.match(await cached.explain("simple"), /InMemoryTableScan|InMemoryRelation/);
    await cached.unpersist();
  });
});

Deno.test("join hints choose Spark's physical join", async () => {
  await using spark = await SparkSession.connect();
  const big = spark.range(100_000).withColumn("k", "id % 1000");
  const small = spark.range(1000).withColumnRenamed("id", "k");
  assert.match(await big.join(small.hint("broadcast"), "k").explain("simple"), /BroadcastHashJoin/);
  assert.match(await big.join(small.hint("merge"), "k").explain("simple"), /SortMergeJoin/);
});

Deno.test("Spark's errors keep their error class, and the session stays usable", async (t) => {
  await using spark = await SparkSession.connect();
  await t.step("unknown table", async () => {
    // spark.sql() analyses eagerly (as PySpark's does), so the error comes from it.
    const err = await spark.sql("SELECT * FROM no_such_table_mercury").then(
      () => assert.fail("expected an error"),
      (e) => e,
    );
    assert.ok(err instanceof SparkError);
    assert.equal(err.sparkErrorClass, "TABLE_OR_VIEW_NOT_FOUND");
    assert.equal(err.code, "not_found");
    assert.ok(!err.format().includes("\n"), "one line");
  });
  await t.step("unknown column", async () => {
    await assert.rejects(
      () => spark.range(3).select("nope").toArrow(),
      (e: SparkError) => e.sparkErrorClass?.startsWith("UNRESOLVED_COLUMN") === true && e.code === "input",
    );
  });
  await t.step("a bad path names PATH_NOT_FOUND", async () => {
    await assert.rejects(
      () => spark.read.parquet("/nonexistent/mercury/spark/x").toArrow(),
      (e: SparkError) => e.sparkErrorClass === "PATH_NOT_FOUND",
    );
  });
  await t.step("the session still answers", async () => {
    const rows = tableRows(await (await spark.sql("SELECT 41 + 1 AS x")).toArrow());
    assert.deepEqual(rows, [{ x: 42 }]);
  });
});

Deno.test("a timeout interrupts the query on the server and the session stays usable", async () => {
  await using spark = await SparkSession.connect();
  const t0 = performance.now();
  // max, not sum: a sum of 0..5e10 overflows a long (ARITHMETIC_OVERFLOW in ANSI mode) within a second or two,
  // which failed this test on a fast run before the deadline.
  const slow = spark.range(0, 50_000_000_000, 1, 2).agg(fn.max("id").alias("m"));
  const err = await slow.toArrow({ timeoutMs: 3000 }).then(() => assert.fail("expected a timeout"), (e) => e);
  assert.ok(err instanceof SparkError);
  assert.equal(err.code, "timeout", err.format());
  assert.ok(performance.now() - t0 < 60_000, "returned soon after the deadline");
  assert.equal(await spark.range(5).count(), 5);
  // An abort signal (what Ctrl-C fires in the CLI) interrupts the same way.
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1500);
  await assert.rejects(() => slow.toArrow({ signal: ac.signal }), (e: SparkError) => /cancelled/.test(e.message));
  assert.equal(await spark.range(7).count(), 7);
});

Deno.test("an unreachable Connect server is one unavailable error", async () => {
  const err = await SparkSession.connect({ remote: "sc://127.0.0.1:1", connectTimeoutMs: 1500 }).then(
    () => assert.fail("expected an error"),
    (e) => e,
  );
  assert.ok(err instanceof SparkError);
  assert.equal(err.code, "unavailable");
  assert.match(err.format(), /sc:\/\/127\.0\.0\.1:1.*services up spark/);
});

Deno.test("write with partitionBy and options, read back with the same rows", async () => {
  await using spark = await SparkSession.connect();
  const dir = await Deno.makeTempDir({ prefix: "mercury-spark-write-" });
  try {
    const df = await spark.sql("SELECT id, id % 3 AS part, CAST(id AS STRING) AS s FROM range(300)");
    await df.write.mode("overwrite").option("compression", "zstd").partitionBy("part").parquet(`${dir}/t`);
    const folders = [...Deno.readDirSync(`${dir}/t`)].filter((e) => e.isDirectory).map((e) => e.name).sort();
    assert.deepEqual(folders, ["part=0", "part=1", "part=2"]);
    const back = spark.read.parquet(`${dir}/t`);
    assert.equal(await back.count(), 300);
    const sums = await back.groupBy("part").agg(fn.sum("id").alias("s")).orderBy("part").collect();
    assert.deepEqual(sums.map((r) => Number(r.s)), [14850, 14950, 15050]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
