import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import {
  entity,
  featureView,
  fileSource,
  getHistoricalFeatures,
  OfflineStore,
  postgresSource,
} from "@mercury/features";
import type { FeatureRepo } from "@mercury/features";
import { mulberry32 } from "@mercury/features/examples/fraud";
import postgres from "postgres";
import { resolveEndpoints } from "@mercury/core";
import { uniqueName } from "../_helpers.ts";

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

// ---- Time: every form of timestamp is an instant, whatever the machine's TZ (timezone_test.ts re-runs this file
// under non-UTC TZ settings). The oracle below works on epoch milliseconds in plain TypeScript.

/** `ms` as ISO text at a UTC offset of `offsetMin` minutes: `2024-03-01T14:00:00.000+02:00` names the same instant. */
function atOffset(ms: number, offsetMin: number): string {
  const wall = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(offsetMin);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${wall}${offsetMin < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The forms an entity timestamp may take, each naming the instant `ms`. */
const FORMS: [string, (ms: number) => unknown][] = [
  ["+02:00 string", (ms) => atOffset(ms, 120)],
  ["-05:00 string", (ms) => atOffset(ms, -300)],
  ["+05:30 string", (ms) => atOffset(ms, 330)],
  ["Date", (ms) => new Date(ms)],
  ["epoch ms", (ms) => ms],
  ["naive string (UTC)", (ms) => new Date(ms).toISOString().slice(0, 23).replace("T", " ")],
  ["Z string", (ms) => new Date(ms).toISOString()],
];

function randomRows(seed: number, n = 300): FRow[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const ts = T0 + Math.floor(rnd() * 150) * HOUR;
    return { k: 1 + Math.floor(rnd() * 6), ts, created: ts + Math.floor(rnd() * 5) * 1000, a: i };
  });
}

/** Entity times near the feature times (whole hours or just before), so an offset lost or a TZ applied shows. */
function randomTimes(seed: number, n = 250): { k: number; ms: number }[] {
  const rnd = mulberry32(seed * 7919);
  return Array.from({ length: n }, () => ({
    k: 1 + Math.floor(rnd() * 6),
    ms: T0 + Math.floor(rnd() * 160) * HOUR - (rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 3) * 60_000),
  }));
}

function checkAgainstOracle(
  out: Record<string, unknown>[],
  rows: FRow[],
  times: { k: number; ms: number }[],
  ttlSeconds: number,
  label: (i: number) => string,
): void {
  assert.equal(out.length, times.length);
  let nonNull = 0;
  for (const [i, e] of times.entries()) {
    const want = bruteForce(rows, e.k, e.ms, ttlSeconds * 1000);
    assert.equal(out[i]!.a, want, `row ${i} (${label(i)}): k=${e.k} at ${new Date(e.ms).toISOString()}`);
    if (want !== null) {
      nonNull++;
      assert.ok(rows.find((r) => r.a === want)!.ts <= e.ms, "no value from after the entity's time");
    }
  }
  assert.ok(nonNull > 50, `only ${nonNull} non-null values: the test data is too sparse to mean much`);
}

/** Writes rows as Parquet whose time columns are TIMESTAMPTZ (Parquet's isAdjustedToUTC timestamps). */
async function writeRowsTz(db: Awaited<ReturnType<typeof openDuckDB>>, path: string, rows: FRow[]) {
  const values = rows.map((r) =>
    `(${r.k}, to_timestamp(${r.ts / 1000}), to_timestamp(${r.created / 1000}), ${r.a}::DOUBLE)`
  )
    .join(", ");
  await db.connection.run(
    `copy (select * from (values ${values}) t(k, ts, created, a)) to '${path}' (format parquet)`,
  );
}

Deno.test("getHistoricalFeatures(): entity times with offsets, Dates, epoch ms and naive strings are instants (oracle on epoch ms)", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDB();
  try {
    for (const [seed, ttl] of [[11, 0], [12, 6 * 3600]] as const) {
      const rows = randomRows(seed);
      const naive = `${dir}/naive${seed}.parquet`, tz = `${dir}/tz${seed}.parquet`;
      await writeRows(db, naive, rows);
      await writeRowsTz(db, tz, rows);
      const times = randomTimes(seed);
      for (const [kind, path] of [["naive TIMESTAMP", naive], ["TIMESTAMPTZ", tz]] as const) {
        await t.step(`${kind} Parquet source, ttl ${ttl}s, every entity time form`, async () => {
          const store = new OfflineStore({
            connection: db.connection,
            repo: repoFor(path, ttl),
            env: "dev",
            root: `${dir}/off_${kind.length}_${seed}`,
          });
          const entities = times.map((e, i) => ({ k: e.k, event_timestamp: FORMS[i % FORMS.length]![1](e.ms) }));
          const out = await getHistoricalFeatures(store, entities, ["v:a"]);
          checkAgainstOracle(out, rows, times, ttl, (i) => FORMS[i % FORMS.length]![0]);
          for (const [i, o] of out.entries()) {
            assert.equal(
              (o.event_timestamp as Date).getTime(),
              times[i]!.ms,
              "the entity time comes back as its instant",
            );
          }
        });
      }
      await t.step(`an entity relation with a TIMESTAMPTZ column (seed ${seed})`, async () => {
        const store = new OfflineStore({
          connection: db.connection,
          repo: repoFor(tz, ttl),
          env: "dev",
          root: `${dir}/rel${seed}`,
        });
        await db.connection.run(
          `create or replace temp table ents as select * from (values ${
            times.map((e, i) => `(${i}, ${e.k}, to_timestamp(${e.ms / 1000}))`).join(", ")
          }) t(i, k, event_timestamp) order by i`,
        );
        const out = await getHistoricalFeatures(
          store,
          { relation: "(select k, event_timestamp from ents order by i)" },
          [
            "v:a",
          ],
        );
        checkAgainstOracle(out, rows, times, ttl, () => "TIMESTAMPTZ relation");
      });
    }
    await t.step("an entity time that is not a time is refused, naming the row", async () => {
      const store = new OfflineStore({
        connection: db.connection,
        repo: repoFor(`${dir}/tz11.parquet`, 0),
        env: "dev",
        root: `${dir}/bad`,
      });
      await assert.rejects(
        () =>
          getHistoricalFeatures(store, [{ k: 1, event_timestamp: new Date(T0) }, {
            k: 1,
            event_timestamp: new Date(NaN),
          }], ["v:a"]),
        /entity rows\[1\]\.event_timestamp is not a valid time/,
      );
      await assert.rejects(
        () => getHistoricalFeatures(store, [{ k: 1, event_timestamp: "next tuesday" }], ["v:a"]),
        /entity row 0's "event_timestamp" is not a timestamp: "next tuesday"/,
      );
    });
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OfflineStore: a CSV source whose times carry offsets reads them as instants", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDB();
  try {
    const rows = randomRows(21);
    const offsets = [120, -300, 330, 0];
    await Deno.writeTextFile(
      `${dir}/v.csv`,
      "k,ts,created,a\n" +
        rows.map((r, i) =>
          `${r.k},${atOffset(r.ts, offsets[i % 4]!)},${atOffset(r.created, offsets[(i + 1) % 4]!)},${r.a}`
        )
          .join("\n") +
        "\n",
    );
    const repo = repoFor(`${dir}/v.csv`, 0);
    const view = repo.views[0]!;
    if (view.source.kind === "file_source") view.source.format = "csv";
    const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/off` });
    const times = randomTimes(21);
    const out = await getHistoricalFeatures(store, times.map((e) => ({ k: e.k, event_timestamp: new Date(e.ms) })), [
      "v:a",
    ]);
    checkAgainstOracle(out, rows, times, 0, () => "CSV with offsets");
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "OfflineStore: PostgreSQL timestamptz and timestamp sources are instants, whatever the session's time zone",
  async fn(t) {
    const dir = await Deno.makeTempDir();
    const db = await openDuckDB();
    // A PostgreSQL session in a non-UTC zone: COPY then prints timestamptz at +05:30.
    const sql = postgres(resolveEndpoints().postgres.url, {
      max: 1,
      onnotice: () => {},
      connection: { TimeZone: "Asia/Kolkata" },
    });
    const table = uniqueName("pit_tz");
    try {
      const rows = randomRows(31);
      const times = randomTimes(31);
      for (
        const [kind, type, expr] of [
          ["timestamptz", "timestamptz", (ms: number) => `to_timestamp(${ms / 1000})`],
          ["timestamp (read as UTC)", "timestamp", (ms: number) => `(to_timestamp(${ms / 1000}) at time zone 'UTC')`],
        ] as const
      ) {
        await t.step(kind, async () => {
          const name = `${table}_${type}`;
          await sql.unsafe(`create table ${name} (k bigint, ts ${type}, created ${type}, a double precision)`);
          await sql.unsafe(
            `insert into ${name} values ${
              rows.map((r) => `(${r.k}, ${expr(r.ts)}, ${expr(r.created)}, ${r.a})`).join(", ")
            }`,
          );
          const repo = repoFor("", 3 * 3600);
          repo.views[0]!.source = postgresSource({
            name: "s",
            table: name,
            timestampField: "ts",
            createdTimestampField: "created",
          });
          const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/${type}`, sql });
          const out = await getHistoricalFeatures(
            store,
            times.map((e, i) => ({ k: e.k, event_timestamp: FORMS[i % FORMS.length]![1](e.ms) })),
            ["v:a"],
          );
          checkAgainstOracle(out, rows, times, 3 * 3600, (i) => `${kind}, ${FORMS[i % FORMS.length]![0]}`);
        });
      }
    } finally {
      await sql.unsafe(`drop table if exists ${table}_timestamptz, ${table}_timestamp`).catch(() => {});
      await sql.end();
      db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
