import assert from "node:assert/strict";
import { openDuckDB, withDuckDB } from "@mercury/core/services/duckdb";
import { MercuryError } from "@mercury/core";

Deno.test("DuckDB: queries a CSV file in place and closes cleanly", async () => {
  const dir = Deno.makeTempDirSync();
  const csv = `${dir}/events.csv`;
  Deno.writeTextFileSync(csv, "user,amount\na,1.5\nb,2\na,3\n");
  const db = await openDuckDB();
  try {
    assert.equal((await db.health()).ok, true);
    const r = await db.connection.runAndReadAll(
      `select "user", sum(amount)::double as total from read_csv('${csv}') group by all order by "user"`,
    );
    assert.deepEqual(r.getRowObjects(), [{ user: "a", total: 4.5 }, { user: "b", total: 2 }]);
  } finally {
    db.close();
  }
});

Deno.test("withDuckDB() builds a million rows with range() and aggregates them", async () => {
  const sum = await withDuckDB(async (c) => {
    const r = await c.runAndReadAll("select sum(range)::bigint as s from range(1000000)");
    return r.getRowObjects()[0]!.s;
  });
  assert.equal(sum, 499999500000n);
});

Deno.test("openDuckDB() names a database path it cannot open", async () => {
  await assert.rejects(openDuckDB({ path: "/nonexistent-dir/x.duckdb" }), (err) => {
    assert.ok(err instanceof MercuryError);
    assert.equal(err.where, "/nonexistent-dir/x.duckdb");
    return true;
  });
});
