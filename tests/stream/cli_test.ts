import assert from "node:assert/strict";
import { connectKafka } from "@mercury/core/services/kafka";
import { integration, runScript, uniqueName } from "../_helpers.ts";

const stream = (...args: string[]) => runScript("tasks/mercury.ts", ["stream", ...args]);

Deno.test({
  name: "stream CLI: produce, process --until-done, verify agree end to end; the DLQ holds the rejects",
  ...integration,
  async fn() {
    const topic = uniqueName("cli");
    const p = await stream(
      "produce",
      "--topic",
      topic,
      "--partitions",
      "3",
      "--count",
      "20000",
      "--events-per-sec",
      "0",
      "--malformed-share",
      "0.01",
    );
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^20000 records to .* \(created\)/);
    const w = await stream(
      "process",
      "--topic",
      topic,
      "--until-done",
      "--window",
      "hopping:1m/20s",
      "--checkpoint",
      "300ms",
    );
    assert.equal(w.code, 0, w.stderr);
    const stats = JSON.parse(w.stdout.trim().split("\n").pop()!);
    assert.equal(stats.events, 20000);
    assert.ok(stats.dead >= 150, `dead ${stats.dead}`);
    const v = await stream("verify", "--topic", topic, "--window", "hopping:1m/20s");
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /exact: every window matches/);
    // A wrong window spec does not match what was computed: verify says so and exits 1.
    const wrong = await stream("verify", "--topic", topic, "--window", "tumbling:1m");
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /MISMATCH/);
    const k = await connectKafka();
    try {
      const dlq = await k.admin.fetchTopicOffsets(`${topic}.dlq`);
      assert.equal(dlq.reduce((s, o) => s + Number(o.high), 0), stats.dead);
      await k.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
    } finally {
      await k.close();
    }
  },
});

Deno.test({
  name: "stream CLI: bad input is one clear line and a non-zero exit",
  ...integration,
  async fn(t) {
    await t.step("a bad window spec", async () => {
      const r = await stream("process", "--topic", "x", "--window", "sliding:1m");
      assert.equal(r.code, 64);
      assert.match(r.stderr, /"sliding:1m" is not a window spec \(at --window\); hint: use tumbling:1m/);
    });
    await t.step("a hopping size that is not a multiple of the slide", async () => {
      const r = await stream("verify", "--window", "hopping:1m/7s");
      assert.equal(r.code, 64);
      assert.match(r.stderr, /multiple of its slide/);
    });
    await t.step("an unknown topic", async () => {
      const r = await stream("process", "--topic", uniqueName("nope"), "--no-enrich");
      assert.equal(r.code, 66);
      assert.match(r.stderr, /unknown topic "nope_/);
    });
    await t.step("an unreachable broker", async () => {
      const r = await runScript("tasks/mercury.ts", ["stream", "topics"], { MERCURY_KAFKA_BROKERS: "127.0.0.1:1" });
      assert.equal(r.code, 69);
      assert.match(r.stderr, /cannot reach Kafka at 127\.0\.0\.1:1/);
    });
    await t.step("a bad compression and a bad number", async () => {
      const c = await stream("produce", "--compression", "brotli");
      assert.equal(c.code, 64);
      assert.match(c.stderr, /--compression "brotli"/);
      const n = await stream("produce", "--events-per-sec", "lots");
      assert.equal(n.code, 64);
      assert.match(n.stderr, /--events-per-sec "lots"/);
    });
    await t.step("an invalid topic name", async () => {
      const r = await stream("produce", "--topic", "bad topic!", "--count", "1");
      assert.equal(r.code, 64);
      assert.match(r.stderr, /not a valid topic name/);
    });
  },
});
