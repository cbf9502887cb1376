import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { entity, type FeatureRepo, featureView, fileSource, openFeatureStore, serveHttp } from "@mercury/features";
import { featureServerClient, fromProtoValue, serveGrpc } from "@mercury/features/grpc";
import { uniqueName } from "../_helpers.ts";
import { END, fraudFixture } from "./_fixture.ts";

Deno.test({
  name: "online: materialise, serve over HTTP and gRPC with statuses, metrics and clear errors",
  async fn(t) {
    const fx = await fraudFixture();
    const { fs } = fx;
    try {
      await fs.apply();
      const reports = await fs.materialize(undefined, { end: END });
      await t.step("each view writes the latest row of each key; ttl maps to key expiry", async () => {
        const r = reports.find((x) => x.view === "card_tx_stats")!;
        assert.equal(r.keys, 100);
        assert.equal(r.written + r.expired, 100);
        assert.ok(r.rows > r.keys);
        const pttl = await fs.redis.client.pttl(fs.online.keyOf("card_tx_stats", "1"));
        assert.ok(pttl > 0 && pttl <= 7 * 86_400_000, `pttl ${pttl}`);
        assert.equal(await fs.redis.client.pttl(fs.online.keyOf("card_profile", "1")), -1, "ttl 0: no expiry");
      });
      await t.step("online values equal the point-in-time values at the end of the window", async () => {
        const entities = [1, 2, 3, 4, 5].map((id) => ({ card_id: id, event_timestamp: new Date(END.getTime() - 1) }));
        const offline = await fs.getHistoricalFeatures(entities, [
          "card_tx_stats:amount_sum_24h",
          "card_tx_stats:tx_count_24h",
        ]);
        // A feature service as the feature list (with its on-demand features fed from the entity table).
        const viaService = await fs.getHistoricalFeatures(
          entities.map((e) => ({ ...e, merchant_id: 1, amount: 10 })),
          { featureService: "fraud_v1" },
        );
        assert.ok("amount_to_limit" in viaService[0]! && "confirmed_frauds" in viaService[0]!);
        assert.deepEqual(viaService.map((r) => r.amount_sum_24h), offline.map((r) => r.amount_sum_24h));
        const res = await fs.server({}).getOnlineFeatures({
          features: ["card_tx_stats:amount_sum_24h", "card_tx_stats:tx_count_24h"],
          entities: { card_id: [1, 2, 3, 4, 5] },
        });
        const names = res.metadata.featureNames;
        const col = (n: string) => res.results[names.indexOf(n)]!;
        for (let i = 0; i < 5; i++) {
          const st = col("amount_sum_24h").statuses[i];
          if (offline[i]!.amount_sum_24h === null) assert.notEqual(st, "PRESENT");
          else {
            assert.equal(col("amount_sum_24h").values[i], offline[i]!.amount_sum_24h);
            assert.equal(col("tx_count_24h").values[i], offline[i]!.tx_count_24h);
          }
        }
      });
      const server = fs.server();
      const http = serveHttp(server, { port: 0 });
      const grpcServer = await serveGrpc(server, { port: 0 });
      const url = `http://127.0.0.1:${http.port}`;
      try {
        await t.step("HTTP: a feature service for many entities, with on-demand features and statuses", async () => {
          const r = await fetch(`${url}/get-online-features`, {
            method: "POST",
            body: JSON.stringify({
              featureService: "fraud_v1",
              entities: { card_id: [1, 2, 424242], merchant_id: [1, 2, 3] },
              requestData: { amount: [100, 50, 10] },
            }),
          });
          assert.equal(r.status, 200);
          const body = await r.json();
          const names: string[] = body.metadata.featureNames;
          assert.deepEqual(names.slice(0, 2), ["card_id", "merchant_id"]);
          assert.ok(names.includes("amount_to_limit"));
          const limit = body.results[names.indexOf("credit_limit")];
          assert.equal(limit.statuses[2], "NOT_FOUND");
          assert.equal(limit.statuses[0], "PRESENT");
          const ratio = body.results[names.indexOf("amount_to_limit")];
          assert.equal(ratio.values[0], 100 / limit.values[0]);
          assert.equal(ratio.statuses[2], "NULL_VALUE");
          assert.ok(typeof limit.eventTimestamps[0] === "number");
        });
        await t.step("HTTP: a missing entity key is a 400 naming the field", async () => {
          const r = await fetch(`${url}/get-online-features`, {
            method: "POST",
            body: JSON.stringify({ features: ["merchant_risk:fraud_rate_30d"], entities: { card_id: [1] } }),
          });
          assert.equal(r.status, 400);
          const body = await r.json();
          assert.match(body.error, /missing entity key "merchant_id"/);
          assert.equal(body.where, "entities.merchant_id");
        });
        await t.step("HTTP: an unknown feature is a 400 naming it", async () => {
          const r = await fetch(`${url}/get-online-features`, {
            method: "POST",
            body: JSON.stringify({ features: ["card_tx_stats:nope"], entities: { card_id: [1] } }),
          });
          assert.equal(r.status, 400);
          assert.match((await r.json()).error, /card_tx_stats:nope/);
        });
        await t.step("values older than the ttl are OUTSIDE_MAX_AGE", async () => {
          const later = fs.server({});
          // A clock 8 days after the data: past card_tx_stats' 7-day ttl.
          Object.defineProperty(later, "now", { value: () => END.getTime() + 8 * 86_400_000 });
          const res = await later.getOnlineFeatures({
            features: ["card_tx_stats:tx_count_24h"],
            entities: { card_id: [1] },
          });
          assert.equal(res.results[1]!.statuses[0], "OUTSIDE_MAX_AGE");
          assert.equal(res.results[1]!.values[0], null);
        });
        await t.step("/metrics exposes the latency histogram, hit rate and staleness", async () => {
          const text = await (await fetch(`${url}/metrics`)).text();
          assert.match(text, /mercury_features_request_seconds_count\{transport="http"\} [1-9]/);
          assert.match(text, /mercury_features_hit_rate 0\.\d+/);
          assert.match(text, /mercury_features_staleness_seconds_count\{view="card_profile"\} [1-9]/);
          assert.match(text, /mercury_features_values_total\{status="NOT_FOUND"\} [1-9]/);
        });
        await t.step("gRPC: the same answer; a missing entity key is INVALID_ARGUMENT naming the field", async () => {
          const client = featureServerClient(`127.0.0.1:${grpcServer.port}`);
          const call = (req: unknown) =>
            new Promise<Record<string, unknown>>((resolve, reject) =>
              (client.GetOnlineFeatures as (r: unknown, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void)
                .call(client, req, (e, v) => (e ? reject(e) : resolve(v as Record<string, unknown>)))
            );
          try {
            const res = await call({
              features: ["card_profile:credit_limit", "card_profile:country"],
              entities: { card_id: { val: [{ int64_val: 1 }, { int64_val: 999999 }] } },
            });
            const results = res.results as { values: unknown[]; statuses: string[] }[];
            assert.deepEqual(res.feature_names, ["card_id", "credit_limit", "country"]);
            assert.equal(typeof fromProtoValue(results[1]!.values[0] as never), "number");
            assert.deepEqual(results[1]!.statuses, ["PRESENT", "NOT_FOUND"]);
            const err = await call({ features: ["card_profile:credit_limit"], entities: {} }).then(
              () => undefined,
              (e: grpc.ServiceError) => e,
            );
            assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
            assert.match(err!.details, /missing entity key "card_id"/);
          } finally {
            client.close();
          }
        });
      } finally {
        await http.close();
        await grpcServer.close();
      }
    } finally {
      await fx.cleanup();
    }
  },
});

async function writeSource(path: string, rows: [number, string, number][]) {
  const { openDuckDB } = await import("@mercury/core/services/duckdb");
  const db = await openDuckDB();
  try {
    const values = rows.map(([k, ts, a]) => `(${k}, '${ts}'::TIMESTAMP, ${a}::DOUBLE)`).join(", ");
    await db.connection.run(`copy (select * from (values ${values}) t(k, ts, a)) to '${path}' (format parquet)`);
  } finally {
    db.close();
  }
}

Deno.test({
  name: "materialize(): incremental, idempotent, resumable after a crash, failures keep old values, drift flagged",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "mf-" });
    const project = uniqueName("m");
    const path = `${dir}/src.parquet`;
    const repo: FeatureRepo = {
      project,
      entities: [entity({ name: "thing", joinKey: "k", valueType: "int64" })],
      views: [featureView({
        name: "v",
        entities: ["thing"],
        ttlSeconds: 0,
        source: fileSource({ name: "s", format: "parquet", path, timestampField: "ts" }),
        features: [{ name: "a", type: "float64" }],
      })],
    };
    const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/off` });
    const a = async (k: number) => (await fs.online.read("v", [String(k)], ["a"]))[0]!;
    try {
      await fs.apply();
      await writeSource(
        path,
        Array.from({ length: 50 }, (_, i) => [i, "2024-01-01 00:00:00", i] as [number, string, number]),
      );
      await t.step("a full run writes every key; the watermark is its end", async () => {
        const [r] = await fs.materialize(["v"], { end: new Date("2024-01-02T00:00:00Z"), chunkRows: 10 });
        assert.equal(r!.written, 50);
        assert.equal((await fs.registry.watermark("v"))?.toISOString(), "2024-01-02T00:00:00.000Z");
        assert.equal(Number((await a(7)).values[0]), 7);
      });
      await t.step("an incremental run starts at the watermark and only sees newer rows", async () => {
        await writeSource(path, [
          ...Array.from({ length: 50 }, (_, i) => [i, "2024-01-01 00:00:00", i] as [number, string, number]),
          [7, "2024-01-03 00:00:00", 700],
        ]);
        const [r] = await fs.materialize(["v"], {
          incremental: true,
          recompute: true,
          end: new Date("2024-01-04T00:00:00Z"),
        });
        assert.equal(r!.start.toISOString(), "2024-01-02T00:00:00.000Z");
        assert.equal(r!.rows, 1);
        assert.equal(Number((await a(7)).values[0]), 700);
      });
      await t.step("an older event never overwrites a newer one (a full re-run replays old rows)", async () => {
        const n = await fs.online.write("v", [{
          key: "7",
          eventMs: Date.parse("2024-01-01T00:00:00Z"),
          createdMs: 0,
          payload: '{"a":1}',
        }], 0);
        assert.equal(n, 0);
        const [r] = await fs.materialize(["v"], { start: new Date(0), end: new Date("2024-01-02T00:00:00Z") });
        assert.equal(r!.written, 0, "every stored value is at least as new");
        assert.equal(Number((await a(7)).values[0]), 700);
      });
      await t.step(
        "a crashed run resumes from its last chunk, and a failed run leaves the old values served",
        async () => {
          await writeSource(
            path,
            Array.from({ length: 50 }, (_, i) => [i, "2024-01-05 00:00:00", 1000 + i] as [number, string, number]),
          );
          const end = new Date("2024-01-06T00:00:00Z");
          await assert.rejects(
            () =>
              fs.materialize(["v"], {
                incremental: true,
                recompute: true,
                end,
                chunkRows: 10,
                onChunk: (done) => {
                  if (done >= 20) throw new Error("simulated crash");
                },
              }),
            /simulated crash/,
          );
          const runs = await fs.registry.runs("v");
          assert.equal(runs[0]!.state, "failed");
          assert.equal(runs[0]!.rowsDone, 20);
          // Keys not reached yet still serve their previous value.
          assert.equal(Number((await a(7)).values[0]), 700);
          assert.equal(Number((await a(0)).values[0]), 1000);
          const [r] = await fs.materialize(["v"], {
            incremental: true,
            end: new Date("2024-01-07T00:00:00Z"),
            chunkRows: 10,
          });
          assert.equal(r!.resumedFrom, 20);
          assert.equal(r!.end.toISOString(), end.toISOString(), "the resumed run keeps its window");
          assert.equal(Number((await a(49)).values[0]), 1049);
          assert.equal((await fs.registry.runs("v"))[0]!.state, "done");
        },
      );
      await t.step("quality: statistics per run, drift against the previous run flagged in the registry", async () => {
        const stats = await fs.registry.stats("v");
        const s = stats.find((x) => x.feature === "a")!;
        assert.equal(s.stats.count, 50);
        assert.equal(s.stats.min, 1000);
        assert.equal(s.stats.max, 1049);
        assert.equal(s.stats.distinct >= 45, true);
        assert.equal(s.drift, true, "mean moved from ~700 to ~1024");
        assert.match(s.driftReason!, /mean moved/);
        await writeSource(
          path,
          Array.from({ length: 50 }, (_, i) => [i, "2024-01-07 12:00:00", 1000 + i] as [number, string, number]),
        );
        const [r] = await fs.materialize(["v"], {
          incremental: true,
          recompute: true,
          end: new Date("2024-01-08T00:00:00Z"),
        });
        assert.deepEqual(r!.drift, []);
        assert.equal((await fs.registry.latestStats())[0]!.drift, false);
      });
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
