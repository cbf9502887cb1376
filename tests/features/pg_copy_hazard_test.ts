/**
 * postgres.js 3.4.9's `COPY … TO STDOUT` readable can leave a pooled
 * connection's socket paused (porsager/postgres#499): on a one-connection pool
 * with a reader behind, the next `select 1` never answers. The offline store
 * reads `postgres_source`s with `copyQueryToCsv` (a cursor) instead; these
 * tests check that its CSV equals COPY's byte for byte and that the pool still
 * answers after repeated loads.
 */
import assert from "node:assert/strict";
import { withTimeout } from "@mercury/core";
import { connectPostgres, copyQueryToCsv } from "@mercury/core/services/postgres";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { OfflineStore } from "../../plugins/features/offline_store.ts";
import type { FeatureRepo } from "../../plugins/features/definitions.ts";
import { postgresSource } from "../../plugins/features/definitions.ts";
import { integration, loadBound } from "../_helpers.ts";

const SCHEMA = "features_copy_hazard";

async function setup(sql: import("@mercury/core/services/postgres").Sql, rows: number) {
  await sql.unsafe(`create schema if not exists ${SCHEMA}`);
  await sql.unsafe(`drop table if exists ${SCHEMA}.t`);
  await sql.unsafe(`create table ${SCHEMA}.t (id bigint, name text, x double precision, ts timestamptz, b boolean,
    j jsonb, a int[])`);
  await sql.unsafe(`insert into ${SCHEMA}.t select g, case g % 7 when 0 then null when 1 then '' when 2 then 'a,"b"'
      when 3 then e'line\\nbreak' when 4 then e'cr\\rx' else 'plain ' || g end,
      case when g % 11 = 0 then null when g % 13 = 0 then 'NaN'::float8 else g / 3.0 end,
      timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0,
      case when g % 5 = 0 then null else jsonb_build_object('k', g, 's', 'q"x') end, array[g, g + 1]
    from generate_series(1, ${rows}) g`);
}

async function copyCsv(sql: import("@mercury/core/services/postgres").Sql, query: string): Promise<Uint8Array> {
  // The reference: COPY's own CSV, read with the reader never behind (collected at once).
  const readable = await sql.unsafe(`copy (${query}) to stdout with (format csv, header true)`).readable();
  const parts: Uint8Array[] = [];
  for await (const c of readable as AsyncIterable<Uint8Array>) parts.push(new Uint8Array(c));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

Deno.test({
  name: "copyQueryToCsv writes the same bytes as COPY … (FORMAT csv, HEADER true), NULLs, quotes, newlines and all",
  ...integration,
  async fn() {
    await using pg = await connectPostgres({ max: 2 });
    await setup(pg.sql, 3000);
    const query = `select * from ${SCHEMA}.t order by id`;
    // The reference COPY runs on a pool of its own: its readable is the very hazard under test, and it once left the
    // shared pool's connection paused, so copyQueryToCsv's first statement on it never answered.
    const expected = await (async () => {
      await using ref = await connectPostgres({ max: 1 });
      return await copyCsv(ref.sql, query);
    })();
    const path = await Deno.makeTempFile({ suffix: ".csv" });
    try {
      const r = await copyQueryToCsv(pg.sql, query, path, { pageRows: 700 });
      assert(r.rows === 3000, `rows ${r.rows}`);
      assert(r.columns.map((c) => c.name).join() === "id,name,x,ts,b,j,a");
      const got = await Deno.readFile(path);
      const td = new TextDecoder();
      assert(td.decode(got) === td.decode(expected), "the CSV differs from COPY's");
    } finally {
      await Deno.remove(path).catch(() => {});
    }
  },
});

Deno.test({
  name: "copyQueryToCsv: a failing query leaves no file and the one-connection pool answers",
  ...integration,
  async fn() {
    await using pg = await connectPostgres({ max: 1 });
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/out.csv`;
      let failed = false;
      try {
        await copyQueryToCsv(pg.sql, `select 1 / (g - 500) from generate_series(1, 1000) g`, path, { pageRows: 100 });
      } catch (err) {
        failed = /division by zero/.test(String(err));
      }
      assert(failed, "the division by zero did not surface");
      assert([...Deno.readDirSync(dir)].length === 0, "a partial file was left behind");
      const rows = await withTimeout(pg.sql`select 1 as one`, loadBound(3000), "select 1 after a failed copy");
      assert(rows.length === 1 && rows[0]?.one === 1, `select 1 answered ${JSON.stringify(rows)}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "offline store: five postgres_source loads on a one-connection pool, then select 1 answers in bound",
  ...integration,
  async fn() {
    await using pg = await connectPostgres({ max: 1 });
    await setup(pg.sql, 60_000);
    const db = await openDuckDB();
    try {
      const source = postgresSource({ name: "hazard", table: `${SCHEMA}.t`, timestampField: "ts" });
      const repo = { project: "copy_hazard", entities: [], views: [] } as unknown as FeatureRepo;
      for (let i = 1; i <= 5; i++) {
        const store = new OfflineStore({ connection: db.connection, repo, env: "dev", sql: pg.sql });
        const rel = await withTimeout(store.sourceRelation(source), loadBound(30_000), `load ${i}`);
        const r = await db.connection.runAndReadAll(
          `select count(*)::int, count(name)::int, sum(id)::bigint, count(j)::int from ${rel}`,
        );
        const [n, names, sum, js] = r.getRows()[0]!;
        // DuckDB's read_csv reads COPY's `""` (the empty string) as NULL too, as before: 8,571 NULLs + 8,572 empties.
        assert(n === 60_000 && names === 42_857, `load ${i}: ${n} rows, ${names} names`);
        assert(sum === 60_000n * 60_001n / 2n, `load ${i}: sum ${sum}`);
        assert(js === 48_000, `load ${i}: ${js} json values`);
        const [row] = await withTimeout(pg.sql`select 1 as one`, loadBound(3000), `select 1 after load ${i}`);
        assert(row?.one === 1);
      }
    } finally {
      db.close();
      await pg.sql.unsafe(`drop schema ${SCHEMA} cascade`);
    }
  },
});
