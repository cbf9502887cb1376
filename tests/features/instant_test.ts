/**
 * Time as instants outside the PIT join: text parsing that agrees with DuckDB, TypeScript transforms returning
 * times, and materialisation timestamps and ttl in Redis. timezone_test.ts re-runs this file under non-UTC TZ.
 */
import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import {
  entity,
  type FeatureRepo,
  featureView,
  fileSource,
  getHistoricalFeatures,
  kafkaSource,
  OfflineStore,
  openFeatureStore,
  toOnlineValue,
} from "@mercury/features";
import { pushRow } from "@mercury/features/push";
import { instantSql, parseInstant, toInstantString, useUtc } from "@mercury/features/instant";
import { mulberry32 } from "@mercury/features/examples/fraud";
import { runScript, uniqueName } from "../_helpers.ts";

const HOUR = 3_600_000;

/** `ms` as text at a UTC offset of `offsetMin` minutes, in one of a few spellings. */
function spell(ms: number, offsetMin: number, style: number): string {
  const wall = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(offsetMin);
  const pad = (n: number) => String(n).padStart(2, "0");
  const sign = offsetMin < 0 ? "-" : "+";
  switch (style % 4) {
    case 0:
      return `${wall}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    case 1:
      return `${wall.replace("T", " ")}${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
    case 2:
      return offsetMin === 0 ? `${wall}Z` : `${wall}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    default:
      return new Date(ms).toISOString().slice(0, 19).replace("T", " "); // naive: UTC
  }
}

Deno.test("parseInstant() and DuckDB (through instantSql) read the same text as the same instant", async () => {
  const db = await openDuckDB();
  try {
    await useUtc(db.connection);
    const rnd = mulberry32(5);
    const offsets = [0, 120, -300, 330, 345, -570, 840];
    const cases = Array.from({ length: 200 }, (_, i) => {
      const ms = Date.UTC(1990, 0, 1) + Math.floor(rnd() * 50 * 365 * 24) * HOUR + Math.floor(rnd() * HOUR);
      const style = i % 4;
      const text = spell(ms, offsets[i % offsets.length]!, style);
      return { ms: style === 3 ? Math.floor(ms / 1000) * 1000 : ms, text };
    });
    const r = await db.connection.runAndReadAll(
      `select epoch_ms(${instantSql("t", "VARCHAR")}) as ms from (values ${
        cases.map((c, i) => `(${i}, '${c.text}')`).join(", ")
      }) v(i, t) order by i`,
    );
    const duck = r.getRowObjectsJS().map((x) => Number(x.ms));
    for (const [i, c] of cases.entries()) {
      assert.equal(parseInstant(c.text), c.ms, `parseInstant(${c.text})`);
      assert.equal(duck[i], c.ms, `DuckDB ${c.text}`);
    }
    for (const bad of ["2024-02-30", "2024-13-01", "yesterday", "2024-03-01T25:00:00", "", "1709294400000"]) {
      assert.ok(Number.isNaN(parseInstant(bad)), bad);
    }
    assert.equal(parseInstant("2024-03-01T12:00:00+05"), Date.UTC(2024, 2, 1, 7));
    assert.equal(parseInstant("2024-03-01"), Date.UTC(2024, 2, 1));
  } finally {
    db.close();
  }
});

Deno.test("toInstantString() keeps the instant of Dates and epoch ms, keeps text, refuses the rest naming the place", () => {
  const ms = Date.UTC(2024, 2, 1, 12, 30, 0, 250);
  assert.equal(toInstantString(new Date(ms), "x"), "2024-03-01T12:30:00.250Z");
  assert.equal(toInstantString(ms, "x"), "2024-03-01T12:30:00.250Z");
  assert.equal(toInstantString(BigInt(ms), "x"), "2024-03-01T12:30:00.250Z");
  assert.equal(toInstantString("2024-03-01 12:30:00+02:00", "x"), "2024-03-01 12:30:00+02:00");
  assert.equal(toInstantString(null, "x"), null);
  assert.throws(() => toInstantString(Infinity, "rows[3].ts"), /rows\[3\]\.ts is not a valid time/);
  assert.throws(() => toInstantString(true, "rows[4].ts"), /rows\[4\]\.ts is not a timestamp/);
});

Deno.test("pushRow() and toOnlineValue() read timestamp text as the offline store does: offset honoured, none = UTC", () => {
  const batch = fileSource({ name: "b", format: "csv", path: "b.csv", timestampField: "ts" });
  const view = featureView({
    name: "v",
    entities: ["thing"],
    ttlSeconds: 0,
    source: kafkaSource({ name: "k", topic: "t", batchSource: batch, timestampField: "ts" }),
    features: [{ name: "seen", type: "timestamp" }],
  });
  const noon = Date.UTC(2024, 2, 1, 12);
  for (
    const text of ["2024-03-01T12:00:00", "2024-03-01 12:00:00", "2024-03-01T14:00:00+02:00", "2024-03-01T07:00-05:00"]
  ) {
    const row = pushRow(view, ["k"], { k: 1, ts: text, seen: text });
    assert.ok(typeof row !== "string", String(row));
    assert.equal(row.eventMs, noon, `event time of ${text}`);
    assert.equal(JSON.parse(row.payload).seen, noon, `timestamp feature ${text}`);
    assert.equal(toOnlineValue(text, "timestamp"), noon);
  }
  assert.match(String(pushRow(view, ["k"], { k: 1, ts: "2024-02-30T00:00:00" })), /bad or missing "ts"/);
});

Deno.test("features CLI: --start/--end without an offset are UTC, whatever TZ says", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // An empty window (start = end) prints it and touches nothing.
    const r = await runScript("tasks/mercury.ts", [
      "features",
      "materialize",
      "card_profile",
      "--start",
      "2024-05-01T00:00:00",
      "--end",
      "2024-05-01 02:00:00+02:00",
      "--repo",
      "plugins/features/examples/fraud_repo.ts",
      "--offline-root",
      `${dir}/off`,
    ], { TZ: "America/New_York" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[2024-05-01T00:00:00\.000Z → 2024-05-01T00:00:00\.000Z\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OfflineStore: a TypeScript transform may return times as offset text, Dates or epoch ms", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDB();
  try {
    const T0 = Date.UTC(2024, 2, 1);
    const rows = Array.from({ length: 48 }, (_, i) => ({ k: 1 + (i % 3), ts: T0 + i * HOUR, a: i }));
    await db.connection.run(
      `copy (select * from (values ${
        rows.map((r) => `(${r.k}, epoch_ms(${r.ts})::TIMESTAMP, ${r.a}::DOUBLE)`).join(", ")
      }) t(k, ts, a)) to '${dir}/v.parquet' (format parquet)`,
    );
    const repo: FeatureRepo = {
      project: "tf",
      entities: [entity({ name: "thing", joinKey: "k", valueType: "int64" })],
      views: [featureView({
        name: "v",
        entities: ["thing"],
        ttlSeconds: 0,
        source: fileSource({ name: "s", format: "parquet", path: `${dir}/v.parquet`, timestampField: "ts" }),
        features: [{ name: "a", type: "float64" }],
        // Shift every time by +3 h, spelt three ways.
        transform: (input) =>
          input.map((r, i) => {
            const ms = (r.ts as Date).getTime() + 3 * HOUR;
            return { ...r, ts: [spell(ms, -300, 0), new Date(ms), ms][i % 3] };
          }),
      })],
    };
    const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/off` });
    const entities = Array.from({ length: 60 }, (_, i) => ({ k: 1 + (i % 3), ms: T0 + i * HOUR - 1 }));
    const out = await getHistoricalFeatures(
      store,
      entities.map((e) => ({ k: e.k, event_timestamp: e.ms })),
      ["v:a"],
    );
    for (const [i, e] of entities.entries()) {
      let want: number | null = null;
      for (const r of rows) if (r.k === e.k && r.ts + 3 * HOUR <= e.ms) want = r.a;
      assert.equal(out[i]!.a, want, `entity ${i} at ${new Date(e.ms).toISOString()}`);
    }
    // A time the transform returns that is no time is an input error naming the view.
    repo.views[0]!.transform = (input) => input.map((r) => ({ ...r, ts: "soon" }));
    const bad = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/bad` });
    await assert.rejects(
      () => bad.compute("v"),
      /transform of feature view "v" returned a time that is not a timestamp: .*"soon"/,
    );
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "materialize(): TIMESTAMPTZ event times reach Redis as their epoch ms; the window and ttl count in UTC",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mf-" });
    const project = uniqueName("tz");
    const path = `${dir}/src.parquet`;
    const ttlSeconds = 3 * 3600;
    const repo: FeatureRepo = {
      project,
      entities: [entity({ name: "thing", joinKey: "k", valueType: "int64" })],
      views: [featureView({
        name: "v",
        entities: ["thing"],
        ttlSeconds,
        source: fileSource({ name: "s", format: "parquet", path, timestampField: "ts" }),
        features: [{ name: "a", type: "float64" }, { name: "seen", type: "timestamp" }],
      })],
    };
    const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/off` });
    try {
      await fs.apply();
      // Recent times (Redis expires keys by its own clock): key k's rows are k·40 min apart, the last one
      // 10·k minutes ago; ttl 3 h, so keys whose last row is older are expired.
      const now = Date.now();
      const rows: { k: number; ts: number; a: number }[] = [];
      for (let k = 1; k <= 24; k++) {
        for (let j = 0; j < 4; j++) rows.push({ k, ts: now - 10 * k * 60_000 - j * k * 40 * 60_000, a: k * 100 + j });
      }
      const db = await openDuckDB();
      try {
        await db.connection.run(
          `copy (select * from (values ${
            rows.map((r) =>
              `(${r.k}, make_timestamptz(${r.ts * 1000}), ${r.a}::DOUBLE, make_timestamptz(${r.ts * 1000}))`
            )
              .join(", ")
          }) t(k, ts, a, seen)) to '${path}' (format parquet)`,
        );
      } finally {
        db.close();
      }
      const [report] = await fs.materialize(["v"], { end: new Date(now + 1) });
      const hits = await fs.online.read("v", rows.filter((r) => r.a % 100 === 0).map((r) => String(r.k)), [
        "a",
        "seen",
      ]);
      let live = 0;
      for (const [i, hit] of hits.entries()) {
        const k = i + 1;
        const latest = rows.filter((r) => r.k === k).sort((x, y) => y.ts - x.ts)[0]!;
        if (latest.ts + ttlSeconds * 1000 <= Date.now() - 1000) {
          assert.equal(hit.eventMs, null, `key ${k}: its value is past the ttl`);
        } else if (latest.ts + ttlSeconds * 1000 > now + 1000) {
          live++;
          assert.equal(hit.eventMs, latest.ts, `key ${k}: event time in Redis`);
          assert.equal(Number(hit.values[0]), latest.a);
          assert.equal(Number(hit.values[1]), latest.ts, "a timestamp feature is its epoch ms");
        }
      }
      assert.ok(live >= 15 && report!.expired >= 4, `live ${live}, expired ${report!.expired}`);
      const ttl = await fs.redis.client.pttl(fs.online.keyOf("v", "1"));
      const expect = rows.find((r) => r.k === 1)!.ts + ttlSeconds * 1000 - Date.now();
      assert.ok(Math.abs(ttl - expect) < 5_000, `key 1 expires in ${ttl} ms, expected about ${expect} ms`);
    } finally {
      await fs.online.clear();
      for (const tbl of ["objects", "materializations", "feature_stats"]) {
        await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.${tbl} where project = $1`, [project]);
      }
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
