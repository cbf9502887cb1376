import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { entity, featureView, fileSource, getHistoricalFeatures, OfflineStore } from "@mercury/features";
import type { FeatureRepo } from "@mercury/features";
import { mulberry32 } from "@mercury/features/examples/fraud";

const HOUR = 3_600_000;
const T0 = Date.parse("2024-03-01T00:00:00Z");

interface FRow {
  k: number;
  ts: number;
  created: number;
  a: number;
}

async function writeRows(db: Awaited<ReturnType<typeof openDuckDB>>, path: string, rows: FRow[]) {
  const values = rows.map((r) =>
    `(${r.k}, epoch_ms(${r.ts})::TIMESTAMP, epoch_ms(${r.created})::TIMESTAMP, ${r.a}::DOUBLE)`
  ).join(", ");
  await db.connection.run(
    `copy (select * from (values ${values}) t(k, ts, created, a)) to '${path}' (format parquet)`,
  );
}

function repoFor(path: string, ttlSeconds: number): FeatureRepo {
  return {
    project: "pit",
    entities: [entity({ name: "thing", joinKey: "k", valueType: "int64" })],
    views: [featureView({
      name: "v",
      entities: ["thing"],
      ttlSeconds,
      source: fileSource({
        name: "s",
        format: "parquet",
        path,
        timestampField: "ts",
        createdTimestampField: "created",
      }),
      features: [{ name: "a", type: "float64" }],
    })],
  };
}

/** The reference: Feast's rule, row by row. */
function bruteForce(rows: FRow[], k: number, t: number, ttlMs: number): number | null {
  let best: FRow | undefined;
  for (const r of rows) {
    if (r.k !== k || r.ts > t || (ttlMs > 0 && r.ts < t - ttlMs)) continue;
    if (!best || r.ts > best.ts || (r.ts === best.ts && r.created > best.created)) best = r;
  }
  return best ? best.a : null;
}

Deno.test("getHistoricalFeatures() is point-in-time correct: random data against a brute-force reference", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDB();
  try {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      await t.step(`seed ${seed}`, async () => {
        const rnd = mulberry32(seed);
        const rows: FRow[] = [];
        for (let i = 0; i < 400; i++) {
          // Coarse times (whole hours) so equal event times — ties — are common.
          const ts = T0 + Math.floor(rnd() * 200) * HOUR;
          rows.push({ k: 1 + Math.floor(rnd() * 8), ts, created: ts + Math.floor(rnd() * 5) * 1000, a: i });
        }
        const path = `${dir}/v${seed}.parquet`;
        await writeRows(db, path, rows);
        const ttl = seed % 2 === 0 ? 0 : (1 + Math.floor(rnd() * 48)) * 3600;
        const store = new OfflineStore({
          connection: db.connection,
          repo: repoFor(path, ttl),
          env: "dev",
          root: `${dir}/off${seed}`,
        });
        const entities = Array.from({ length: 300 }, () => ({
          k: 1 + Math.floor(rnd() * 9), // key 9 never has features
          event_timestamp: new Date(T0 + Math.floor(rnd() * 220) * HOUR - (rnd() < 0.3 ? 0 : Math.floor(rnd() * HOUR))),
        }));
        const out = await getHistoricalFeatures(store, entities, ["v:a"]);
        assert.equal(out.length, entities.length);
        let nonNull = 0;
        for (const [i, e] of entities.entries()) {
          const want = bruteForce(rows, e.k, e.event_timestamp.getTime(), ttl * 1000);
          assert.equal(out[i]!.k, e.k, "entity rows keep their order");
          assert.equal(out[i]!.a, want, `row ${i}: k=${e.k} at ${e.event_timestamp.toISOString()} ttl=${ttl}s`);
          if (want !== null) {
            nonNull++;
            // No leakage: the value served was observed at or before the entity's time.
            const src = rows.find((r) => r.a === want)!;
            assert.ok(src.ts <= e.event_timestamp.getTime());
          }
        }
        assert.ok(nonNull > 50, `only ${nonNull} non-null values: the test data is too sparse to mean much`);
      });
    }
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("getHistoricalFeatures(): ties, ttl, no entity table and bad entity tables", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDB();
  try {
    const path = `${dir}/v.parquet`;
    await writeRows(db, path, [
      { k: 1, ts: T0, created: T0, a: 10 },
      { k: 1, ts: T0, created: T0 + 5000, a: 11 }, // same event time, created later: wins
      { k: 1, ts: T0 + 10 * HOUR, created: T0 + 10 * HOUR, a: 20 },
      { k: 2, ts: T0 + 5 * HOUR, created: T0, a: 30 },
    ]);
    const store = new OfflineStore({
      connection: db.connection,
      repo: repoFor(path, 3 * 3600),
      env: "dev",
      root: `${dir}/off`,
    });
    await t.step("a tie in event time goes to the later created time", async () => {
      const out = await getHistoricalFeatures(store, [{ k: 1, event_timestamp: new Date(T0 + HOUR) }], ["v:a"]);
      assert.equal(out[0]!.a, 11);
    });
    await t.step("a value older than the ttl is not used", async () => {
      const out = await getHistoricalFeatures(store, [
        { k: 1, event_timestamp: new Date(T0 + 4 * HOUR) },
        { k: 1, event_timestamp: new Date(T0 + 10 * HOUR) },
        { k: 1, event_timestamp: new Date(T0 + 10 * HOUR - 1) },
      ], ["v:*"]);
      assert.deepEqual(out.map((r) => r.a), [null, 20, null]);
    });
    await t.step("without an entity table, every feature row is its own entity row", async () => {
      const out = await getHistoricalFeatures(store, undefined, ["v:a"]);
      assert.equal(out.length, 3); // (1, T0) twice collapses to one entity row
      assert.deepEqual(out.map((r) => r.a).sort(), [11, 20, 30]);
    });
    await t.step("an entity table without timestamps is refused, naming the column", async () => {
      await assert.rejects(
        () => getHistoricalFeatures(store, [{ k: 1 }], ["v:a"]),
        /entity table has no "event_timestamp" column/,
      );
    });
    await t.step("an entity table without the join key is refused, naming it", async () => {
      await assert.rejects(
        () => getHistoricalFeatures(store, [{ id: 1, event_timestamp: new Date(T0) }], ["v:a"]),
        /no join key "k" for feature view "v"/,
      );
    });
    await t.step("an unknown feature is refused, naming it", async () => {
      await assert.rejects(
        () => getHistoricalFeatures(store, [{ k: 1, event_timestamp: new Date(T0) }], ["v:b"]),
        /view "v" has no feature "b"/,
      );
    });
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OfflineStore: type checks, partitioned Parquet, TypeScript transforms and retention", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDB();
  try {
    const path = `${dir}/v.parquet`;
    await writeRows(db, path, [
      { k: 1, ts: Date.parse("2024-01-01T05:00:00Z"), created: 0, a: 1.5 },
      { k: 2, ts: Date.parse("2024-02-01T05:00:00Z"), created: 0, a: 2.5 },
    ]);
    await t.step("a feature declared int64 over a DOUBLE column is refused, naming view and feature", async () => {
      const repo = repoFor(path, 0);
      repo.views[0]!.features = [{ name: "a", type: "int64" }];
      const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/bad` });
      await assert.rejects(
        () => store.compute("v"),
        /feature view "v": feature "a" is declared int64 but the source has DOUBLE/,
      );
      await assert.rejects(() => Deno.stat(`${dir}/bad/pit/dev/v`), Deno.errors.NotFound);
    });
    await t.step("compute writes one partition per day; prune drops the old ones", async () => {
      const repo = repoFor(path, 0);
      repo.views[0]!.retentionDays = 10;
      const store = new OfflineStore({ connection: db.connection, repo, env: "staging", root: `${dir}/ok` });
      const r = await store.compute("v");
      assert.equal(r.rows, 2);
      const parts = [...Deno.readDirSync(r.dir)].map((e) => e.name).sort();
      assert.deepEqual(parts, ["date=2024-01-01", "date=2024-02-01"]);
      assert.match(r.dir, /\/pit\/staging\/v$/);
      assert.deepEqual(await store.prune("v", new Date("2024-02-05T00:00:00Z")), ["2024-01-01"]);
      const left = await getHistoricalFeatures(store, undefined, ["v:a"]);
      assert.deepEqual(left.map((x) => x.a), [2.5]);
    });
    await t.step("a TypeScript transform computes the view's rows", async () => {
      const repo = repoFor(path, 0);
      repo.views[0]!.transform = (rows) => rows.map((r) => ({ ...r, a: Number(r.a) * 10 }));
      const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/tf` });
      const out = await getHistoricalFeatures(store, [{ k: 2, event_timestamp: "2024-03-01T00:00:00Z" }], ["v:a"]);
      assert.equal(out[0]!.a, 25);
    });
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
