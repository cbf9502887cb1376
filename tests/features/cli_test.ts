import assert from "node:assert/strict";
import { ROOT, runScript } from "../_helpers.ts";
import { fraudFixture } from "./_fixture.ts";

Deno.test({
  name: "features CLI: plan, apply, materialize, get, lineage, promote; bad input is one line and a non-zero exit",
  async fn(t) {
    const fx = await fraudFixture({ cards: 40, days: 10 });
    const env = {
      MERCURY_FEATURES_DATA: fx.dir,
      MERCURY_FEATURES_PROJECT: fx.project,
      MERCURY_FEATURES_CARDS_TABLE: fx.cardsTable,
    };
    const repo = ["--repo", "plugins/features/examples/fraud_repo.ts", "--offline-root", `${fx.dir}/offline`];
    const cli = (...args: string[]) => runScript("tasks/mercury.ts", ["features", ...args, ...repo], env);
    try {
      await t.step("plan shows adds; apply stores them; plan is then empty", async () => {
        const p = await cli("plan");
        assert.equal(p.code, 0, p.stderr);
        assert.match(p.stdout, /dev: 10 to add, 0 to update, 0 to remove/);
        assert.match(p.stdout, /\+ feature view card_tx_stats/);
        const a = await cli("apply", "--why", "cli test");
        assert.equal(a.code, 0, a.stderr);
        assert.match(a.stdout, /applied 10 change\(s\)/);
        assert.match((await cli("plan")).stdout, /no changes/);
      });
      await t.step("materialize reports each view; get serves a feature service", async () => {
        const m = await cli("materialize", "card_tx_stats", "card_profile", "card_fraud_history", "merchant_risk");
        assert.equal(m.code, 0, m.stderr);
        assert.match(m.stdout, /^card_tx_stats: \d+ rows, 40 keys/m);
        const g = await cli(
          "get",
          "--service",
          "fraud_v1",
          "--entity",
          "card_id=1,2",
          "--entity",
          "merchant_id=1,2",
          "--request",
          "amount=10,20",
        );
        assert.equal(g.code, 0, g.stderr);
        const rows = g.stdout.trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(rows.length, 2);
        assert.equal(rows[0].card_id, 1);
        assert.equal(typeof rows[1].credit_limit, "number");
      });
      await t.step("lineage prints a mermaid graph and one node's neighbourhood", async () => {
        const l = await cli("lineage");
        assert.match(l.stdout, /^flowchart LR/);
        assert.match(l.stdout, /feature_service_fraud_v1 --> model_fraud_gbm/);
        const of = JSON.parse((await cli("lineage", "--of", "feature_view:card_profile")).stdout);
        assert.deepEqual(of.upstream, ["source:cards"]);
      });
      await t.step(
        "serve: HTTP and gRPC from one process; /metrics carries the registry's drift gauges, per-feature serving checks and the pruning schedule; SIGTERM stops it",
        async () => {
          const child = new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", "tasks/mercury.ts", "features", "serve", ...repo, "--port", "0", "--grpc-port", "0"],
            cwd: ROOT,
            env,
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
          let first = "";
          while (!first.includes("\n")) {
            const { value, done } = await reader.read();
            if (done) break;
            first += value;
          }
          const m = /http:\/\/127\.0\.0\.1:(\d+)\/get-online-features, grpc 127\.0\.0\.1:(\d+)/.exec(first);
          assert.ok(m, first);
          const metrics = await (await fetch(`http://127.0.0.1:${m[1]}/metrics`)).text();
          assert.match(metrics, /mercury_features_drift\{view="card_tx_stats",feature="tx_count_24h"\} 0/);
          assert.match(metrics, /mercury_features_null_rate\{view="card_profile",feature="credit_limit"\} 0/);
          const r = await fetch(`http://127.0.0.1:${m[1]}/get-online-features`, {
            method: "POST",
            body: JSON.stringify({ features: ["card_profile:credit_limit"], entities: { card_id: [3] } }),
          });
          assert.equal((await r.json()).results[1].statuses[0], "PRESENT");
          // Serving-side checks per feature, and the retention schedule's first round (run at start).
          let after = "";
          for (let i = 0; i < 50 && !/mercury_features_prune_rounds_total/.test(after); i++) {
            if (i) await new Promise((ok) => setTimeout(ok, 100));
            after = await (await fetch(`http://127.0.0.1:${m[1]}/metrics`)).text();
          }
          assert.match(
            after,
            /mercury_features_feature_status_share\{feature="card_profile:credit_limit",status="NOT_FOUND"\} 0/,
          );
          assert.match(after, /mercury_features_prune_rounds_total\{result="ok"\} 1/);
          child.kill("SIGTERM");
          reader.releaseLock();
          await child.stdout.cancel().catch(() => {});
          await child.stderr.cancel().catch(() => {});
          assert.equal((await child.status).code, 0);
        },
      );
      await t.step("promote dev → staging, then staging's plan is empty", async () => {
        const p = await cli("promote", "--to", "staging");
        assert.equal(p.code, 0, p.stderr);
        assert.match(p.stdout, /promoted .* dev → staging: 10 change/);
        assert.match((await cli("plan", "--env", "staging")).stdout, /staging: no changes/);
      });
      await t.step("bad input: unknown env, missing entity key, unknown view", async () => {
        const e = await cli("plan", "--env", "qa");
        assert.equal(e.code, 64);
        assert.match(e.stderr, /^error\[usage\]: environment "qa" is not one of dev, staging, prod/m);
        const g = await cli("get", "--features", "merchant_risk:fraud_rate_30d", "--entity", "card_id=1");
        assert.equal(g.code, 65);
        assert.match(g.stderr, /missing entity key "merchant_id" \(at entities\.merchant_id\)/);
        const m = await cli("materialize", "nope");
        assert.equal(m.code, 66);
        assert.match(m.stderr, /no feature view "nope"/);
        const r = await runScript("tasks/mercury.ts", ["features", "plan", "--repo", "/nonexistent.ts"], env);
        assert.equal(r.code, 66);
        assert.match(r.stderr, /feature repo \/nonexistent\.ts does not exist/);
      });
    } finally {
      await fx.cleanup();
    }
  },
});
