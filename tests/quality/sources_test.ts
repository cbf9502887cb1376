import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { connectPostgres } from "@mercury/core/services/postgres";
import { connectKafka } from "@mercury/core/services/kafka";
import { MercuryError } from "@mercury/core";
import { openSource, validate } from "@mercury/quality";
import { integration, uniqueName } from "../_helpers.ts";

const SUITE = {
  name: "people",
  expectations: [
    { type: "expect_table_row_count_to_equal", kwargs: { value: 3 } },
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "email" } },
    { type: "expect_column_max_to_be_between", kwargs: { column: "age", min_value: 40, max_value: 40 } },
  ],
};

async function duck(sql: string): Promise<void> {
  const i = await DuckDBInstance.create(":memory:");
  const c = await i.connect();
  await c.run(sql);
  c.closeSync();
  i.closeSync();
}

async function expectVerdicts(uri: string): Promise<void> {
  const run = await validate(uri, SUITE);
  assert.deepEqual(run.results.map((r) => r.success), [true, false, true], uri);
  assert.equal(run.results[1]!.result.unexpected_count, 1, uri);
  assert.equal(run.results[2]!.result.observed_value, 40, uri);
  assert.equal(run.fingerprint.row_count, 3);
}

Deno.test("openSource reads every file format into the same verdicts", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "quality-sources-" });
  const values = "(1, 'a@x.org', 30), (2, null, 40), (3, 'c@x.org', 20)";
  const rel = `(select * from (values ${values}) t(id, email, age))`;
  try {
    await t.step("CSV and TSV", async () => {
      await Deno.writeTextFile(`${dir}/p.csv`, "id,email,age\n1,a@x.org,30\n2,,40\n3,c@x.org,20\n");
      await Deno.writeTextFile(`${dir}/p.tsv`, "id\temail\tage\n1\ta@x.org\t30\n2\t\t40\n3\tc@x.org\t20\n");
      await expectVerdicts(`${dir}/p.csv`);
      await expectVerdicts(`${dir}/p.tsv`);
    });
    await t.step("JSON and NDJSON", async () => {
      await Deno.writeTextFile(
        `${dir}/p.json`,
        JSON.stringify([{ id: 1, email: "a@x.org", age: 30 }, { id: 2, email: null, age: 40 }, {
          id: 3,
          email: "c@x.org",
          age: 20,
        }]),
      );
      await Deno.writeTextFile(
        `${dir}/p.ndjson`,
        '{"id":1,"email":"a@x.org","age":30}\n{"id":2,"email":null,"age":40}\n{"id":3,"email":"c@x.org","age":20}\n',
      );
      await expectVerdicts(`${dir}/p.json`);
      await expectVerdicts(`${dir}/p.ndjson`);
    });
    await t.step("Parquet, a glob and a Hive-partitioned folder", async () => {
      await duck(`copy ${rel} to '${dir}/p.parquet' (format parquet)`);
      await Deno.mkdir(`${dir}/parts`);
      await duck(`copy (select *, id % 2 as part from ${rel}) to '${dir}/hive' (format parquet, partition_by (part))`);
      await duck(`copy (select * from ${rel} where id < 3) to '${dir}/parts/a.parquet' (format parquet)`);
      await duck(`copy (select * from ${rel} where id = 3) to '${dir}/parts/b.parquet' (format parquet)`);
      await expectVerdicts(`${dir}/p.parquet`);
      await expectVerdicts(`${dir}/parts/*.parquet`);
      await using src = await openSource(`${dir}/hive/`);
      assert.ok(src.columns.some((c) => c.name === "part"), "the Hive partition column is read");
      await expectVerdicts(`${dir}/hive/`);
    });
    await t.step("Arrow IPC", async () => {
      const { tableFromArrays, tableToIPC } = await import("apache-arrow");
      const table = tableFromArrays({
        id: Int32Array.from([1, 2, 3]),
        email: ["a@x.org", null, "c@x.org"],
        age: Float64Array.from([30, 40, 20]),
      });
      await Deno.writeFile(`${dir}/p.arrow`, tableToIPC(table, "file"));
      await expectVerdicts(`${dir}/p.arrow`);
    });
    await t.step("Excel", async () => {
      const ExcelJS = (await import("exceljs")).default;
      const wb = new ExcelJS.Workbook();
      const ws = wb.addWorksheet("people");
      ws.addRow(["id", "email", "age"]);
      ws.addRow([1, "a@x.org", 30]);
      ws.addRow([2, null, 40]);
      ws.addRow([3, "c@x.org", 20]);
      await wb.xlsx.writeFile(`${dir}/p.xlsx`);
      await expectVerdicts(`${dir}/p.xlsx`);
    });
    await t.step("a DuckDB database file", async () => {
      await duck(`attach '${dir}/w.duckdb' as w; create table w.people as select * from ${rel}`);
      await expectVerdicts(`duckdb:${dir}/w.duckdb?table=people`);
    });
    await t.step("an olap catalog table", async () => {
      const { Olap } = await import("@mercury/olap");
      const olap = await Olap.open({ dataDir: `${dir}/olap` });
      try {
        await olap.ingest("people", { file: `${dir}/p.csv` });
      } finally {
        await olap.close();
      }
      await expectVerdicts(`olap:people?dir=${dir}/olap`);
      await assert.rejects(openSource(`olap:nobody?dir=${dir}/olap`), (e: MercuryError) => e.exitCode === 66);
    });
    await t.step("a mislabelled file is one input error (exit 65)", async () => {
      await Deno.writeTextFile(`${dir}/fake.parquet`, "id,email\n1,a\n");
      await assert.rejects(openSource(`${dir}/fake.parquet`), (e: MercuryError) => {
        assert.equal(e.exitCode, 65);
        assert.match(e.message, /fake\.parquet/);
        return true;
      });
    });
    await t.step("a missing file is not_found (exit 66)", async () => {
      await assert.rejects(
        openSource(`${dir}/nope.csv`),
        (e: MercuryError) => e.exitCode === 66 && /nope\.csv/.test(e.message),
      );
    });
    await t.step("an unknown extension is a usage error naming the source", async () => {
      await assert.rejects(
        openSource(`${dir}/p.xyz`),
        (e: MercuryError) => e.exitCode === 64 && /p\.xyz/.test(e.message),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSource streams a PostgreSQL table and a query in batches", integration, async (t) => {
  await using pg = await connectPostgres();
  const schema = uniqueName("quality_src");
  const url = pg.url;
  await pg.sql.unsafe(`create schema ${schema}`);
  try {
    await pg.sql.unsafe(`create table ${schema}.people (id int, email text, age numeric, seen timestamptz)`);
    await pg.sql.unsafe(
      `insert into ${schema}.people values (1, 'a@x.org', 30, now()), (2, null, 40, now()), (3, 'c@x.org', 20, null)`,
    );
    await t.step("?table=schema.t, in batches of 2 rows", async () => {
      await using src = await openSource(`${url}?table=${schema}.people`, { batchSize: 2 });
      assert.deepEqual(src.columns.map((c) => [c.name, c.type]), [["id", "BIGINT"], ["email", "VARCHAR"], [
        "age",
        "DOUBLE",
      ], ["seen", "TIMESTAMP"]]);
      assert.ok(!src.uri.includes(new URL(url).password || "\u0000"), "the password is not in the source's name");
      await expectVerdicts(`${url}?table=${schema}.people`);
    });
    await t.step("?query=…", async () => {
      const run = await validate(`${url}?query=${encodeURIComponent(`select * from ${schema}.people where id > 1`)}`, {
        name: "q",
        expectations: [{ type: "expect_table_row_count_to_equal", kwargs: { value: 2 } }],
      });
      assert.equal(run.success, true);
    });
    await t.step("a missing table is not_found, an unreachable server unavailable (69)", async () => {
      await assert.rejects(openSource(`${url}?table=${schema}.nope`), (e: MercuryError) => e.exitCode === 66);
      await assert.rejects(
        openSource("postgres://mercury@127.0.0.1:1/mercury?table=public.t"),
        (e: MercuryError) => e.exitCode === 69 && /127\.0\.0\.1:1/.test(e.message),
      );
    });
  } finally {
    await pg.sql.unsafe(`drop schema ${schema} cascade`);
  }
});

Deno.test("openSource samples a Kafka topic's JSON values", integration, async () => {
  await using k = await connectKafka();
  const topic = uniqueName("quality-sample");
  await k.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  try {
    const producer = k.kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from(
        { length: 50 },
        (_, i) => ({ value: JSON.stringify({ id: i, amount: i % 10 === 0 ? -1 : i }) }),
      ),
    });
    await producer.disconnect();
    const run = await validate(`kafka://${topic}?sample=30`, {
      name: "events",
      expectations: [
        { type: "expect_table_row_count_to_equal", kwargs: { value: 30 } },
        { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0 } },
      ],
    });
    assert.equal(run.results[0]!.success, true);
    assert.equal(run.results[1]!.result.unexpected_count, 3); // ids 0, 10, 20
  } finally {
    await k.admin.deleteTopics({ topics: [topic] });
  }
});
