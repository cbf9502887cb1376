import assert from "node:assert/strict";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import { openDuckDB } from "@mercury/core/services/duckdb";

Deno.test("quoteIdent doubles double quotes and always quotes", () => {
  assert.equal(quoteIdent("events"), '"events"');
  assert.equal(quoteIdent('a"b""c'), '"a""b""""c"');
  assert.equal(quoteIdent("select"), '"select"');
});

Deno.test("quoteLiteral doubles single quotes", () => {
  assert.equal(quoteLiteral("o'brien"), "'o''brien'");
  assert.equal(quoteLiteral("''"), "''''''");
  assert.equal(quoteLiteral('say "hi"'), `'say "hi"'`);
});

Deno.test("quoted names and values round-trip through DuckDB, injection attempts stay data", async () => {
  using db = await openDuckDB();
  const table = `we"ird'; drop table x; --`;
  const column = 'Mixed "Case"';
  const value = `it's'); drop table t; --`;
  await db.connection.run(`create table ${quoteIdent(table)} (${quoteIdent(column)} varchar)`);
  await db.connection.run(`insert into ${quoteIdent(table)} values (${quoteLiteral(value)})`);
  const reader = await db.connection.runAndReadAll(`select ${quoteIdent(column)} as v from ${quoteIdent(table)}`);
  assert.deepEqual(reader.getRowObjects(), [{ v: value }]);
  const tables = await db.connection.runAndReadAll("select table_name from information_schema.tables");
  assert.deepEqual(tables.getRowObjects().map((r) => r.table_name), [table]);
});
