/**
 * A `postgres:` source is read with `copyQueryToCsv` (a cursor), not
 * postgres.js 3.4.9's `COPY … TO STDOUT` readable, which can leave its
 * connection's socket paused when the reader is behind (porsager/postgres#499).
 * preparePostgres uses a one-connection pool of its own: each load, the pool's
 * close and a `select 1` afterwards must finish in bound, and the staged rows
 * must equal PostgreSQL's.
 */
import assert from "node:assert/strict";
import { withTimeout } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { prepareSource } from "../../plugins/olap/sources.ts";
import { integration, loadBound } from "../_helpers.ts";

const SCHEMA = "olap_copy_hazard";

Deno.test({
  name: "olap postgres source: five loads of 60,000 rows each finish in bound with the rows PostgreSQL holds",
  ...integration,
  async fn() {
    await using pg = await connectPostgres({ max: 1 });
    await pg.sql.unsafe(`create schema if not exists ${SCHEMA}`);
    await pg.sql.unsafe(`drop table if exists ${SCHEMA}.t`);
    await pg.sql.unsafe(`create table ${SCHEMA}.t as select g::bigint as id, case when g % 9 = 0 then null
        else 'n,"' || g || e'"\\n' end as name, g / 7.0 as x,
        timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' as ts
      from generate_series(1, 60000) g`);
    const db = await openDuckDB();
    try {
      for (let i = 1; i <= 5; i++) {
        const t0 = performance.now();
        const p = await withTimeout(
          prepareSource(db.connection, { postgres: `${SCHEMA}.t` }),
          loadBound(30_000),
          `load ${i}`,
        );
        const ms = performance.now() - t0;
        try {
          const r = await db.connection.runAndReadAll(`select count(*)::int, count(name)::int, sum(id)::bigint,
            max(length(name))::int, min(ts)::varchar from (${p.select})`);
          const [n, names, sum, maxLen] = r.getRows()[0]!;
          assert.equal(n, 60_000, `load ${i}: rows`);
          assert.equal(names, 60_000 - 6_666, `load ${i}: non-NULL names`);
          assert.equal(sum, 60_000n * 60_001n / 2n, `load ${i}: sum of ids`);
          assert.equal(maxLen, 'n,"60000"\n'.length, `load ${i}: a name with a comma, quotes and a newline`);
          // A paused socket made the pool's close wait for its 5 s timeout (or never answer the next query).
          assert.ok(ms < loadBound(4_000), `load ${i} took ${ms.toFixed(0)} ms`);
        } finally {
          await p.cleanup();
        }
        const [row] = await withTimeout(pg.sql`select 1 as one`, loadBound(3000), `select 1 after load ${i}`);
        assert.equal(row?.one, 1);
      }
    } finally {
      db.close();
      await pg.sql.unsafe(`drop schema ${SCHEMA} cascade`);
    }
  },
});
