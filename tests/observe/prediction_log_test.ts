import assert from "node:assert/strict";
import { resolveEndpoints, withTimeout } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { PredictionLog, setupSchema } from "@mercury/observe";

Deno.test("PredictionLog: tabs, newlines, quotes and backslashes kept; a reused id is stored once, the batch not lost", async () => {
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
  // The second batch repeats the stored id beside a new one: the first row is kept, the new one stored.
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

Deno.test("PredictionLog: a batch PostgreSQL refuses ends the flush with a counted error, never a hang", async () => {
  await using pg = await connectPostgres({ url: resolveEndpoints().postgres.url, max: 2 });
  await setupSchema(pg.sql);
  const run = crypto.randomUUID().slice(0, 8);
  const log = new PredictionLog({ sql: pg.sql, flushMs: 10_000, pgTimeoutMs: 5000 });
  // PostgreSQL refuses a NUL character in text: the write fails on the server, after the rows were sent.
  log.log({
    id: `${run}-nul`,
    model: `log-test-${run}\u0000`,
    version: "1",
    ts: Date.now(),
    features: [1],
    output: NaN,
    latencyMs: 0,
    segment: "",
  });
  await assert.rejects(withTimeout(log.drain(), 20_000, "drain() of a refused batch"), /PostgreSQL: /);
  assert.equal(log.pgErrors, 1);
  assert.equal(log.pending, 1, "the refused row stays queued for a retry");
  // The pool is still usable: no connection was left stuck by the failed write.
  const [r] = await withTimeout(pg.sql`select 1 as ok`, 5000, "a query after the refused write");
  assert.equal(r!.ok, 1);
  // A non-finite output is stored as NaN (the server never sends one, the log still must not choke on it).
  const ok = new PredictionLog({ sql: pg.sql, flushMs: 10_000 });
  ok.log({
    id: `${run}-nan`,
    model: `log-test-${run}`,
    version: "1",
    ts: Date.now(),
    features: [1],
    output: NaN,
    latencyMs: 0,
    segment: "",
  });
  await withTimeout(ok.drain(), 20_000, "drain()");
  await ok.close();
  const [row] = await pg.sql`select output from observe.predictions where id = ${`${run}-nan`}`;
  assert.ok(Number.isNaN(row!.output));
  await pg.sql`delete from observe.predictions where model = ${`log-test-${run}`}`;
  await withTimeout(log.close(), 20_000, "close()");
});

Deno.test("PredictionLog: the separated-values batch and its JSON fallback (a separator in an id) store the same rows", async () => {
  await using pg = await connectPostgres({ url: resolveEndpoints().postgres.url });
  await setupSchema(pg.sql);
  const run = crypto.randomUUID().slice(0, 8);
  const model = `log-test-${run}`;
  const ts = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const rows = (tag: string, sep: string) => [
    { id: `${run}-${tag}-a${sep}`, output: 0.125, latencyMs: 1.5, segment: "web\tmobile", features: [1e-7, -2.5e21] },
    { id: `${run}-${tag}-b`, output: Infinity, latencyMs: 0, segment: "", features: [0, NaN] },
    { id: `${run}-${tag}-c`, output: -Infinity, latencyMs: 3, segment: 'q"\\', features: [123456789.125, -0] },
  ];
  for (const [tag, sep] of [["plain", ""], ["json", "\x1f"]] as const) {
    // One batch per form: the "json" batch's first id holds the field separator, so that whole batch goes as JSON.
    const log = new PredictionLog({ sql: pg.sql, flushMs: 10_000, featureNames: () => ["x", "y"] });
    for (const r of rows(tag, sep)) log.log({ ...r, model, version: "7", ts });
    await withTimeout(log.drain(), 20_000, `drain() of the ${tag} batch`);
    await log.close();
    assert.equal(log.stored, 3);
    assert.equal(log.pgErrors, 0);
  }
  const got = await pg.sql<
    { id: string; version: string; ts: Date; features: unknown; output: number; latency_ms: number; segment: string }[]
  >`
    select id, version, ts, features, output, latency_ms, segment from observe.predictions where model = ${model} order by id`;
  assert.equal(got.length, 6);
  const norm = (tag: string) =>
    got.filter((g) => g.id.startsWith(`${run}-${tag}-`)).map((g) => ({
      ...g,
      id: g.id.slice(`${run}-${tag}-`.length),
    }));
  const expected = [
    {
      id: "a",
      version: "7",
      ts: new Date(ts),
      features: { x: 1e-7, y: -2.5e21 },
      output: 0.125,
      latency_ms: 1.5,
      segment: "web\tmobile",
    },
    {
      id: "b",
      version: "7",
      ts: new Date(ts),
      features: { x: 0, y: null },
      output: Infinity,
      latency_ms: 0,
      segment: "",
    },
    {
      id: "c",
      version: "7",
      ts: new Date(ts),
      features: { x: 123456789.125, y: 0 },
      output: -Infinity,
      latency_ms: 3,
      segment: 'q"\\',
    },
  ];
  assert.deepEqual(norm("plain"), expected);
  assert.deepEqual(norm("json").map((g) => ({ ...g, id: g.id.replace("\x1f", "") })), expected);
  assert.ok(norm("json")[0]!.id.endsWith("\x1f"), "the separator is kept in the id");
  await pg.sql`delete from observe.predictions where model = ${model}`;
});
