import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { DEFAULT_MAX_BODY_BYTES } from "@mercury/core/http_body";
import { FeatureServer, RedisOnlineStore, serveHttp, trainingSetHandler } from "@mercury/features";
import { GrpcCallError, leanFeatureClient, serveGrpc } from "@mercury/features/grpc";
import { hostileHttpSuite, silentPeer } from "../_hostile.ts";
import { grpcCaller, grpcError, servingFixture } from "./_serving.ts";
import { fraudFixture } from "./_fixture.ts";

Deno.test({
  name: "the HTTP feature server survives hostile clients (shared suite) and a silent Redis",
  async fn(t) {
    const fx = await servingFixture();
    const ids = Array.from({ length: 10_000 }, (_, i) => (i % 5) + 1);
    try {
      await hostileHttpSuite(t, {
        name: "features http",
        start: () => {
          const http = serveHttp(fx.server(), { port: 0 });
          return Promise.resolve({ url: `http://127.0.0.1:${http.port}/`, close: () => http.close() });
        },
        json: { path: "get-online-features" },
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
        probe: { path: "health" },
        // 10,000 entities × 3 columns: about 1 MB of answer.
        large: {
          path: "get-online-features",
          body: JSON.stringify({
            features: ["card_v:limit", "od:ratio"],
            entities: { card_id: ids },
            requestData: { amount: ids, flag: ids.map(() => true) },
          }),
        },
        upstream: {
          // A Redis that accepts the connection and never answers: the lookup fails with a 504, not a hang.
          async start(peer) {
            const client = new Redis(`redis://${peer}`, { maxRetriesPerRequest: null });
            const server = new FeatureServer(fx.repo, new RedisOnlineStore(client, "mf:silent:dev:"), {
              storeTimeoutMs: 1000,
            });
            const http = serveHttp(server, { port: 0 });
            return await Promise.resolve({
              url: `http://127.0.0.1:${http.port}/`,
              async close() {
                await http.close();
                client.disconnect();
              },
            });
          },
          request: {
            path: "get-online-features",
            body: JSON.stringify({ features: ["card_v:limit"], entities: { card_id: [1] } }),
          },
          withinMs: 5000,
        },
      });
    } finally {
      await fx.close();
    }
  },
});

Deno.test({
  name: "the gRPC feature server refuses malformed, oversized and too-large requests and keeps serving",
  async fn(t) {
    const fx = await servingFixture();
    const g = await serveGrpc(fx.server(), { port: 0 });
    const { call, client } = grpcCaller(`127.0.0.1:${g.port}`);
    const healthy = async () => assert.equal((await call("Health", {})).status, "ok");
    try {
      await t.step("malformed messages get an error status, and the server keeps serving", async () => {
        const raw = (bytes: number[]) =>
          grpcError(
            new Promise((resolve, reject) =>
              client.makeUnaryRequest(
                "/mercury.features.v1.FeatureServer/GetOnlineFeatures",
                (b: Buffer) => b,
                (b: Buffer) => b,
                Buffer.from(bytes),
                (err, v) => (err ? reject(err) : resolve(v)),
              )
            ),
          );
        // A varint that never ends does not decode: INTERNAL, as gRPC specifies for a request that cannot be parsed.
        const e = await raw(new Array(11).fill(0xff));
        assert.equal(e.code, grpc.status.INTERNAL);
        assert.match(e.details, /Error deserializing request/);
        // protobufjs reads an unknown wire type as an empty message and a short length field as what is there: both
        // then fail the request checks.
        const empty = await raw([0x0f, 0x00]);
        assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
        assert.match(empty.details, /the request names no features/);
        const short = await raw([0x12, 0x50, 0x41]);
        assert.equal(short.code, grpc.status.INVALID_ARGUMENT);
        await healthy();
      });
      await t.step("a message over the default 1 MiB limit is RESOURCE_EXHAUSTED", async () => {
        const val = Array.from({ length: 400_000 }, () => ({ int64_val: 1 }));
        const e = await grpcError(
          call("GetOnlineFeatures", { features: ["card_v:limit"], entities: { card_id: { val } } }),
        );
        assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
        await healthy();
      });
      await t.step("more than 10,000 entities is INVALID_ARGUMENT naming the limit", async () => {
        const val = Array.from({ length: 10_001 }, () => ({ int64_val: 1 }));
        const e = await grpcError(
          call("GetOnlineFeatures", { features: ["card_v:limit"], entities: { card_id: { val } } }),
        );
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.match(e.details, /10001 entities, over the limit of 10000 per request/);
        await healthy();
      });
      await t.step("a silent Redis is UNAVAILABLE within the store timeout, not a hang", async () => {
        const peer = silentPeer();
        const redis = new Redis(`redis://${peer.address}`, {
          maxRetriesPerRequest: null,
        });
        const silent = await serveGrpc(
          new FeatureServer(fx.repo, new RedisOnlineStore(redis, "mf:silent:dev:"), { storeTimeoutMs: 500 }),
          { port: 0 },
        );
        const c = grpcCaller(`127.0.0.1:${silent.port}`);
        try {
          const t0 = performance.now();
          const e = await grpcError(c.call("GetOnlineFeatures", {
            features: ["card_v:limit"],
            entities: { card_id: { val: [{ int64_val: 1 }] } },
          }));
          assert.equal(e.code, grpc.status.UNAVAILABLE);
          assert.match(e.details, /reading feature view "card_v" from the online store timed out after 500 ms/);
          assert.ok(performance.now() - t0 < 3000);
        } finally {
          c.client.close();
          await silent.close();
          redis.disconnect();
          peer.close();
        }
      });
    } finally {
      client.close();
      await g.close();
      await fx.close();
    }
  },
});

Deno.test({
  name: "gRPC engines: h2 (default) and grpc-js give the same answers and statuses; h2 refuses what is not gRPC",
  async fn(t) {
    const fx = await servingFixture();
    const h2 = await serveGrpc(fx.server(), { port: 0 });
    const js = await serveGrpc(fx.server(), { port: 0, engine: "grpc-js" });
    const a = grpcCaller(`127.0.0.1:${h2.port}`);
    const b = grpcCaller(`127.0.0.1:${js.port}`);
    try {
      await t.step("the same answer, and the same error for a bad request", async () => {
        const req = {
          features: ["card_v:limit"],
          entities: { card_id: { val: [1, 2, 99].map((k) => ({ int64_val: k })) } },
        };
        const [ra, rb] = [await a.call("GetOnlineFeatures", req), await b.call("GetOnlineFeatures", req)];
        assert.deepEqual(ra, rb);
        // The entity key column, then the feature: three values each.
        assert.deepEqual((ra.results as { values: unknown[] }[]).map((r) => r.values.length), [3, 3]);
        const bad = { features: ["card_v:nope"], entities: { card_id: { val: [{ int64_val: 1 }] } } };
        const [ea, eb] = [
          await grpcError(a.call("GetOnlineFeatures", bad)),
          await grpcError(b.call("GetOnlineFeatures", bad)),
        ];
        assert.equal(ea.code, eb.code);
        assert.equal(ea.details, eb.details);
        assert.deepEqual(await a.call("Health", {}), await b.call("Health", {}));
        // The lean client (no gRPC library) reads both engines' answers and statuses the same way.
        for (const port of [h2.port, js.port]) {
          const lean = leanFeatureClient(`127.0.0.1:${port}`);
          try {
            assert.deepEqual(await lean.getOnlineFeatures(req), ra);
            assert.ok((await lean.getOnlineFeaturesBytes(req)).length > 20);
            const e = await lean.getOnlineFeatures(bad).then(() => null, (err) => err);
            assert.ok(e instanceof GrpcCallError, String(e));
            assert.equal(e.code, ea.code);
            assert.equal(e.message, ea.details);
          } finally {
            lean.close();
          }
        }
      });
      await t.step("an unknown method is UNIMPLEMENTED; a plain HTTP/2 POST is a 415", async () => {
        const e = await grpcError(
          new Promise((resolve, reject) =>
            a.client.makeUnaryRequest(
              "/mercury.features.v1.FeatureServer/Nope",
              (x: Buffer) => x,
              (x: Buffer) => x,
              Buffer.from([]),
              (err, v) => (err ? reject(err) : resolve(v)),
            )
          ),
        );
        assert.equal(e.code, grpc.status.UNIMPLEMENTED);
        assert.match(e.details, /unknown method \/mercury\.features\.v1\.FeatureServer\/Nope/);
        const http2 = await import("node:http2");
        const session = http2.connect(`http://127.0.0.1:${h2.port}`);
        try {
          const status = await new Promise<number>((resolve, reject) => {
            const req = session.request({ ":method": "POST", ":path": "/", "content-type": "application/json" });
            req.on("response", (h) => resolve(Number(h[":status"])));
            req.on("error", reject);
            req.end("{}");
          });
          assert.equal(status, 415);
        } finally {
          session.close();
        }
        assert.equal((await a.call("Health", {})).status, "ok");
      });
    } finally {
      a.client.close();
      b.client.close();
      await h2.close();
      await js.close();
      await fx.close();
    }
  },
});

Deno.test({
  name: "POST /training-set survives hostile clients: each bad, unknown or huge field is a 400 naming it",
  async fn(t) {
    const fx = await fraudFixture({ cards: 10, days: 3 });
    const ts = new Date(Date.now() - 86_400_000).toISOString();
    const entities = { card_id: [1, 2], merchant_id: [1, 1], amount: [1.5, 20], event_timestamp: [ts, ts] };
    const valid = {
      featureService: "fraud_v1",
      entities,
      format: "parquet",
      fullFeatureNames: false,
      timestampField: "event_timestamp",
    };
    const withColumn = (k: string, v: unknown[]) => ({ ...valid, entities: { ...entities, [k]: v } });
    try {
      await hostileHttpSuite(t, {
        name: "features training-set",
        start: () => {
          const http = serveHttp(fx.fs.server(), { port: 0, trainingSet: trainingSetHandler(fx.fs.offline) });
          return Promise.resolve({ url: `http://127.0.0.1:${http.port}/`, close: () => http.close() });
        },
        json: { path: "training-set" },
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
        probe: { path: "health" },
        fields: [{
          path: "training-set",
          valid,
          cases: [
            // Join keys are checked against the entity's declared int64, request data against its float64.
            { name: "a nested card id", body: withColumn("card_id", [[1], 2]), field: "card_id" },
            { name: "a boolean card id", body: withColumn("card_id", [true, 2]), field: "card_id" },
            { name: "a fractional card id", body: withColumn("card_id", [1.5, 2]), field: "card_id" },
            { name: "a card id of 1e308", body: withColumn("card_id", [1e308, 2]), field: "card_id" },
            {
              name: "a card id past 2^53 (raw JSON)",
              body: JSON.stringify(valid).replace('"card_id":[1,', '"card_id":[123456789012345678901234567890,'),
              field: "card_id",
            },
            { name: "a card id as text", body: withColumn("card_id", ["abc", 2]), field: "card_id" },
            { name: "an amount as text", body: withColumn("amount", ["abc", 1]), field: "amount" },
            { name: "an object in an untyped column", body: withColumn("note", [{}, "x"]), field: "note" },
            { name: "a boolean time", body: withColumn("event_timestamp", [true, ts]), field: "event_timestamp" },
            {
              name: "a time that is no time",
              body: withColumn("event_timestamp", ["soon", ts]),
              field: "event_timestamp",
            },
            { name: "a time of 1e300 ms", body: withColumn("event_timestamp", [1e300, ts]), field: "event_timestamp" },
            { name: "a ragged column", body: withColumn("merchant_id", [1]), field: "merchant_id" },
            { name: "a reserved column name", body: withColumn("__row", [1, 2]), field: "__row" },
            { name: "a feature list of numbers", body: { features: [1], entities }, field: "features" },
            { name: "an empty feature list", body: { features: [], entities }, field: "features" },
            { name: "an unknown feature service", body: { ...valid, featureService: "nope" }, field: "nope" },
            {
              name: "no rows",
              body: { ...valid, entities: { card_id: [], merchant_id: [], amount: [], event_timestamp: [] } },
              field: "entities",
            },
          ],
        }],
      });
      await t.step("a client sending many at once is refused past maxPending, not queued without bound", async () => {
        const handle = trainingSetHandler(fx.fs.offline, { maxPending: 2 });
        const answers = await Promise.allSettled(Array.from({ length: 5 }, () => handle(valid)));
        const refused = answers.filter((a) => a.status === "rejected").map((a) => String(a.reason));
        assert.equal(answers.filter((a) => a.status === "fulfilled").length, 2);
        assert.equal(refused.length, 3);
        for (const r of refused) assert.match(r, /training-set queue is full \(2 requests running or waiting\)/);
        // Once they are done, the queue takes requests again.
        assert.ok((await handle(valid)).bytes.length > 0);
      });
    } finally {
      await fx.cleanup();
    }
  },
});
