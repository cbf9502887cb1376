import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { apply, type FeatureRepo, promote, repoFromRegistry, repoObjects, rollback } from "@mercury/features";
import { runScript } from "../_helpers.ts";
import { fraudFixture } from "./_fixture.ts";

const TTL_1 = 7 * 86_400;

Deno.test({
  name:
    "features registry releases: promote and rollback change what an environment serves; --repo is development mode",
  async fn(t) {
    const fx = await fraudFixture({ cards: 20, days: 6 });
    const dev = fx.fs.registry, staging = dev.forEnv("staging");
    // Release 2 of the repo: card_tx_stats keeps values one hour only.
    const short: FeatureRepo = {
      ...fx.repo,
      views: fx.repo.views.map((v) => v.name === "card_tx_stats" ? { ...v, ttlSeconds: 3600 } : v),
    };
    const ttl = (r: FeatureRepo) => r.views.find((v) => v.name === "card_tx_stats")!.ttlSeconds;
    const env = {
      MERCURY_FEATURES_DATA: fx.dir,
      MERCURY_FEATURES_PROJECT: fx.project,
      MERCURY_FEATURES_CARDS_TABLE: fx.cardsTable,
    };
    const common = ["--offline-root", `${fx.dir}/offline`];
    const cli = (...args: string[]) => runScript("tasks/mercury.ts", ["features", ...args, ...common], env);
    try {
      await t.step("apply and promote record releases; the registry's repo hashes as the applied one", async () => {
        assert.equal(ttl(fx.repo), TTL_1);
        await apply(fx.repo, dev, { why: "first" });
        await promote(dev, "staging", { why: "ship" });
        assert.deepEqual((await staging.releases()).map((r) => r.release), [1]);
        const served = await repoFromRegistry(staging);
        assert.equal(served.release, 1);
        const hashes = (r: FeatureRepo) => repoObjects(r).map((o) => `${o.kind}/${o.name}/${o.hash}`).sort();
        assert.deepEqual(hashes(served.repo), hashes(fx.repo));
        // The on-demand transform is revived from its stored source and computes.
        const odfv = served.repo.onDemandViews!.find((o) => o.name === "amount_features")!;
        assert.deepEqual(odfv.transform({ amount: 50, amount_avg_7d: 25, credit_limit: 1000 }), {
          amount_to_avg: 2,
          amount_to_limit: 0.05,
        });
      });

      await t.step("promote changes what staging serves; rollback goes back, as a new release", async () => {
        await apply(short, dev, { why: "shorter ttl", force: true });
        await promote(dev, "staging", { why: "ship ttl", force: true });
        assert.equal(ttl((await repoFromRegistry(staging)).repo), 3600);
        assert.equal(ttl((await repoFromRegistry(staging, 1)).repo), TTL_1);
        const rb = await rollback(staging, { why: "too many nulls" });
        assert.equal(rb.release, 1);
        const served = await repoFromRegistry(staging);
        assert.equal(served.release, 3);
        assert.equal(ttl(served.repo), TTL_1);
        const rels = await staging.releases();
        assert.deepEqual(rels.map((r) => r.release), [3, 2, 1]);
        assert.equal(rels[0]!.reason, "too many nulls");
        // dev is untouched by staging's rollback.
        assert.equal(ttl((await repoFromRegistry(dev)).repo), 3600);
        await assert.rejects(repoFromRegistry(staging, 9), /has no release 9/);
        await assert.rejects(repoFromRegistry(dev.forEnv("prod")), /nothing is applied to .*\/prod/);
      });

      await t.step("CLI: training sets by release, rollback, releases; --repo says development mode", async () => {
        const entities = `${fx.dir}/entities.parquet`;
        const db = await openDuckDB();
        await db.connection.run(`copy (select card_id, merchant_id, amount, ts + interval 2 hour as event_timestamp
          from read_parquet('${fx.dir}/transactions.parquet') order by ts limit 400) to '${entities}' (format parquet)`);
        const nonNull = async (path: string) =>
          Number(
            (await db.connection.runAndReadAll(
              `select count(tx_count_24h) from read_parquet('${path}')`,
            )).getRows()[0]![0],
          );
        const ts = (release: string, out: string) =>
          cli(
            "training-set",
            "--project",
            fx.project,
            "--env",
            "staging",
            ...(release ? ["--release", release] : []),
            "--service",
            "fraud_v1",
            "--entities",
            entities,
            "--output",
            out,
          );
        try {
          const r1 = await ts("1", `${fx.dir}/r1.parquet`);
          assert.equal(r1.code, 0, r1.stderr);
          assert.match(r1.stdout, new RegExp(`definitions: registry ${fx.project}/staging release 1`));
          const r2 = await ts("2", `${fx.dir}/r2.parquet`);
          assert.equal(r2.code, 0, r2.stderr);
          // Release 2's one-hour ttl loses values release 1's seven days keep.
          assert.ok(await nonNull(`${fx.dir}/r2.parquet`) < await nonNull(`${fx.dir}/r1.parquet`));

          const rb = await cli("rollback", "--project", fx.project, "--env", "staging", "--to-release", "2");
          assert.equal(rb.code, 0, rb.stderr);
          assert.match(rb.stdout, /rolled .*\/staging back to release 2: 1 change\(s\), now release 4/);
          const cur = await ts("", `${fx.dir}/cur.parquet`);
          assert.equal(cur.code, 0, cur.stderr);
          assert.match(cur.stdout, /release 4/);
          assert.equal(await nonNull(`${fx.dir}/cur.parquet`), await nonNull(`${fx.dir}/r2.parquet`));

          const list = await cli("releases", "--project", fx.project, "--env", "staging");
          assert.deepEqual(list.stdout.trim().split("\n").map((l) => Number(l.split("\t")[0])), [4, 3, 2, 1]);

          const devMode = await cli(
            "training-set",
            "--repo",
            "plugins/features/examples/fraud_repo.ts",
            "--service",
            "fraud_v1",
            "--entities",
            entities,
            "--output",
            `${fx.dir}/dev.parquet`,
          );
          assert.equal(devMode.code, 0, devMode.stderr);
          assert.match(devMode.stderr, /development mode: definitions from .*fraud_repo\.ts on disk, not the registry/);
          const none = await cli("rollback", "--project", fx.project, "--env", "prod");
          assert.notEqual(none.code, 0);
          assert.match(none.stderr, /nothing is applied to .*\/prod/);
        } finally {
          db.close();
        }
      });
    } finally {
      await fx.cleanup();
    }
  },
});
