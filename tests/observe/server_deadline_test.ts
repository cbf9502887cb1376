/**
 * No request to the observe server waits forever: a PostgreSQL step that does
 * not answer (here a real lock held by another session) is answered 503 naming
 * the step, a request past its deadline 504 naming the route, and the server
 * keeps answering afterwards. Also the regression of the CI hang: exporting the
 * log to DuckDB leaves every pooled connection usable.
 */
import assert from "node:assert/strict";
import { resolveEndpoints, withTimeout } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { MlflowClient, ObserveServer, predictionsToDuckDB, setupSchema } from "@mercury/observe";

const eps = resolveEndpoints();

Deno.test("observe server: a stuck PostgreSQL step answers 503, a stuck request 504, never a hang", async (t) => {
  await using pg = await connectPostgres({ url: eps.postgres.url, max: 4 });
  await setupSchema(pg.sql);
  await using locker = await connectPostgres({ url: eps.postgres.url, max: 1 });
  const server = new ObserveServer({
    sql: pg.sql,
    mlflow: new MlflowClient(eps.mlflow.url),
    models: [],
    port: 0,
    ioTimeoutMs: 400,
    requestTimeoutMs: 5000,
  });
  const labels = (ids: string[]) =>
    new Request("http://observe/labels", {
      method: "POST",
      body: JSON.stringify({ labels: ids.map((id) => ({ id, label: 1 })) }),
    });
  // Holds an exclusive lock on observe.predictions while `fn` runs (a real session of PostgreSQL's).
  const whileLocked = async <T>(fn: () => Promise<T>): Promise<T> => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const tx = locker.sql.begin(async (q) => {
      await q`lock table observe.predictions in access exclusive mode`;
      locked();
      await held;
    });
    await withTimeout(isLocked, 10_000, "taking the lock");
    try {
      return await fn();
    } finally {
      release();
      await tx;
    }
  };
  try {
    await t.step("a lookup PostgreSQL does not answer in time is a 503 naming the step", async () => {
      const t0 = performance.now();
      const r = await whileLocked(() => server.handle(labels(["deadline-test-unknown"])));
      const ms = performance.now() - t0;
      assert.equal(r.status, 503);
      const body = await r.json();
      assert.match(body.error, /POST \/labels: looking up prediction ids in PostgreSQL timed out after 400 ms/);
      assert.ok(ms < 3000, `answered in ${ms} ms`);
    });
    await t.step("a request past its deadline is a 504 naming the route", async () => {
      const slow = new ObserveServer({
        sql: pg.sql,
        mlflow: new MlflowClient(eps.mlflow.url),
        models: [],
        ioTimeoutMs: 10_000,
        requestTimeoutMs: 300,
      });
      try {
        const r = await whileLocked(() => slow.handle(labels(["deadline-test-unknown"])));
        assert.equal(r.status, 504);
        assert.match((await r.json()).error, /^POST \/labels did not finish within 300 ms$/);
      } finally {
        await slow.close();
      }
    });
    await t.step("after the lock is gone the same request answers normally", async () => {
      const r = await server.handle(labels(["deadline-test-unknown"]));
      assert.equal(r.status, 200);
      assert.deepEqual((await r.json()).rejected.map((x: { reason: string }) => x.reason.split(":")[0]), [
        "unknown_id",
      ]);
    });
  } finally {
    await server.close();
  }
});

Deno.test("predictionsToDuckDB: every pooled connection still answers afterwards (the CI hang's cause)", async () => {
  // One connection, so the export and the next query share it: postgres.js' COPY readable could leave its
  // socket paused and the next query waiting forever; the export no longer uses COPY.
  await using pg = await connectPostgres({ url: eps.postgres.url, max: 1 });
  await setupSchema(pg.sql);
  const model = `duck-test-${crypto.randomUUID().slice(0, 8)}`;
  await pg.sql`insert into observe.predictions (id, model, version, ts, features, output, latency_ms, segment)
    select ${model} || '-' || g, ${model}, '1', now(), jsonb_build_object('a', g, 'b', repeat('x', 200)), g / 3000.0,
      0.1, case when g % 2 = 0 then 'web' else '' end
    from generate_series(1, 3000) g`;
  await pg
    .sql`insert into observe.labels (id, label) select ${model} || '-' || g, g % 2 from generate_series(1, 1000) g`;
  try {
    await using duck = await openDuckDB();
    for (let i = 0; i < 3; i++) {
      const n = await predictionsToDuckDB(pg.sql, duck.connection, { model, pageRows: 700 });
      assert.equal(n, 3000);
      const [r] = await withTimeout(pg.sql`select 1 as ok`, 5000, `the query after export ${i + 1}`);
      assert.equal(r!.ok, 1);
    }
    const rows = (await duck.connection.runAndReadAll(
      `select count(label)::int, count(*) filter (where segment = 'web')::int, max(json_extract(features, '$.a')::int)
       from predictions`,
    )).getRows();
    assert.deepEqual(rows[0], [1000, 1500, 3000]);
  } finally {
    await pg.sql`delete from observe.labels where id like ${model + "-%"}`;
    await pg.sql`delete from observe.predictions where model = ${model}`;
  }
});
