import assert from "node:assert/strict";
import { Registry } from "@mercury/core";
import { openDuckDB } from "@mercury/core/services/duckdb";
import {
  DriftAlerts,
  driftRunsFromStats,
  entity,
  type FeatureRepo,
  FeatureServer,
  featureView,
  fileSource,
  openFeatureStore,
  scheduleRetention,
  serveHttp,
} from "@mercury/features";
import { uniqueName } from "../_helpers.ts";

/** Writes (key, event time, value) rows as the view's Parquet source. */
async function writeSource(path: string, rows: [number, string, number][]) {
  const db = await openDuckDB();
  try {
    const values = rows.map(([k, ts, a]) => `(${k}, '${ts}'::TIMESTAMP, ${a}::DOUBLE)`).join(", ");
    await db.connection.run(`copy (select * from (values ${values}) t(k, ts, a)) to '${path}' (format parquet)`);
  } finally {
    db.close();
  }
}

/** A webhook receiver on a free port: the JSON bodies it got. */
function webhook() {
  const got: Record<string, unknown>[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    got.push(await req.json());
    return new Response("ok");
  });
  return { got, url: `http://127.0.0.1:${server.addr.port}/hook`, close: () => server.shutdown() };
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

Deno.test({
  name: "features quality acts: drift alerts to a webhook, per-feature serving checks on /metrics, scheduled pruning",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "mf-qa-" });
    const project = uniqueName("qa");
    const path = `${dir}/src.parquet`;
    const repo: FeatureRepo = {
      project,
      entities: [entity({ name: "thing", joinKey: "k", valueType: "int64" })],
      views: [featureView({
        name: "v",
        entities: ["thing"],
        ttlSeconds: 86_400,
        retentionDays: 30,
        source: fileSource({ name: "s", format: "parquet", path, timestampField: "ts" }),
        features: [{ name: "a", type: "float64" }],
      })],
    };
    const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/off` });
    const hook = webhook();
    const now = Date.now();
    const hour = 3_600_000, day = 24 * hour;
    try {
      await fs.apply({ why: "quality actions test" });

      await t.step("drift flagged by materialisation fires one alert, resolved by a run without drift", async () => {
        const alerts = await DriftAlerts.create(project, "dev", { webhooks: [hook.url] });
        const rows = (t0: number, base: number) =>
          Array.from({ length: 50 }, (_, i) => [i, iso(t0), base + i] as [number, string, number]);
        await writeSource(path, rows(now - 3 * hour, 0));
        const first = await fs.materialize(["v"], { end: new Date(now - 2 * hour), recompute: true });
        assert.deepEqual(await alerts.report(first), [], "a first run has nothing to drift from");
        await writeSource(path, [...rows(now - 3 * hour, 0), ...rows(now - 90 * 60_000, 1000)]);
        const second = await fs.materialize(["v"], { incremental: true, recompute: true, end: new Date(now - hour) });
        assert.equal(second[0]!.drift.length, 1, "the mean moved from ~25 to ~1025");
        const fired = await alerts.report(second);
        assert.deepEqual(fired.map((e) => e.state), ["pending", "firing"]);
        assert.equal(hook.got.length, 1);
        const p = hook.got[0]!;
        assert.equal(p.state, "firing");
        assert.equal(p.source, "features");
        assert.equal(p.project, project);
        assert.equal(p.view, "v");
        assert.equal(p.runId, second[0]!.runId);
        assert.match(JSON.stringify(p.drift), /"feature":"a","reason":"mean moved/);
        assert.deepEqual(alerts.firing(), ["v"]);
        // What the server does every 30 s: the registry's latest statistics, whichever process materialised.
        assert.deepEqual(await alerts.report(driftRunsFromStats(await fs.registry.latestStats())), []);
        assert.equal(hook.got.length, 1, "a firing alert is not sent again");
        await writeSource(path, [
          ...rows(now - 3 * hour, 0),
          ...rows(now - 90 * 60_000, 1000),
          ...rows(now - 30 * 60_000, 1000),
        ]);
        const third = await fs.materialize(["v"], { incremental: true, recompute: true, end: new Date(now) });
        assert.deepEqual(third[0]!.drift, []);
        assert.deepEqual((await alerts.report(third)).map((e) => e.state), ["resolved"]);
        assert.equal(hook.got.length, 2);
        assert.equal(hook.got[1]!.state, "resolved");
        assert.equal(alerts.failedDeliveries, 0);
      });

      await t.step("/metrics: share of NOT_FOUND and OUTSIDE_MAX_AGE per feature", async () => {
        let shift = 0;
        const server = new FeatureServer(repo, fs.online, { now: () => Date.now() + shift });
        const http = serveHttp(server, { port: 0 });
        try {
          const get = async (keys: number[]) => {
            const r = await fetch(`http://127.0.0.1:${http.port}/get-online-features`, {
              method: "POST",
              body: JSON.stringify({ features: ["v:a"], entities: { k: keys } }),
            });
            return (await r.json()) as { results: { statuses: string[] }[] };
          };
          assert.deepEqual((await get([1, 2, 999])).results[1]!.statuses, ["PRESENT", "PRESENT", "NOT_FOUND"]);
          shift = 2 * day; // the values are now older than the view's ttl (one day) but not yet expired in Redis
          assert.deepEqual((await get([1])).results[1]!.statuses, ["OUTSIDE_MAX_AGE"]);
          const m = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
          assert.match(m, /mercury_features_feature_values_total\{feature="v:a",status="all"\} 4/);
          assert.match(m, /mercury_features_feature_values_total\{feature="v:a",status="NOT_FOUND"\} 1/);
          assert.match(m, /mercury_features_feature_status_share\{feature="v:a",status="NOT_FOUND"\} 0\.25/);
          assert.match(m, /mercury_features_feature_status_share\{feature="v:a",status="OUTSIDE_MAX_AGE"\} 0\.25/);
        } finally {
          await http.close();
        }
      });

      await t.step("the server's schedule prunes partitions past retentionDays, at start and every round", async () => {
        // Rows 45 and 40 days old (past the 30-day retention) and one hour old.
        await writeSource(path, [[1, iso(now - 45 * day), 1], [2, iso(now - 40 * day), 2], [3, iso(now - hour), 3]]);
        await fs.offline.compute("v");
        const dates = async () => {
          const out: string[] = [];
          for await (const e of Deno.readDir(fs.offline.dir("v"))) out.push(e.name);
          return out.sort();
        };
        assert.equal((await dates()).length, 3);
        const registry = new Registry();
        const rounds: Record<string, string[]>[] = [];
        const retention = scheduleRetention(fs.offline, {
          everyMs: 60_000,
          registry,
          onRound: (r) => rounds.push(r.pruned),
        });
        try {
          const first = await retention.runNow(); // the round started at once
          assert.equal(first.error, undefined);
          assert.equal(first.pruned.v?.length, 2);
          assert.deepEqual(await dates(), [`date=${new Date(now - hour).toISOString().slice(0, 10)}`]);
          assert.deepEqual((await retention.runNow()).pruned, {}, "nothing left to prune");
          assert.equal(rounds.length, 2);
          const m = registry.expose();
          assert.match(m, /mercury_features_pruned_partitions_total\{view="v"\} 2/);
          assert.match(m, /mercury_features_prune_rounds_total\{result="ok"\} 2/);
        } finally {
          await retention.stop();
        }
      });
    } finally {
      await hook.close();
      await fs.online.clear();
      for (const tbl of ["objects", "materializations", "feature_stats", "releases"]) {
        await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.${tbl} where project = $1`, [project]);
      }
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
