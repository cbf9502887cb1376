import assert from "node:assert/strict";
import { type FeatureRepo, lineageGraph, lineageOf } from "@mercury/features";
import { fraudFixture } from "./_fixture.ts";

function withoutFeature(repo: FeatureRepo, view: string, feature: string): FeatureRepo {
  return {
    ...repo,
    views: repo.views.map((v) =>
      v.name === view ? { ...v, features: v.features.filter((f) => f.name !== feature) } : v
    ),
  };
}

Deno.test({
  name: "registry: plan, apply with who/why, breaking changes, one transaction, environments, promote, lineage",
  async fn(t) {
    const fx = await fraudFixture({ cards: 30, days: 5 });
    const { fs } = fx;
    try {
      await t.step("plan lists every object as an add; apply stores version 1 with who and why", async () => {
        const p = await fs.plan();
        assert.equal(p.changes.length, 10);
        assert.ok(p.changes.every((c) => c.action === "add"));
        await fs.apply({ who: "alice", why: "first version" });
        const cur = await fs.registry.current();
        assert.equal(cur.length, 10);
        const v = cur.find((o) => o.name === "card_tx_stats")!;
        assert.equal(v.version, 1);
        assert.equal(v.createdBy, "alice");
        assert.equal(v.reason, "first version");
        assert.equal((v.spec.features as unknown[]).length, 5);
        assert.equal((await fs.plan()).changes.length, 0);
      });
      await t.step("a changed description is one update with its field named, stored as version 2", async () => {
        const repo2 = {
          ...fx.repo,
          views: fx.repo.views.map((v) => v.name === "merchant_risk" ? { ...v, description: "new" } : v),
        };
        const { plan, apply } = await import("@mercury/features");
        const p = await plan(repo2, fs.registry);
        assert.deepEqual(p.changes.map((c) => [c.action, c.name, c.fields]), [["update", "merchant_risk", [
          "description",
        ]]]);
        await apply(repo2, fs.registry, { who: "bob", why: "describe" });
        const h = await fs.registry.history("feature_view", "merchant_risk");
        assert.deepEqual(h.map((o) => [o.version, o.createdBy]), [[2, "bob"], [1, "alice"]]);
      });
      await t.step("removing a feature a service uses is refused without force, and nothing is written", async () => {
        const { apply } = await import("@mercury/features");
        // The service is updated too, so the repo validates: the registered service still uses the feature.
        const repo3 = withoutFeature(fx.repo, "card_profile", "card_age_days");
        repo3.services = repo3.services!.map((s) => ({
          ...s,
          features: s.features.filter((f) => f !== "card_profile:card_age_days"),
        }));
        const before = await fs.pg.sql.unsafe(
          `select count(*)::int as n from ${fs.registry.schema}.objects where project = $1`,
          [fx.project],
        );
        await assert.rejects(
          () => apply(repo3, fs.registry),
          /breaking change to feature view "card_profile": removes card_profile:card_age_days used by fraud_v1/,
        );
        const after = await fs.pg.sql.unsafe(
          `select count(*)::int as n from ${fs.registry.schema}.objects where project = $1`,
          [fx.project],
        );
        assert.equal(after[0]!.n, before[0]!.n);
        const forced = await apply(repo3, fs.registry, { force: true, why: "drop age" });
        assert.equal(forced.breaking.length, 1);
        assert.equal((await fs.registry.history("feature_service", "fraud_v1"))[0]!.version, 2);
      });
      await t.step("retyping a used feature is breaking too", async () => {
        const { diffObjects, repoObjects } = await import("@mercury/features");
        const repo4 = {
          ...fx.repo,
          views: fx.repo.views.map((v) =>
            v.name === "card_tx_stats"
              ? {
                ...v,
                features: v.features.map((f) => (f.name === "tx_count_24h" ? { ...f, type: "float64" as const } : f)),
              }
              : v
          ),
        };
        const p = diffObjects("dev", repoObjects(repo4), await fs.registry.current());
        assert.match(p.breaking[0]!.breaking!, /retypes card_tx_stats:tx_count_24h int64 → float64/);
      });
      await t.step("a definition error is refused before anything is written", async () => {
        const { apply } = await import("@mercury/features");
        const bad = {
          ...fx.repo,
          services: [{ kind: "feature_service" as const, name: "s2", features: ["card_tx_stats:nope"] }],
        };
        await assert.rejects(
          () => apply(bad, fs.registry),
          /feature service "s2": features references "card_tx_stats:nope"/,
        );
        assert.equal((await fs.registry.current()).filter((o) => o.name === "s2").length, 0);
      });
      await t.step("environments are separate; promote copies dev to staging, one step at a time", async () => {
        const staging = fs.registry.forEnv("staging");
        assert.equal((await staging.current()).length, 0);
        const { promote } = await import("@mercury/features");
        await assert.rejects(() => promote(fs.registry, "prod"), /cannot promote dev to prod/);
        const p = await promote(fs.registry, "staging", { who: "ci" });
        assert.equal(p.changes.length, 10);
        const st = await staging.current();
        const dev = await fs.registry.current();
        assert.deepEqual(st.map((o) => o.hash).sort(), dev.map((o) => o.hash).sort());
        assert.match(st[0]!.reason, /^promote from dev/);
        assert.equal((await promote(fs.registry, "staging")).changes.length, 0);
      });
      await t.step("lineage: source → view → service → model, queryable", async () => {
        const g = lineageGraph(await fs.registry.current());
        const up = lineageOf(g, "model:fraud_gbm").upstream;
        for (
          const id of ["feature_service:fraud_v1", "feature_view:card_tx_stats", "source:transactions", "source:cards"]
        ) {
          assert.ok(up.includes(id), `${id} is upstream of the model`);
        }
        assert.deepEqual(lineageOf(g, "source:cards").downstream, [
          "feature_service:fraud_v1",
          "feature_view:card_profile",
          "model:fraud_gbm",
          "on_demand_feature_view:amount_features",
        ]);
        assert.deepEqual(g.nodes.find((n) => n.id === "feature_view:card_profile")!.pii, ["holder_name"]);
      });
    } finally {
      await fx.cleanup();
    }
  },
});
