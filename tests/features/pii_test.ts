import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { FeatureServer, maskPii, PiiAccessLog, serveHttp, TokenAuth, trainingSetHandler } from "@mercury/features";
import { featureServerClient, serveGrpc } from "@mercury/features/grpc";
import { runScript } from "../_helpers.ts";
import { END, fraudFixture } from "./_fixture.ts";

Deno.test({
  name: "features PII: served only with the scope (HTTP, gRPC, training sets), every access recorded and queryable",
  async fn(t) {
    const fx = await fraudFixture({ cards: 20, days: 5 });
    const { fs } = fx;
    const tokensFile = `${fx.dir}/tokens.json`;
    // alice may read card_profile's PII; bob has a token without the scope; the second alice entry uses a hash.
    const bobHash = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("bob-token-2"))),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    await Deno.writeTextFile(
      tokensFile,
      JSON.stringify({
        tokens: [
          { who: "alice", scopes: ["features:pii:card_profile"], token: "alice-token-1" },
          { who: "bob", scopes: ["features:read"], sha256: bobHash },
        ],
      }),
    );
    const log = new PiiAccessLog(fs.pg.sql, { schema: fs.registry.schema, project: fx.project, env: "dev" });
    const auth = await TokenAuth.fromFile(tokensFile);
    const server = new FeatureServer(fx.repo, fs.online, { piiLog: log });
    const http = serveHttp(server, { port: 0, auth, trainingSet: trainingSetHandler(fs.offline, { piiLog: log }) });
    const g = await serveGrpc(server, { port: 0, auth });
    const client = featureServerClient(`127.0.0.1:${g.port}`);
    try {
      await fs.apply();
      await fs.materialize(["card_profile"], { end: END });
      const get = (features: string[], token?: string) =>
        fetch(`http://127.0.0.1:${http.port}/get-online-features`, {
          method: "POST",
          headers: token ? { authorization: `Bearer ${token}` } : {},
          body: JSON.stringify({ features, entities: { card_id: [1, 2] } }),
        }).then(async (r) => ({ status: r.status, body: await r.json() }));

      await t.step("HTTP: 401 without a token, 403 without the scope, the values with it", async () => {
        const pii = ["card_profile:credit_limit", "card_profile:holder_name"];
        const anon = await get(pii);
        assert.equal(anon.status, 401);
        assert.match(anon.body.error, /card_profile:holder_name is PII: no token was sent/);
        assert.match(anon.body.hint, /features:pii:card_profile/);
        const unknown = await get(pii, "not-a-token");
        assert.equal(unknown.status, 401);
        assert.match(unknown.body.error, /unknown token/);
        const bob = await get(pii, "bob-token-2");
        assert.equal(bob.status, 403);
        assert.match(bob.body.error, /"bob" has no scope/);
        const alice = await get(pii, "alice-token-1");
        assert.equal(alice.status, 200);
        assert.deepEqual(alice.body.metadata.featureNames, ["card_id", "credit_limit", "holder_name"]);
        assert.equal(typeof alice.body.results[2].values[0], "string");
        assert.equal(alice.body.results[2].statuses[0], "PRESENT");
        // Features that are not PII need no token.
        assert.equal((await get(["card_profile:credit_limit"])).status, 200);
      });

      await t.step("gRPC: UNAUTHENTICATED, PERMISSION_DENIED, then the values", async () => {
        const call = (token?: string) => {
          const md = new grpc.Metadata();
          if (token) md.set("authorization", `Bearer ${token}`);
          return new Promise<Record<string, unknown>>((resolve, reject) =>
            (client.GetOnlineFeatures as (
              r: unknown,
              m: grpc.Metadata,
              cb: (e: grpc.ServiceError | null, v: unknown) => void,
            ) => void).call(
              client,
              { features: ["card_profile:holder_name"], entities: { card_id: { val: [{ int64_val: 1 }] } } },
              md,
              (e, v) => (e ? reject(e) : resolve(v as Record<string, unknown>)),
            )
          );
        };
        const code = (p: Promise<unknown>) => p.then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code);
        assert.equal(await code(call()), grpc.status.UNAUTHENTICATED);
        assert.equal(await code(call("bob-token-2")), grpc.status.PERMISSION_DENIED);
        const res = await call("alice-token-1");
        const results = res.results as { statuses: string[] }[];
        assert.deepEqual(results[1]!.statuses, ["PRESENT"]);
      });

      await t.step("POST /training-set: PII features need the scope too", async () => {
        const post = (token?: string) =>
          fetch(`http://127.0.0.1:${http.port}/training-set`, {
            method: "POST",
            headers: token ? { authorization: `Bearer ${token}` } : {},
            body: JSON.stringify({
              features: ["card_profile:holder_name"],
              entities: { card_id: [1], event_timestamp: [new Date(END.getTime() - 1).toISOString()] },
            }),
          });
        const anon = await post();
        assert.equal(anon.status, 401);
        await anon.body?.cancel();
        const ok = await post("alice-token-1");
        assert.equal(ok.status, 200);
        assert.ok((await ok.arrayBuffer()).byteLength > 0);
      });

      await t.step("every access is recorded in PostgreSQL; the CLI reads it back", async () => {
        await log.flush();
        assert.equal(log.failed, 0, log.lastError);
        const all = await log.query();
        // HTTP: anonymous, bob, alice; gRPC: anonymous, bob, alice; training set: anonymous, alice. (The unknown
        // token was refused before the request was read, so it named no features.)
        assert.equal(all.length, 8);
        const alice = await log.query({ who: "alice" });
        assert.deepEqual(alice.map((a) => a.transport).sort(), ["grpc", "http", "http-training-set"]);
        assert.ok(alice.every((a) => a.granted && a.features.includes("card_profile:holder_name")));
        const refused = all.filter((a) => !a.granted).map((a) => a.who).sort();
        assert.deepEqual(refused, ["anonymous", "anonymous", "anonymous", "bob", "bob"]);
        assert.equal((await log.query({ feature: "card_profile:holder_name" })).length, 8);
        assert.equal((await log.query({ feature: "card_profile:credit_limit" })).length, 0, "only PII is logged");
        assert.equal((await log.query({ since: new Date(Date.now() + 60_000) })).length, 0);
        const r = await runScript("tasks/mercury.ts", [
          "features",
          "pii-access",
          "--repo",
          "plugins/features/examples/fraud_repo.ts",
          "--offline-root",
          `${fx.dir}/offline`,
          "--who",
          "alice",
          "--json",
        ], {
          MERCURY_FEATURES_DATA: fx.dir,
          MERCURY_FEATURES_PROJECT: fx.project,
          MERCURY_FEATURES_CARDS_TABLE: fx.cardsTable,
        });
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(lines.length, 3);
        assert.ok(lines.every((l) => l.who === "alice" && l.granted === true));
      });

      await t.step(
        "the get command: anonymous refused, the scope from MERCURY_FEATURES_TOKEN reads, recorded",
        async () => {
          const env = {
            MERCURY_FEATURES_DATA: fx.dir,
            MERCURY_FEATURES_PROJECT: fx.project,
            MERCURY_FEATURES_CARDS_TABLE: fx.cardsTable,
          };
          const cli = (extra: string[], token?: string) =>
            runScript("tasks/mercury.ts", [
              "features",
              "get",
              "--repo",
              "plugins/features/examples/fraud_repo.ts",
              "--offline-root",
              `${fx.dir}/offline`,
              "--features",
              "card_profile:holder_name",
              "--entity",
              "card_id=1,2",
              ...extra,
            ], token ? { ...env, MERCURY_FEATURES_TOKEN: token } : env);
          const before = (await log.query({ who: "alice" })).length;
          const anon = await cli(["--tokens", tokensFile]);
          assert.notEqual(anon.code, 0);
          assert.match(anon.stderr, /card_profile:holder_name is PII: no token was sent/);
          assert.equal(anon.stdout, "");
          const bob = await cli(["--tokens", tokensFile], "bob-token-2");
          assert.notEqual(bob.code, 0);
          assert.match(bob.stderr, /"bob" has no scope/);
          const stranger = await cli(["--tokens", tokensFile], "not-a-token");
          assert.notEqual(stranger.code, 0);
          assert.match(stranger.stderr, /unknown token/);
          const noFile = await cli([], "alice-token-1");
          assert.notEqual(noFile.code, 0);
          assert.match(noFile.stderr, /MERCURY_FEATURES_TOKEN is set but no --tokens file/);
          const alice = await cli(["--tokens", tokensFile], "alice-token-1");
          assert.equal(alice.code, 0, alice.stderr);
          const rows = alice.stdout.trim().split("\n").map((l) => JSON.parse(l));
          assert.deepEqual(rows.map((r) => r.card_id), [1, 2]);
          assert.ok(rows.every((r) => typeof r.holder_name === "string" && !r.holder_name.includes("(")), alice.stdout);
          assert.doesNotMatch(alice.stdout + alice.stderr, /alice-token-1/, "the token is not echoed");
          const cliAccesses = (await log.query()).filter((a) => a.transport === "cli");
          assert.deepEqual(cliAccesses.map((a) => `${a.who}:${a.granted}`).sort(), [
            "alice:true",
            "anonymous:false",
            "bob:false",
          ]);
          assert.equal((await log.query({ who: "alice" })).length, before + 1);
        },
      );

      await t.step("the training-set command: PII features need the token's scope too, recorded", async () => {
        const env = {
          MERCURY_FEATURES_DATA: fx.dir,
          MERCURY_FEATURES_PROJECT: fx.project,
          MERCURY_FEATURES_CARDS_TABLE: fx.cardsTable,
        };
        const entities = `${fx.dir}/pii_entities.parquet`;
        const at = new Date(END.getTime() - 1).toISOString();
        await fs.duck.connection.run(
          `copy (select * from (values (1::bigint, '${at}'::timestamptz), (2::bigint, '${at}'::timestamptz)) ` +
            `t(card_id, event_timestamp)) to '${entities}' (format parquet)`,
        );
        const out = `${fx.dir}/pii_train.parquet`;
        const cli = (token?: string) =>
          runScript("tasks/mercury.ts", [
            "features",
            "training-set",
            "--repo",
            "plugins/features/examples/fraud_repo.ts",
            "--offline-root",
            `${fx.dir}/offline`,
            "--features",
            "card_profile:holder_name,card_profile:credit_limit",
            "--entities",
            entities,
            "--output",
            out,
            "--tokens",
            tokensFile,
          ], token ? { ...env, MERCURY_FEATURES_TOKEN: token } : env);
        const anon = await cli();
        assert.notEqual(anon.code, 0);
        assert.match(anon.stderr, /card_profile:holder_name is PII: no token was sent/);
        assert.equal(await Deno.stat(out).catch(() => null), null, "no file written when refused");
        const bob = await cli("bob-token-2");
        assert.match(bob.stderr, /"bob" has no scope/);
        const alice = await cli("alice-token-1");
        assert.equal(alice.code, 0, alice.stderr);
        const rows = (await fs.duck.connection.runAndReadAll(`select card_id, holder_name from '${out}' order by 1`))
          .getRowObjectsJS();
        assert.deepEqual(rows.map((r) => Number(r.card_id)), [1, 2]);
        assert.ok(rows.every((r) => typeof r.holder_name === "string"), String(rows.map((r) => r.holder_name)));
        const accesses = (await log.query()).filter((a) => a.transport === "cli-training-set");
        assert.deepEqual(accesses.map((a) => `${a.who}:${a.granted}:${a.entities}`).sort(), [
          "alice:true:2",
          "anonymous:false:2",
          "bob:false:2",
        ]);
      });

      await t.step("reports mask PII values; materialisation statistics keep none of them", async () => {
        const rows = await fs.getHistoricalFeatures(
          [{ card_id: 1, event_timestamp: new Date(END.getTime() - 1) }],
          ["card_profile:holder_name", "card_profile:credit_limit"],
        );
        assert.equal(typeof rows[0]!.holder_name, "string");
        const masked = maskPii(rows, fx.repo);
        assert.equal(masked[0]!.holder_name, "•••");
        assert.equal(masked[0]!.credit_limit, rows[0]!.credit_limit);
        const s = (await fs.registry.latestStats()).find((x) => x.feature === "holder_name")!;
        assert.equal(s.stats.min, null);
        assert.equal(s.stats.max, null);
        assert.equal(s.stats.p50, null);
      });
    } finally {
      client.close();
      await g.close();
      await http.close();
      await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.pii_access where project = $1`, [fx.project]);
      await fx.cleanup();
    }
  },
});
