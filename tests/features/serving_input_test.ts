import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { MercuryError } from "@mercury/core";
import { DEFAULT_MAX_ENTITIES, type OnlineRequest } from "@mercury/features";
import { grpcError, servedBoth, servingFixture } from "./_serving.ts";

/** The MercuryError a library call is refused with. */
async function refusal(p: Promise<unknown>): Promise<MercuryError> {
  return await p.then(
    () => assert.fail("the request was answered"),
    (e: unknown) => {
      assert.ok(e instanceof MercuryError, `not a MercuryError: ${e}`);
      return e;
    },
  );
}

Deno.test({
  name: "getOnlineFeatures() checks entity keys and request data against their declared types, on HTTP and gRPC",
  async fn(t) {
    await using fx = await servingFixture();
    await using both = await servedBoth(fx);
    const { server, http, call } = both;
    const post = (body: unknown) =>
      fetch(`http://127.0.0.1:${http.port}/get-online-features`, { method: "POST", body: JSON.stringify(body) });
    await t.step("well-typed keys and request data are served", async () => {
      const res = await server.getOnlineFeatures({
        featureService: "svc",
        entities: { card_id: [1, 2, 99] },
        requestData: { amount: [50, 100, 1], flag: [true, true, null] },
      });
      assert.deepEqual(res.metadata.featureNames, ["card_id", "limit", "ratio"]);
      assert.deepEqual(res.results[1]!.values, [100, 200, null]);
      assert.deepEqual(res.results[1]!.statuses, ["PRESENT", "PRESENT", "NOT_FOUND"]);
      assert.deepEqual(res.results[2]!.values, [0.5, 0.5, null]);
      const u = await server.getOnlineFeatures({ features: ["user_v:age"], entities: { user_id: ["u3"] } });
      assert.deepEqual(u.results[1]!.values, [23]);
    });

    await t.step(
      "an int64 key that is a nested array, a boolean, an object, a fraction, a string or null is refused with its row",
      async () => {
        // `[[1]]` used to answer card 1's features; the others NOT_FOUND with the key marked PRESENT.
        for (const bad of [[1], true, {}, 1.5, "1", null, 2 ** 53]) {
          const e = await refusal(
            server.getOnlineFeatures({ features: ["card_v:limit"], entities: { card_id: [2, bad as number] } }),
          );
          assert.equal(e.code, "input");
          assert.equal(e.where, "entities.card_id[1]", JSON.stringify(bad));
          assert.match(e.message, /^entities\.card_id\[1\]: .* is not an int64$/);
        }
      },
    );

    await t.step("a string key must be a string", async () => {
      const e = await refusal(
        server.getOnlineFeatures({ features: ["user_v:age"], entities: { user_id: ["u1", 3] } }),
      );
      assert.equal(e.message, "entities.user_id[1]: 3 is not a string");
    });

    await t.step("request data must have the request field's type (null allowed)", async () => {
      const e = await refusal(server.getOnlineFeatures({
        featureService: "svc",
        entities: { card_id: [1] },
        requestData: { amount: ["abc"], flag: [true] },
      }));
      assert.equal(e.message, 'requestData.amount[0]: "abc" is not a float64');
      const f = await refusal(server.getOnlineFeatures({
        featureService: "svc",
        entities: { card_id: [1, 2] },
        requestData: { amount: [1, 2], flag: [true, "yes"] },
      }));
      assert.equal(f.where, "requestData.flag[1]");
    });

    await t.step("a request of the wrong shape is refused naming the field, not a 500", async () => {
      const cases: [unknown, RegExp][] = [
        [{ features: [1], entities: { card_id: [1] } }, /features\[0\] is not a string/],
        [{ features: "card_v:limit", entities: { card_id: [1] } }, /features is not an array/],
        [{ features: ["card_v:limit"], entities: { card_id: 1 } }, /entities\.card_id is not an array/],
        [{ features: ["card_v:limit"], entities: [[1]] }, /the request has no entities/],
        [{ featureService: 5, entities: { card_id: [1] } }, /featureService is not a string/],
        [{ featureService: "svc", entities: { card_id: [1] }, requestData: [] }, /requestData is not an object/],
      ];
      for (const [body, re] of cases) {
        const r = await post(body);
        const j = await r.json();
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(j.error, re);
      }
    });

    await t.step("HTTP: 400 naming the field and row", async () => {
      const r = await post({ features: ["card_v:limit"], entities: { card_id: [1, 2, [[3]]] } });
      assert.equal(r.status, 400);
      const body = await r.json();
      assert.equal(body.error, "entities.card_id[2]: [[3]] is not an int64");
      assert.equal(body.where, "entities.card_id[2]");
      const ok = await post({ features: ["card_v:limit"], entities: { card_id: [3] } });
      assert.equal((await ok.json()).results[1].values[0], 300, "the server keeps serving");
    });

    await t.step("gRPC: INVALID_ARGUMENT with the same message", async () => {
      const e = await grpcError(call("GetOnlineFeatures", {
        features: ["card_v:limit"],
        entities: { card_id: { val: [{ int64_val: 1 }, { bool_val: true }] } },
      }));
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details, /entities\.card_id\[1\]: true is not an int64/);
      const s = await grpcError(call("GetOnlineFeatures", {
        feature_service: "svc",
        entities: { card_id: { val: [{ int64_val: 1 }] } },
        request_data: { amount: { val: [{ string_val: "abc" }] }, flag: { val: [{ bool_val: true }] } },
      }));
      assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
      assert.match(s.details, /requestData\.amount\[0\]: "abc" is not a float64/);
      const ok = await call("GetOnlineFeatures", {
        feature_service: "svc",
        entities: { card_id: { val: [{ int64_val: 4 }] } },
        request_data: { amount: { val: [{ double_val: 200 }] }, flag: { val: [{ bool_val: true }] } },
      });
      assert.deepEqual(ok.feature_names, ["card_id", "limit", "ratio"]);
      assert.deepEqual((ok.results as { values: unknown[] }[])[2]!.values, [{ double_val: 0.5, val: "double_val" }]);
    });

    await t.step("a transform answering NaN serves NULL_VALUE, not null marked PRESENT", async () => {
      const res = await server.getOnlineFeatures({
        featureService: "svc",
        entities: { card_id: [99] },
        requestData: { amount: [1], flag: [true] },
      });
      // card 99 is not found: limit is null, 1 / Number(null) = Infinity.
      assert.equal(res.results[2]!.values[0], null);
      assert.equal(res.results[2]!.statuses[0], "NULL_VALUE");
    });
  },
});

Deno.test({
  name: "getOnlineFeatures() caps the entities of one request (default 10,000), on HTTP and gRPC",
  async fn(t) {
    await using fx = await servingFixture();
    await using both = await servedBoth(fx);
    const { server, http, call } = both;
    const ids = (n: number) => Array.from({ length: n }, (_, i) => (i % 5) + 1);
    await t.step("the default is 10,000: exactly that many are served, one more is a 400", async () => {
      assert.equal(DEFAULT_MAX_ENTITIES, 10_000);
      assert.equal(server.maxEntities, 10_000);
      const req = (n: number): OnlineRequest => ({ features: ["card_v:limit"], entities: { card_id: ids(n) } });
      const ok = await server.getOnlineFeatures(req(10_000));
      assert.equal(ok.results[1]!.values.length, 10_000);
      const r = await fetch(`http://127.0.0.1:${http.port}/get-online-features`, {
        method: "POST",
        body: JSON.stringify(req(10_001)),
      });
      assert.equal(r.status, 400);
      const body = await r.json();
      assert.equal(body.error, "the request asks for 10001 entities, over the limit of 10000 per request");
      assert.equal(body.where, "entities");
    });
    await t.step("gRPC: INVALID_ARGUMENT with the same message", async () => {
      const e = await grpcError(call("GetOnlineFeatures", {
        features: ["card_v:limit"],
        entities: { card_id: { val: ids(10_001).map((k) => ({ int64_val: k })) } },
      }));
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details, /10001 entities, over the limit of 10000/);
    });
    await t.step("maxEntities changes the limit", async () => {
      const small = fx.server({ maxEntities: 3 });
      await small.getOnlineFeatures({ features: ["card_v:limit"], entities: { card_id: ids(3) } });
      await assert.rejects(
        () => small.getOnlineFeatures({ features: ["card_v:limit"], entities: { card_id: ids(4) } }),
        /4 entities, over the limit of 3/,
      );
    });
  },
});

Deno.test({
  name: "feature servers cap the request size: HTTP 413, gRPC RESOURCE_EXHAUSTED, and keep serving",
  async fn(t) {
    await using fx = await servingFixture();
    await using both = await servedBoth(fx, { http: { maxBodyBytes: 2000 }, grpc: { maxMessageBytes: 2000 } });
    const { http, call } = both;
    const big = { features: ["card_v:limit"], entities: { card_id: Array.from({ length: 1000 }, () => 1) } };
    await t.step("HTTP: a body over maxBodyBytes is a JSON 413", async () => {
      const r = await fetch(`http://127.0.0.1:${http.port}/get-online-features`, {
        method: "POST",
        body: JSON.stringify(big),
      });
      assert.equal(r.status, 413);
      const body = await r.json();
      assert.match(body.error, /over the limit of 2000 bytes/);
      assert.match(body.hint, /--max-body-bytes/);
      const ok = await fetch(`http://127.0.0.1:${http.port}/get-online-features`, {
        method: "POST",
        body: JSON.stringify({ features: ["card_v:limit"], entities: { card_id: [1] } }),
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    });
    await t.step("gRPC: a message over maxMessageBytes is RESOURCE_EXHAUSTED", async () => {
      const e = await grpcError(call("GetOnlineFeatures", {
        features: ["card_v:limit"],
        entities: { card_id: { val: big.entities.card_id.map((k) => ({ int64_val: k })) } },
      }));
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      const ok = await call("GetOnlineFeatures", {
        features: ["card_v:limit"],
        entities: { card_id: { val: [{ int64_val: 2 }] } },
      });
      assert.deepEqual((ok.results as { statuses: string[] }[])[1]!.statuses, ["PRESENT"]);
    });
  },
});
