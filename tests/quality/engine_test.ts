import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { validate } from "@mercury/quality";

async function parquetRows(path: string): Promise<Record<string, unknown>[]> {
  const i = await DuckDBInstance.create(":memory:");
  const c = await i.connect();
  try {
    return (await c.runAndReadAll(`select * from read_parquet('${path}') order by id`)).getRowObjectsJson() as Record<
      string,
      unknown
    >[];
  } finally {
    c.closeSync();
    i.closeSync();
  }
}

const SUITE = {
  name: "orders",
  expectations: [
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "email" } },
    { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0 } },
    { type: "expect_column_values_to_be_increasing", kwargs: { column: "id" } },
    { type: "expect_column_mean_to_be_between", kwargs: { column: "amount", min_value: 0, max_value: 1e9 } },
    { type: "expect_column_max_to_be_between", kwargs: { column: "amount", max_value: 1e9 } },
    { type: "expect_column_values_to_match_regex", kwargs: { column: "email", regex: "@" } },
  ],
};

Deno.test("validate: every aggregate and map count comes from one scan; failing rows all go to Parquet", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quality-engine-" });
  try {
    const data = `${dir}/orders.parquet`;
    const i = await DuckDBInstance.create(":memory:");
    const c = await i.connect();
    // 100,000 rows; every 1,000th has no email, every 700th a negative amount, row 500 is out of order.
    await c.run(`copy (select case when r = 500 then 10 else r end as id,
        case when r % 1000 = 0 then null else 'u' || r || '@x.org' end as email,
        case when r % 700 = 0 then -1.0 else r * 1.0 end as amount
      from range(1, 100001) t(r)) to '${data}' (format parquet)`);
    c.closeSync();
    i.closeSync();
    const sql: string[] = [];
    const run = await validate(data, SUITE, {
      failing_rows_path: `${dir}/out/failing.parquet`,
      onSql: (s) => sql.push(s),
    });
    assert.deepEqual(run.results.map((r) => r.success), [false, false, false, true, true, true]);
    assert.equal(run.results[0]!.result.unexpected_count, 100);
    assert.equal(run.results[1]!.result.unexpected_count, 142);
    assert.equal(run.results[2]!.result.unexpected_count, 1);
    // The scan holds both non-windowed map expectations and both aggregates.
    const scans = sql.filter((s) => s.startsWith("select count(*) as __n"));
    assert.equal(scans.length, 1);
    assert.match(scans[0]!, /avg\("amount"\)/);
    assert.match(scans[0]!, /max\("amount"\)/);
    // The passing regex expectation is never queried again for unexpected values.
    assert.equal(sql.filter((s) => s.includes("regexp_matches") && !s.startsWith("select count(*) as __n")).length, 0);
    // All failing rows, once each, with the expectations they failed.
    // Rows failing two expectations (r % 7000 = 0: no email and a negative amount) count once.
    assert.equal(run.failing_rows_count, 100 + 142 + 1 - 14);
    const rows = await parquetRows(`${dir}/out/failing.parquet`);
    assert.equal(rows.length, run.failing_rows_count);
    const r700 = rows.find((r) => Number(r.id) === 700)!;
    assert.deepEqual(r700.__failed_expectations, ["expect_column_values_to_be_between(amount)#1"]);
    const r10 = rows.find((r) => Number(r.id) === 10 && r.email === "u500@x.org")!;
    assert.deepEqual(r10.__failed_expectations, ["expect_column_values_to_be_increasing(id)#2"]);
    // Atomic: nothing but the final file in the folder.
    assert.deepEqual([...Deno.readDirSync(`${dir}/out`)].map((e) => e.name), ["failing.parquet"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validate: explain returns the SQL and runs no scan", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, "id,email,amount\n1,a@x,3\n");
  const run = await validate(path, SUITE, { explain: true });
  assert.equal(run.results.length, 0);
  assert.ok(run.sql!.some((s) => s.startsWith("select count(*) as __n")));
  assert.ok(run.sql!.some((s) => s.includes('lag("id") over ()')));
});

Deno.test("validate: an empty source passes map expectations, as GX does", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, "id,email,amount\n");
  const run = await validate(path, { name: "e", expectations: SUITE.expectations.slice(0, 2) });
  assert.deepEqual(run.results.map((r) => r.success), [true, true]);
  assert.equal(run.results[0]!.result.element_count, 0);
});
