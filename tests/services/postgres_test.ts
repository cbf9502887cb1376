import assert from "node:assert/strict";
import { connectPostgres } from "@mercury/core/services/postgres";
import { MercuryError } from "@mercury/core";
import { uniqueName } from "../_helpers.ts";

Deno.test({
  name: "PostgreSQL: a transaction commits together or not at all",
  async fn(t) {
    const pg = await connectPostgres();
    const table = uniqueName("mercury_tx");
    try {
      assert.equal((await pg.health()).ok, true);
      await pg.sql`create table ${pg.sql(table)} (id int primary key, v text not null)`;

      await t.step("a committed transaction keeps both rows", async () => {
        await pg.sql.begin(async (tx) => {
          await tx`insert into ${tx(table)} values (1, 'a')`;
          await tx`insert into ${tx(table)} values (2, 'b')`;
        });
        const rows = await pg.sql`select id, v from ${pg.sql(table)} order by id`;
        assert.deepEqual(rows.map((r) => [r.id, r.v]), [[1, "a"], [2, "b"]]);
      });

      await t.step("a failing statement rolls back the whole transaction", async () => {
        await assert.rejects(
          pg.sql.begin(async (tx) => {
            await tx`insert into ${tx(table)} values (3, 'c')`;
            await tx`insert into ${tx(table)} values (1, 'duplicate')`;
          }),
          /duplicate key/,
        );
        const [{ n }] = await pg.sql`select count(*)::int as n from ${pg.sql(table)}` as unknown as [{ n: number }];
        assert.equal(n, 2);
      });

      await t.step("timescaleAvailable() answers from the server's catalog", async () => {
        const available = await pg.timescaleAvailable();
        const [{ n }] = await pg
          .sql`select count(*)::int as n from pg_available_extensions where name = 'timescaledb'` as unknown as [
            { n: number },
          ];
        assert.equal(available, n > 0);
      });
    } finally {
      await pg.sql`drop table if exists ${pg.sql(table)}`;
      await pg.close();
    }
  },
});

Deno.test({
  name: "connectPostgres() names the endpoint without its password when it cannot connect",
  async fn() {
    await assert.rejects(connectPostgres({ url: "postgres://u:s3cret@127.0.0.1:1/db", timeoutMs: 1500 }), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.equal(err.code, "unavailable");
      assert.match(err.message, /postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
      assert.ok(!err.message.includes("s3cret"));
      return true;
    });
  },
});
