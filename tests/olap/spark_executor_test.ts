/**
 * olap's SparkExecutor on the real cluster (`deno task services up spark`): TPC-H answers over the catalog's
 * Parquet lake copies equal to the DuckDB executor's over the same catalog, olap's encoders on its chunks, and
 * Spark's error classes for bad input.
 */
import assert from "node:assert/strict";
import { encode, Olap } from "@mercury/olap";
import { SparkExecutor } from "@mercury/olap/spark_executor";
import { SparkError } from "@mercury/spark";
import { TPCH_TABLES, tpchParquet, tpchQuery } from "../../bench/_tpch.ts";
import { tempDir } from "./_fixtures.ts";

/** All 22 TPC-H queries (SF 0.01; Q11's fraction for that scale). */
const QUERIES = Array.from({ length: 22 }, (_, i) => i + 1);
const SF = 0.01;

/** A row as text, numbers to 2 decimals. */
const norm = (row: Record<string, unknown>) =>
  Object.values(row).map((v) => (typeof v === "number" ? v.toFixed(2) : String(v))).join("|");

Deno.test("SparkExecutor: TPC-H over the catalog equals the DuckDB executor, errors keep Spark's class", async (t) => {
  const { dir: raw } = await tpchParquet(SF);
  const [dir, rm] = await tempDir();
  const olap = await Olap.open({ dataDir: dir, restrictFiles: false });
  let spark: SparkExecutor | undefined;
  try {
    for (const name of TPCH_TABLES) await olap.ingest(name, { file: `${raw}/${name}.parquet` });
    spark = await SparkExecutor.create({ catalog: olap.catalog });
    const ex = spark;

    for (const q of QUERIES) {
      await t.step(`TPC-H Q${q}: equal answers`, async () => {
        const sql = await tpchQuery(q, SF);
        const want = (await olap.executor.rows(sql)).map(norm);
        const got = (await ex.rows(sql)).map(norm);
        assert.ok(want.length > 0, `Q${q} has rows`);
        assert.deepEqual([...got].sort(), [...want].sort());
      });
    }

    await t.step("olap's JSON encoder reads its chunks; a new table version is seen", async () => {
      const a = await new Response(encode("json", await ex.stream("select r_name, r_regionkey from region order by 2")))
        .json() as { columns: { name: string }[]; rows: unknown[][] };
      assert.deepEqual(a.columns.map((c) => c.name), ["r_name", "r_regionkey"]);
      assert.deepEqual(a.rows[0], ["AFRICA", 0]);
      await Deno.writeTextFile(`${dir}/r.csv`, "r_regionkey,r_name\n9,MARS\n");
      await olap.ingest("region", { file: `${dir}/r.csv` });
      assert.deepEqual(await ex.rows("select r_name from region"), [{ r_name: "MARS" }]);
    });

    await t.step("bad SQL and unknown tables: a SparkError with Spark's error class", async () => {
      await assert.rejects(ex.rows("selec 1"), (e: unknown) => {
        assert.ok(e instanceof SparkError);
        assert.equal(e.sparkErrorClass, "PARSE_SYNTAX_ERROR");
        return true;
      });
      await assert.rejects(ex.rows("select * from no_such_table"), (e: unknown) => {
        assert.ok(e instanceof SparkError);
        assert.equal(e.sparkErrorClass, "TABLE_OR_VIEW_NOT_FOUND");
        return true;
      });
      await olap.ingest("only_duck", { file: `${dir}/r.csv` }, { storage: "duckdb" });
      await assert.rejects(ex.rows("select * from only_duck"), (e: unknown) => {
        assert.ok(e instanceof SparkError);
        assert.equal(e.sparkErrorClass, "TABLE_OR_VIEW_NOT_FOUND");
        assert.match(e.message, /has no Parquet copy/);
        return true;
      });
      assert.deepEqual(await ex.rows("select count(*) as n from lineitem where l_quantity > 49"), [
        (await olap.executor.rows("select count(*) as n from lineitem where l_quantity > 49"))[0],
      ]);
    });
  } finally {
    await spark?.close();
    await olap.close();
    await rm();
  }
});

Deno.test("SparkExecutor: Spark not answering is one `unavailable` line with the services hint", async () => {
  await assert.rejects(SparkExecutor.create({ remote: "sc://127.0.0.1:9", connectTimeoutMs: 2000 }), (e: unknown) => {
    assert.ok(e instanceof SparkError);
    assert.equal(e.code, "unavailable");
    assert.match(e.message, /sc:\/\/127\.0\.0\.1:9 is not answering/);
    assert.match(e.hint ?? "", /deno task services up spark/);
    return true;
  });
});
