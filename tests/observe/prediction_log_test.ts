import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { PredictionLog, setupSchema } from "@mercury/observe";

Deno.test("PredictionLog: COPY keeps tabs, newlines and backslashes; a reused id is stored once, the batch not lost", async () => {
  await using pg = await connectPostgres({ url: resolveEndpoints().postgres.url });
  await setupSchema(pg.sql);
  const run = crypto.randomUUID().slice(0, 8);
  const e2e: number[] = [];
  const log = new PredictionLog({
    sql: pg.sql,
    flushMs: 10_000,
    featureNames: () => ['a"b', "c\\d"],
    onStored: (_n, lat) => e2e.push(...lat),
  });
  const rec = (id: string, segment: string) => ({
    id,
    model: `log-test-${run}`,
    version: "1",
    ts: Date.now(),
    features: [1.5, -2],
    output: 0.25,
    latencyMs: 0.5,
    segment,
  });
  log.log(rec(`${run}\ta\\b`, "line1\nline2\r"));
  await log.drain();
  // The second batch repeats the stored id beside a new one: COPY refuses it, the insert keeps the new row.
  log.log(rec(`${run}\ta\\b`, "again"));
  log.log(rec(`${run}-new`, "web"));
  await log.drain();
  await log.close();
  const rows = await pg.sql<{ id: string; segment: string; features: Record<string, number> }[]>`
    select id, segment, features from observe.predictions where model = ${`log-test-${run}`} order by id`;
  assert.deepEqual(rows.map((r) => [r.id, r.segment]), [[`${run}\ta\\b`, "line1\nline2\r"], [`${run}-new`, "web"]]);
  assert.deepEqual(rows[0]!.features, { 'a"b': 1.5, "c\\d": -2 });
  assert.equal(log.stored, 3);
  assert.equal(e2e.length, 3);
  assert.equal(log.pgErrors, 0);
  await pg.sql`delete from observe.predictions where model = ${`log-test-${run}`}`;
});
