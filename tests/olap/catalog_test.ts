import assert from "node:assert/strict";
import { Catalog, Olap, OlapError } from "@mercury/olap";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { connectPostgres } from "@mercury/core/services/postgres";
import { uniqueName } from "../_helpers.ts";
import { duck, salesCsv, tempDir } from "./_fixtures.ts";

Deno.test({
  name: "Catalog: ingests each file format and PostgreSQL into versioned tables",
  async fn(t) {
    const [dir, rm] = await tempDir();
    const cat = await Catalog.open(dir);
    try {
      await t.step("CSV, partitioned by day and sorted: Hive folders, one version", async () => {
        const csv = await salesCsv(dir);
        const m = await cat.ingest("sales", { file: csv }, {
          partitionBy: "day=cast(ts as date)",
          sortBy: ["ts"],
          storage: "parquet",
        });
        assert.equal(m.version, 1);
        assert.equal(m.rows, 2000);
        assert.equal(m.partitions, 24); // 2000 * 17 min ≈ 23.6 days
        const dirs = [...Deno.readDirSync(`${dir}/${m.path}`)].map((e) => e.name).sort();
        assert.equal(dirs[0], "day=2024-01-01");
        // Sorted by ts within each file: the first rows of day 2 are in ts order.
        const rows = await duck(`select ts from read_parquet('${dir}/${m.path}/day=2024-01-02/*.parquet')`);
        const ts = rows.map((r) => (r.ts as Date).getTime());
        assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
      });
      await t.step("the default storage: a sorted DuckDB serving file and a Parquet lake, one version", async () => {
        const csv = await salesCsv(dir, 2000, "both.csv");
        const m = await cat.ingest("both", { file: csv }, { partitionBy: "day=cast(ts as date)", sortBy: ["ts"] });
        assert.equal(m.storage, "duckdb+parquet");
        assert.equal(m.path, "tables/both/v1/data.duckdb");
        assert.equal(m.lake, "tables/both/v1/lake");
        assert.equal(m.rows, 2000);
        assert.equal(m.partitions, 24);
        assert.equal(m.files, 24);
        const [lake] = await duck(
          `select count(*) as n, count(distinct day) as days from read_parquet('${dir}/${m.lake}/*/*.parquet', hive_partitioning = true)`,
        );
        assert.deepEqual(lake, { n: 2000n, days: 24n });
        const served = await duck(
          `attach '${dir}/${m.path}' as s (read_only); select ts from s.main.data`,
        );
        const ts = served.map((r) => (r.ts as Date).getTime());
        assert.equal(ts.length, 2000);
        assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
        const again = await cat.ingest("both", { file: csv });
        assert.equal(again.version, 2);
        assert.equal(again.storage, "duckdb+parquet");
      });
      await t.step("Parquet, JSON, NDJSON, TSV", async () => {
        await duck(
          `copy (select range as id, 'x' || range as s from range(10)) to '${dir}/a.parquet' (format parquet)`,
        );
        await duck(`copy (select range as id, 'x' || range as s from range(7)) to '${dir}/a.ndjson' (format json)`);
        await duck(
          `copy (select range as id, 'x' || range as s from range(5)) to '${dir}/a.json' (format json, array true)`,
        );
        await duck(
          `copy (select range as id, 'x' || range as s from range(3)) to '${dir}/a.tsv' (format csv, delim '\t', header)`,
        );
        assert.equal((await cat.ingest("pq", { file: `${dir}/a.parquet` })).rows, 10);
        assert.equal((await cat.ingest("nd", { file: `${dir}/a.ndjson` })).rows, 7);
        assert.equal((await cat.ingest("js", { file: `${dir}/a.json` })).rows, 5);
        assert.equal((await cat.ingest("tsv", { file: `${dir}/a.tsv` })).rows, 3);
      });
      await t.step("Arrow IPC (stream and file) keeps types", async () => {
        const tbl = tableFromArrays({
          id: Int32Array.from([1, 2, 3]),
          x: Float64Array.from([0.5, 1.5, 2.5]),
          name: ["a", "b", "c"],
        });
        await Deno.writeFile(`${dir}/a.arrows`, tableToIPC(tbl, "stream"));
        await Deno.writeFile(`${dir}/b.arrow`, tableToIPC(tbl, "file"));
        const a = await cat.ingest("arr", { file: `${dir}/a.arrows` });
        const b = await cat.ingest("arr2", { file: `${dir}/b.arrow` });
        assert.equal(a.rows, 3);
        assert.equal(b.rows, 3);
        assert.deepEqual(a.columns.map((c) => c.type), ["INTEGER", "DOUBLE", "VARCHAR"]);
      });
      await t.step("a PostgreSQL table, with its column types", async () => {
        const pg = await connectPostgres({ max: 1 });
        const name = uniqueName("olap_src");
        try {
          await pg.sql.unsafe(`create table ${name} (id int, price numeric(10,2), at timestamp, tag text)`);
          await pg.sql.unsafe(
            `insert into ${name} select g, g * 1.5, timestamp '2024-01-01' + g * interval '1 hour', 't' || g from generate_series(1, 50) g`,
          );
          const m = await cat.ingest("pgt", { postgres: `public.${name}` });
          assert.equal(m.rows, 50);
          assert.deepEqual(m.columns.map((c) => c.type), ["INTEGER", "DOUBLE", "TIMESTAMP", "VARCHAR"]);
          await assert.rejects(cat.ingest("pgt2", { postgres: `public.${name}_missing` }), /does not exist/);
        } finally {
          await pg.sql.unsafe(`drop table if exists ${name}`);
          await pg.close();
        }
      });
      await t.step("DuckDB-file storage", async () => {
        const m = await cat.ingest("sales_db", { file: `${dir}/sales.csv` }, { storage: "duckdb", sortBy: ["ts"] });
        assert.equal(m.storage, "duckdb");
        assert.equal(m.rows, 2000);
        assert.ok(m.path.endsWith("data.duckdb"));
      });
    } finally {
      await cat.close();
      await rm();
    }
  },
});

Deno.test({
  name: "Catalog: a failed ingest leaves the catalog and the previous version untouched",
  async fn(t) {
    const [dir, rm] = await tempDir();
    const olap = await Olap.open({ dataDir: dir, restrictFiles: false });
    try {
      const csv = await salesCsv(dir);
      const v1 = await olap.ingest("sales", { file: csv }, { partitionBy: "region" });
      const before = await Deno.readTextFile(`${dir}/catalog.json`);
      await t.step("a .parquet file that is really CSV: 400 naming the file, nothing written", async () => {
        await Deno.copyFile(csv, `${dir}/fake.parquet`);
        const err = await olap.ingest("sales", { file: `${dir}/fake.parquet` }).catch((e) => e);
        assert.ok(err instanceof OlapError);
        assert.equal(err.status, 400);
        assert.match(err.message, /fake\.parquet is not a readable parquet file/);
        assert.equal(await Deno.readTextFile(`${dir}/catalog.json`), before);
        const leftovers = [...Deno.readDirSync(`${dir}/tables/sales`)].map((e) => e.name);
        assert.deepEqual(leftovers, ["v1"]);
        assert.deepEqual(await olap.rows("select count(*) as n from sales"), [{ n: 2000 }]);
      });
      await t.step("an Arrow file that is not Arrow, a JSON file that is CSV, a missing file", async () => {
        await Deno.copyFile(csv, `${dir}/fake.arrow`);
        await Deno.copyFile(csv, `${dir}/fake.ndjson`);
        await assert.rejects(olap.ingest("sales", { file: `${dir}/fake.arrow` }), /not an Arrow IPC file/);
        await assert.rejects(olap.ingest("sales", { file: `${dir}/fake.ndjson` }), /not a readable ndjson file/);
        await assert.rejects(olap.ingest("sales", { file: `${dir}/nope.csv` }), /no such file/);
        await assert.rejects(
          olap.ingest("sales", { file: csv }, { partitionBy: "no_such_col" }),
          /cannot write table "sales"/,
        );
        assert.equal(await Deno.readTextFile(`${dir}/catalog.json`), before);
      });
      await t.step("append adds files and a version; compact merges them into one file per partition", async () => {
        const csv2 = await salesCsv(dir, 300, "more.csv");
        const v2 = await olap.ingest("sales", { file: csv2 }, { mode: "append" });
        assert.equal(v2.version, v1.version + 1);
        assert.equal(v2.rows, 2300);
        assert.equal(v2.files, 6);
        // Both copies of the default storage moved together: the lake holds the serving file's rows.
        assert.equal(v2.storage, "duckdb+parquet");
        const [lake] = await duck(
          `select count(*) as n from read_parquet('${dir}/${v2.lake}/**/*.parquet', hive_partitioning = true)`,
        );
        assert.equal(lake!.n, 2300n);
        await assert.rejects(
          olap.ingest("sales", { file: csv2 }, { mode: "append", storage: "parquet" }),
          /cannot append to "sales" as parquet: it is stored as duckdb\+parquet/,
        );
        const v3 = await olap.compact("sales");
        assert.equal(v3.version, v2.version + 1);
        assert.equal(v3.files, 3);
        assert.equal(v3.rows, 2300);
        assert.deepEqual(v3.partitionBy, v1.partitionBy);
        assert.deepEqual(await olap.rows("select count(*) as n, count(distinct region) as r from sales"), [{
          n: 2300,
          r: 3,
        }]);
      });
      await t.step("appends past the files-per-partition threshold compact on their own", async () => {
        const auto = await Olap.open({ dataDir: dir, restrictFiles: false, compactAbove: 2 });
        try {
          const small = await salesCsv(dir, 30, "small.csv");
          let m = await auto.ingest("sales", { file: small }, { mode: "append" }); // 6 files on 3 partitions
          assert.equal(m.files, 6);
          m = await auto.ingest("sales", { file: small }, { mode: "append" }); // 9 > 2 x 3: compacted
          assert.equal(m.files, 3);
          assert.equal(m.rows, 2360);
        } finally {
          await auto.close();
        }
      });
    } finally {
      await olap.close();
      await rm();
    }
  },
});
