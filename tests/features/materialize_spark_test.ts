/**
 * `materialize --engine spark` against the real cluster (`deno task services up spark`) and Redis: the same repo
 * materialised by DuckDB and by Spark gives identical online values (read back through the feature server),
 * including null latest values, ttl edges, window edges, created-time ties, null keys and composite keys that need
 * escaping; Spark not running is one line naming the service and how to start it.
 */
import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import {
  entity,
  type FeatureRepo,
  featureView,
  fileSource,
  type MaterializeReport,
  openFeatureStore,
} from "@mercury/features";
import { SparkLatest } from "@mercury/features/materialize_spark";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { integration, uniqueName } from "../_helpers.ts";

const MIN = 60_000;
const TTL_S = 3600;

Deno.test({
  name: "materialize(): --engine spark writes the same online values as --engine duckdb",
  ...integration,
  async fn(t) {
    // The window ends 10 minutes ahead of the real clock: Redis expires keys by its own clock, and the ttl edge below
    // (an event exactly one ttl before the end) must be decided by materialize's clock, not by Redis.
    const end = Math.floor((Date.now() + 10 * MIN) / 1000) * 1000;
    const start = end - 120 * MIN;
    const ts = (ms: number) => `make_timestamp(${ms * 1000}::BIGINT)`;
    const dir = await Deno.makeTempDir({ prefix: "mfs-" });
    const project = uniqueName("ms");
    const db = await openDuckDB();
    try {
      // acct: k, event time, created time, then the features a (double), n (bigint), s (text), b (bool), t (timestamp).
      const acct: [string, number, number, string, string, string, string, number | null][] = [
        ["1", end - 30 * MIN, end - 30 * MIN, "1.5", "3", "'x'", "false", end - 40 * MIN],
        ["1", end - 10 * MIN, end - 10 * MIN, "2.25", "7", `'he said "hi" ü \\ |'`, "true", end - 5 * MIN],
        ["2", end - 20 * MIN, end - 20 * MIN, "3.0", "1", "'y'", "true", end - 20 * MIN],
        ["2", end - 5 * MIN, end - 5 * MIN, "null", "null", "null", "null", null], // latest values all null
        ["3", end - TTL_S * 1000, end - TTL_S * 1000, "4", "4", "'expired'", "true", null], // exactly one ttl old
        ["4", end - TTL_S * 1000 + 1, end, "5", "5", "'just inside'", "false", null], // 1 ms inside the ttl
        ["5", end - 15 * MIN, end - 15 * MIN, "6", "6", "'older created'", "true", null],
        ["5", end - 15 * MIN, end - 14 * MIN, "6.5", "65", "'newer created'", "true", null], // same event, later created
        ["5", end - 16 * MIN, end, "7", "7", "'earlier event'", "true", null], // later created, earlier event
        ["6", end, end, "8", "8", "'at the end: excluded'", "true", null],
        ["6", end - 40 * MIN, end - 40 * MIN, "9", "9", "'kept'", "true", null],
        ["null", end - 3 * MIN, end - 3 * MIN, "12", "12", "'null key'", "true", null],
      ];
      await db.connection.run(
        `copy (select * from (values ${
          acct.map(([k, e, c, a, n, s, b, tt]) =>
            `(${k}::BIGINT, ${ts(e)}, ${ts(c)}, ${a}::DOUBLE, ${n}::BIGINT, ${s}::VARCHAR, ${b}::BOOLEAN, ${
              tt === null ? "null" : ts(tt)
            })`
          ).join(", ")
        }) v(k, ev, cr, a, n, s, b, t)) to '${dir}/acct.parquet' (format parquet)`,
      );
      const pairs: [string, string, number, string][] = [
        ["1", "'x|y'", end - 9 * MIN, "1"],
        ["1", "'x\\'", end - 8 * MIN, "2"],
        ["1", "'x'", end - 7 * MIN, "3"],
        ["10", "'x'", end - 6 * MIN, "4"],
        ["2", "'a'", end - 5 * MIN, "5"],
        ["2", "'a'", end - 50 * MIN, "6"],
        ["null", "'b'", end - 4 * MIN, "7"],
        ["3", "null", end - 3 * MIN, "8"],
        ["4", "'s'", start, "9"], // at the start: included
        ["5", "'s'", start - 1, "10"], // before the start
      ];
      await db.connection.run(
        `copy (select * from (values ${
          pairs.map(([k, tag, e, v]) => `(${k}::BIGINT, ${tag}::VARCHAR, ${ts(e)}, ${v}::BIGINT)`).join(", ")
        }) v(k, tag, ev, v)) to '${dir}/pair.parquet' (format parquet)`,
      );
    } finally {
      db.close();
    }
    const repo: FeatureRepo = {
      project,
      entities: [
        entity({ name: "acct", joinKey: "k", valueType: "int64" }),
        entity({ name: "tag", joinKey: "tag", valueType: "string" }),
      ],
      views: [
        featureView({
          name: "acct_stats",
          entities: ["acct"],
          ttlSeconds: TTL_S,
          source: fileSource({
            name: "acct_src",
            format: "parquet",
            path: `${dir}/acct.parquet`,
            timestampField: "ev",
            createdTimestampField: "cr",
          }),
          features: [
            { name: "a", type: "float64" },
            { name: "n", type: "int64" },
            { name: "s", type: "string" },
            { name: "b", type: "bool" },
            { name: "t", type: "timestamp" },
          ],
        }),
        featureView({
          name: "pair_stats",
          entities: ["acct", "tag"],
          ttlSeconds: 0,
          source: fileSource({
            name: "pair_src",
            format: "parquet",
            path: `${dir}/pair.parquet`,
            timestampField: "ev",
          }),
          features: [{ name: "v", type: "int64" }],
        }),
      ],
    };
    const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/offline` });
    const spark = await SparkLatest.connect();
    const server = fs.server();
    const readBack = async () => ({
      acct: await server.getOnlineFeatures({
        features: ["acct_stats:a", "acct_stats:n", "acct_stats:s", "acct_stats:b", "acct_stats:t"],
        entities: { k: [1, 2, 3, 4, 5, 6] },
      }),
      pair: await server.getOnlineFeatures({
        features: ["pair_stats:v"],
        entities: { k: [1, 1, 1, 10, 2, 3, 4, 5], tag: ["x|y", "x\\", "x", "x", "a", "b", "s", "s"] },
      }),
    });
    const counts = (rs: MaterializeReport[]) => rs.map((r) => [r.view, r.rows, r.keys, r.written, r.expired]);
    const opts = { start: new Date(start), end: new Date(end), now: () => end, chunkRows: 3 };
    try {
      await fs.apply();
      const duck = await fs.materialize(undefined, opts);
      const viaDuck = await readBack();
      await fs.online.clear();
      const viaSpark = await fs.materialize(undefined, { ...opts, engine: spark });
      const got = await readBack();

      await t.step("identical online values, statuses and event times", () => {
        assert.deepEqual(got, viaDuck);
        assert.deepEqual(counts(viaSpark), counts(duck));
      });
      await t.step("the values are the right ones (not merely the same)", () => {
        const col = (i: number) => got.acct.results[i]!;
        const a = col(1), s = col(3), t = col(5);
        assert.deepEqual(got.acct.metadata.featureNames.slice(1), ["a", "n", "s", "b", "t"]);
        assert.deepEqual(a.values, [2.25, null, null, 5, 6.5, 9]);
        assert.deepEqual(a.statuses, [
          "PRESENT",
          "NULL_VALUE",
          "NOT_FOUND", // exactly one ttl old at the end of the window: not written
          "PRESENT", // 1 ms inside the ttl
          "PRESENT",
          "PRESENT",
        ]);
        assert.equal(s.values[0], 'he said "hi" ü \\ |');
        assert.equal(a.eventTimestamps[5], end - 40 * MIN, "a row at the window's end is not in it");
        assert.equal(t.values[0] instanceof Date ? t.values[0].getTime() : Number(t.values[0]), end - 5 * MIN);
        assert.deepEqual(got.pair.results[2]!.values, [1, 2, 3, 4, 5, null, 9, null]);
        assert.deepEqual(counts(viaSpark), [["acct_stats", 10, 6, 5, 1], ["pair_stats", 9, 8, 6, 0]]);
      });
    } finally {
      await spark.close();
      await fs.online.clear();
      const s = fs.registry.schema;
      for (const table of ["objects", "materializations", "feature_stats", "releases"]) {
        await fs.pg.sql.unsafe(`delete from ${s}.${table} where project = $1`, [project]);
      }
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("SparkLatest.connect(): Spark not running names the service and `deno task services up spark`", async () => {
  await assert.rejects(SparkLatest.connect({ remote: "sc://127.0.0.1:9", connectTimeoutMs: 2000 }), (e: unknown) => {
    assert.ok(e instanceof MercuryError);
    assert.equal(e.code, "unavailable");
    assert.match(e.message, /spark service is not answering at sc:\/\/127\.0\.0\.1:9/);
    assert.match(e.hint ?? "", /deno task services up spark/);
    return true;
  });
});
