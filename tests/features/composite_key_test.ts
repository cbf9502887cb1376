/**
 * Entities of a view with several join keys get distinct online-store keys even when a key value holds `|` or `\`:
 * materialisation (DuckDB), serving and push ingestion agree on one unambiguous encoding.
 */
import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { entity, entityKey, type FeatureRepo, featureView, fileSource, openFeatureStore } from "@mercury/features";
import { pushRow } from "@mercury/features/push";
import { uniqueName } from "../_helpers.ts";

/** (a, b, x): pairs that the old `a|b` join made equal, each with its own value. */
const ROWS: [string, string, number][] = [
  ["a|b", "c", 1],
  ["a", "b|c", 2],
  ["p\\", "q", 3],
  ["p", "\\|q", 4],
  ["p\\|", "q", 5],
];

function pairRepo(dir: string, project: string): FeatureRepo {
  const source = fileSource({ name: "pairs", format: "parquet", path: `${dir}/pairs.parquet`, timestampField: "ts" });
  return {
    project,
    entities: [
      entity({ name: "left", joinKey: "a", valueType: "string" }),
      entity({ name: "right", joinKey: "b", valueType: "string" }),
    ],
    views: [
      featureView({
        name: "left_stats",
        entities: ["left"],
        ttlSeconds: 0,
        source: fileSource({ name: "lefts", format: "parquet", path: `${dir}/lefts.parquet`, timestampField: "ts" }),
        features: [{ name: "y", type: "float64" }],
      }),
      featureView({
        name: "pair_stats",
        entities: ["left", "right"],
        ttlSeconds: 0,
        source,
        features: [{ name: "x", type: "float64" }],
      }),
    ],
  };
}

Deno.test("entityKey: composite keys holding | or \\ never collide; one key is its text", () => {
  const keys = ROWS.map(([a, b]) => entityKey([a, b]));
  assert.equal(new Set(keys).size, ROWS.length, keys.join("  "));
  assert.equal(entityKey(["a|b", "c"]), "a\\|b|c");
  assert.equal(entityKey(["a", "b|c"]), "a|b\\|c");
  assert.equal(entityKey([7, "x"]), "7|x", "parts without | or \\ keep their old form");
  assert.equal(entityKey(["a|b"]), "a|b");
});

Deno.test("pushRow keys a composite entity as materialisation does", () => {
  const repo = pairRepo("/nonexistent", "pairs");
  const view = repo.views[0]!;
  const row = (a: string, b: string) => pushRow(view, ["a", "b"], { a, b, ts: 1, x: 1 });
  const first = row("a|b", "c");
  const second = row("a", "b|c");
  assert.ok(typeof first !== "string" && typeof second !== "string");
  assert.equal(first.key, entityKey(["a|b", "c"]));
  assert.notEqual(first.key, second.key);
});

Deno.test({
  name:
    "materialize then serve: entities whose key values hold | or \\ each keep their own value; null keys are skipped",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mf-pairs-" });
    const db = await openDuckDB();
    try {
      const values = ROWS.map(([a, b, x]) =>
        `('${a.replaceAll("'", "''")}', '${b.replaceAll("'", "''")}', now()::timestamp - interval 1 hour, ${x}::DOUBLE)`
      );
      // Null join keys (later than the rows they could be mistaken for): one of two, and the only one.
      values.push(`(null, 'c', now()::timestamp - interval 30 minute, 9::DOUBLE)`);
      await db.connection.run(
        `copy (select * from (values ${values.join(", ")}) t(a, b, ts, x)) to '${dir}/pairs.parquet' (format parquet)`,
      );
      await db.connection.run(
        `copy (select * from (values ('null', now()::timestamp - interval 1 hour, 1::DOUBLE),
                                     (null, now()::timestamp - interval 30 minute, 9::DOUBLE)) t(a, ts, y))
           to '${dir}/lefts.parquet' (format parquet)`,
      );
    } finally {
      db.close();
    }
    const fs = await openFeatureStore({ repo: pairRepo(dir, uniqueName("pairs")), offlineRoot: `${dir}/offline` });
    try {
      await fs.apply();
      const reports = await fs.materialize();
      const report = reports.find((r) => r.view === "pair_stats")!;
      assert.equal(report.written, ROWS.length, "every entity written, none refused as a replay of another");
      const res = await fs.server().getOnlineFeatures({
        features: ["pair_stats:x"],
        entities: { a: ROWS.map((r) => r[0]), b: ROWS.map((r) => r[1]) },
      });
      const x = res.results[res.metadata.featureNames.indexOf("x")]!;
      assert.deepEqual(x.statuses, ROWS.map(() => "PRESENT"));
      assert.deepEqual(x.values, ROWS.map((r) => r[2]));
      // What materialisation wrote is what entityKey names.
      const stored = await fs.redis.client.get(fs.online.keyOf("pair_stats", entityKey(["a|b", "c"])));
      assert.match(stored ?? "", /"x":1(\.0)?[,}]/);
      // A null join key is not materialised: the string key "null" keeps its own value.
      const left = await fs.server().getOnlineFeatures({ features: ["left_stats:y"], entities: { a: ["null"] } });
      assert.deepEqual(left.results[left.metadata.featureNames.indexOf("y")]!.values, [1]);
      assert.equal(reports.find((r) => r.view === "left_stats")!.written, 1);
    } finally {
      await fs.online.clear();
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
