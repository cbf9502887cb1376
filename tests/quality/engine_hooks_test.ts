import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { entity, type FeatureRepo, featureView, fileSource, OfflineStore } from "@mercury/features";
import { checkMaterialization, streamValidator } from "@mercury/quality/hooks";
import { validate } from "@mercury/quality";
import { integration, uniqueName } from "../_helpers.ts";

const SUITE = {
  name: "payments",
  expectations: [
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "card" } },
    { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0, max_value: 10_000 } },
  ],
};

Deno.test(
  "stream hook: invalid records go to the stream's dead-letter topic naming the expectation",
  integration,
  async () => {
    await using k = await connectKafka();
    const topic = uniqueName("quality-hook");
    await k.admin.createTopics({ topics: [{ topic: `${topic}.dlq`, numPartitions: 1 }], waitForLeaders: true });
    try {
      const check = streamValidator(SUITE, { topic });
      const records = [
        { card: "c1", amount: 10 },
        { card: null, amount: 5 },
        { card: "c3", amount: -2 },
        { card: "c4", amount: 7 },
      ];
      const valid = await check(records);
      assert.deepEqual(valid, [records[0], records[3]]);
      const consumer = k.kafka.consumer({ groupId: uniqueName("quality-hook-read") });
      await consumer.connect();
      await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
      const got: { value: unknown; reason: string }[] = [];
      const done = Promise.withResolvers<void>();
      const timer = setTimeout(() => done.reject(new Error("no dead letters within 20 s")), 20_000);
      await consumer.run({
        eachMessage: ({ message }) => {
          got.push({ value: JSON.parse(message.value!.toString()), reason: message.headers!.reason!.toString() });
          if (got.length === 2) done.resolve();
          return Promise.resolve();
        },
      });
      await done.promise.finally(() => clearTimeout(timer));
      await consumer.disconnect();
      assert.deepEqual(got.map((g) => g.value), [records[1], records[2]]);
      assert.equal(got[0]!.reason, "quality: expect_column_values_to_not_be_null(card)#0");
      assert.equal(got[1]!.reason, "quality: expect_column_values_to_be_between(amount)#1");
    } finally {
      await k.admin.deleteTopics({ topics: [`${topic}.dlq`] });
    }
  },
);

Deno.test("features hook: a view whose offline data fails its suite is refused, or flagged", integration, async () => {
  const dir = await Deno.makeTempDir({ prefix: "quality-features-" });
  await using db = await openDuckDB();
  try {
    await db.connection.run(`copy (select (r % 5)::bigint as card_id, timestamp '2024-03-01' + to_hours(r) as ts,
        case when r = 7 then -50.0 else r * 1.0 end as amount from range(48) t(r)) to '${dir}/tx.parquet' (format parquet)`);
    const repo: FeatureRepo = {
      project: "qhook",
      entities: [entity({ name: "card", joinKey: "card_id", valueType: "int64" })],
      views: [featureView({
        name: "card_amounts",
        entities: ["card"],
        ttlSeconds: 0,
        source: fileSource({ name: "tx", format: "parquet", path: `${dir}/tx.parquet`, timestampField: "ts" }),
        features: [{ name: "amount", type: "float64" }],
      })],
    };
    const store = new OfflineStore({ connection: db.connection, repo, env: "dev", root: `${dir}/off` });
    await store.compute("card_amounts");
    const rel = await store.relation("card_amounts");
    const suite = {
      name: "card_amounts",
      expectations: [{ type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0 } }],
    };
    await assert.rejects(
      checkMaterialization(rel, suite, { view: "card_amounts" }),
      (e: MercuryError) => e.exitCode === 65 && /refusing to materialise card_amounts/.test(e.message),
    );
    const flagged = await checkMaterialization(rel, suite, { view: "card_amounts", mode: "flag" });
    assert.equal(flagged.flagged, true);
    assert.equal(flagged.run.results[0]!.result.unexpected_count, 1);
    // The same view as a source URI of dq-validate.
    const run = await validate(`features:card_amounts?root=${dir}/off`, suite);
    assert.equal(run.results[0]!.result.unexpected_count, 1);
    assert.equal(run.fingerprint.row_count, 48);
    const ok = await checkMaterialization(rel, {
      ...suite,
      expectations: [{ type: "expect_column_values_to_not_be_null", kwargs: { column: "amount" } }],
    });
    assert.equal(ok.flagged, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
