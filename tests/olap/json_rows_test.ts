/**
 * JSON answers written by DuckDB (one string per row) are the same JSON as the JS encoder's
 * (a JS value per cell) for every type the DuckDB path takes; other types keep the JS path.
 */
import assert from "node:assert/strict";
import { closePipes, DuckDBExecutor, encode, jsonCopyStream, jsonRowsSql, Olap } from "@mercury/olap";
import { tempDir } from "./_fixtures.ts";

const EDGE_SQL = `select * from (values
  (1::tinyint, 255::utinyint, (-32768)::smallint, 2147483647::integer, 4294967295::uinteger, true,
   9007199254740991::bigint, 9007199254740993::bigint, -9007199254740993::bigint, 18446744073709551615::ubigint,
   170141183460469231731687303715884105727::hugeint, 1.25::decimal(10,2), 12345678901234.5678::decimal(18,4),
   0.1::double, 0.1::float, 'inf'::double, '-inf'::double, 'nan'::double, 1e300::double, 5e-324::double,
   'Brand#41, quote " backslash \\ newline
 tab	 unicode é ✓ \u2028', date '2024-02-29', timestamp '2024-01-02 03:04:05.123456',
   timestamptz '2024-01-02 03:04:05.5+02', uuid '00000000-0000-0000-0000-00000000002a'),
  (null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
   null, null, null, null, null, null),
  (-1::tinyint, 0::utinyint, 0::smallint, (-2147483648)::integer, 0::uinteger, false, 0::bigint, -1::bigint,
   123::bigint, 0::ubigint, -5::hugeint, -0.01::decimal(10,2), 0::decimal(18,4), -0.0::double, 3.4e38::float,
   1.5::double, 2.5::double, 3.5::double, 1e-7::double, 0.30000000000000004::double, '', date '1970-01-01',
   timestamp '1999-12-31 23:59:59', timestamptz '2000-01-01 00:00:00+00', null)
) as t(ti, uti, si, i, ui, b, big_safe, big_past, big_neg, ubig, huge, dec, dec18, d, f, pinf, ninf, nan, large,
       tiny, s, dt, ts, tz, u)`;

Deno.test("DuckDB-written JSON rows equal the JS encoder's, type by type", async (t) => {
  const ex = await DuckDBExecutor.create({ concurrency: 1 });
  const [pipes, rm] = await tempDir();
  try {
    const js = async (sql: string) => JSON.parse(await new Response(encode("json", await ex.stream(sql))).text());
    const duck = async (sql: string) => {
      const head = await ex.stream(sql);
      const cols = head.columns;
      head.close();
      const body = await jsonCopyStream(ex, sql, cols, { dir: pipes });
      assert.ok(body, `no DuckDB JSON for ${cols.map((c) => c.type).join(", ")}`);
      return JSON.parse(await new Response(body).text());
    };
    await t.step("integers, decimals, doubles (non-finite too), strings, dates, timestamps, UUIDs, nulls", async () => {
      const a = await js(EDGE_SQL), b = await duck(EDGE_SQL);
      assert.equal(b.rowCount, 3);
      assert.deepEqual(b.columns, a.columns);
      for (let r = 0; r < a.rows.length; r++) {
        for (let c = 0; c < a.columns.length; c++) {
          assert.deepEqual(b.rows[r][c], a.rows[r][c], `row ${r}, column ${a.columns[c].name} (${a.columns[c].type})`);
        }
      }
      assert.equal(b.rows[0][7], "9007199254740993"); // past 2^53: a string, not a rounded number
      assert.equal(b.rows[0][15], "Infinity");
    });
    await t.step("many rows in order, duplicate column names, an empty answer", async () => {
      // Doubles of every magnitude: DuckDB's text must read back as the same double as JSON.stringify's.
      const many =
        "select range as id, range * 0.5 as x, '#' || range as tag, exp((range % 1400) / 2.0 - 350) * 1.2345678901234567 as e, " +
        "(hash(range) % 1000003) / 997.0 as y, 'r' || range as s from range(10000) order by id desc";
      assert.deepEqual(await duck(many), await js(many));
      const dup = "select 1 as a, 2 as a";
      assert.deepEqual(await duck(dup), await js(dup));
      const none = "select 1 as a where false";
      assert.deepEqual(await duck(none), await js(none));
    });
    await t.step("types without an exact DuckDB expression keep the JS path", () => {
      for (const type of ["INTEGER[]", 'STRUCT("a" INTEGER)', "INTERVAL", "BLOB", "TIME", "MAP(VARCHAR, INTEGER)"]) {
        assert.equal(jsonRowsSql("select 1", [{ name: "x", type }]), undefined, type);
      }
    });
  } finally {
    await ex.close();
    await closePipes(pipes);
    await rm();
  }
});

Deno.test("Olap.query: JSON answers through DuckDB's writer and through the JS path read the same", async () => {
  const [dir, rm] = await tempDir();
  const olap = await Olap.open({ dataDir: dir, cacheBytes: 0 });
  try {
    // One answer whose types all go through DuckDB, one with a list column (the JS path), both exact.
    const rows = await olap.rows("select range as id, 'v' || range as s, [range] as l from range(3) order by id");
    assert.deepEqual(rows, [{ id: 0, s: "v0", l: [0] }, { id: 1, s: "v1", l: [1] }, { id: 2, s: "v2", l: [2] }]);
    const big = await olap.rows("select 9007199254740993::bigint as n, date '2024-01-02' as d, $1::integer as p", [7]);
    assert.deepEqual(big, [{ n: "9007199254740993", d: "2024-01-02T00:00:00.000Z", p: 7 }]);
  } finally {
    await olap.close();
    await rm();
  }
});
