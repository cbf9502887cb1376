import assert from "node:assert/strict";
import { connectPostgres, type PostgresConnection } from "@mercury/core/services/postgres";
import { connectRedis, type RedisConnection } from "@mercury/core/services/redis";
import { connectKafka, type KafkaConnection } from "@mercury/core/services/kafka";
import { type DuckDBHandle, openDuckDB, withDuckDB } from "@mercury/core/services/duckdb";

Deno.test({
  name: "await using closes a PostgreSQL pool at the end of the block, also when the block throws",
  async fn() {
    let kept: PostgresConnection | undefined;
    {
      await using pg = await connectPostgres({ max: 1 });
      kept = pg;
      const [row] = await pg.sql`select 1 + 1 as two`;
      assert.equal(row!.two, 2);
    }
    await assert.rejects(kept.sql`select 1`, /CONNECTION_ENDED|ended/i);

    await assert.rejects(
      (async () => {
        await using pg = await connectPostgres({ max: 1 });
        kept = pg;
        throw new Error("boom");
      })(),
      /boom/,
    );
    await assert.rejects(kept.sql`select 1`, /CONNECTION_ENDED|ended/i);
  },
});

Deno.test({
  name: "await using quits a Redis connection at the end of the block",
  async fn() {
    let kept: RedisConnection | undefined;
    {
      await using r = await connectRedis();
      kept = r;
      assert.equal(await r.client.ping(), "PONG");
    }
    assert.equal(kept.client.status, "end");
  },
});

Deno.test({
  name: "await using disconnects a Kafka admin at the end of the block",
  async fn() {
    let kept: KafkaConnection | undefined;
    let disconnected = 0;
    {
      await using k = await connectKafka();
      kept = k;
      k.admin.on(k.admin.events.DISCONNECT, () => disconnected++);
      assert.equal((await k.health()).ok, true);
    }
    assert.equal(disconnected, 1);
    assert.ok(kept);
  },
});

Deno.test("using / await using closes a DuckDB handle once, and withDuckDB closes it after fn throws", async () => {
  let kept: DuckDBHandle | undefined;
  {
    using db = await openDuckDB();
    kept = db;
    assert.equal((await db.connection.runAndReadAll("select 42 as x")).getRowObjects()[0]!.x, 42);
  }
  await assert.rejects(kept.connection.runAndReadAll("select 1"));
  kept.close(); // a second close does nothing
  {
    await using db = await openDuckDB();
    kept = db;
  }
  await assert.rejects(kept.connection.runAndReadAll("select 1"));

  let inner: unknown;
  await assert.rejects(
    withDuckDB((c) => {
      inner = c;
      return Promise.reject(new Error("boom"));
    }),
    /boom/,
  );
  await assert.rejects((inner as DuckDBHandle["connection"]).runAndReadAll("select 1"));
});
