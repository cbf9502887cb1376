import assert from "node:assert/strict";
import { connectKafka } from "@mercury/core/services/kafka";
import { startPushIngestion } from "@mercury/features/push";
import { type Fixture, fraudFixture } from "./_fixture.ts";

Deno.test({
  name: "push source: Kafka events update the online store; late events never overwrite newer ones",
  async fn() {
    const fx = await fraudFixture({ cards: 10, days: 2 });
    try {
      await pushAndCheck(fx);
    } finally {
      await fx.cleanup();
    }
  },
});

async function pushAndCheck(fx: Fixture): Promise<void> {
  const topic = `${fx.project}-events`;
  const k = await connectKafka();
  await k.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = k.kafka.producer();
  await producer.connect();
  const rejects: string[] = [];
  const ing = await startPushIngestion({
    brokers: (await import("@mercury/core")).resolveEndpoints().kafka.brokers,
    repo: fx.repo,
    view: "card_live",
    online: fx.fs.online,
    group: `${fx.project}-g`,
    onReject: (r) => rejects.push(r),
  });
  try {
    const now = Date.now();
    const ev = (card: number, ms: number, amount: number) => ({
      value: JSON.stringify({
        card_id: card,
        ts: new Date(ms).toISOString(),
        last_amount: amount,
        last_country: "DE",
      }),
    });
    await producer.send({
      topic,
      messages: [ev(1, now - 1000, 10), ev(2, now - 500, 20), ev(1, now - 5000, 99), { value: "not json" }, {
        value: JSON.stringify({ ts: now }),
      }],
    });
    const deadline = Date.now() + 30_000;
    while (ing.received + ing.rejected < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ing.received, 3);
    assert.equal(ing.rejected, 2);
    assert.match(rejects.join("\n"), /not JSON/);
    assert.match(rejects.join("\n"), /missing join key "card_id"/);
    const res = await fx.fs.server().getOnlineFeatures({
      features: ["card_live:last_amount"],
      entities: { card_id: [1, 2] },
    });
    assert.deepEqual(
      res.results[1]!.values,
      [10, 20],
      "the late event (99) for card 1 did not overwrite the newer one",
    );
    assert.deepEqual(res.results[1]!.statuses, ["PRESENT", "PRESENT"]);
  } finally {
    await ing.stop();
    await producer.disconnect();
    await k.admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await k.close();
  }
}
