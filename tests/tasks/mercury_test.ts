import assert from "node:assert/strict";
import { connectKafka } from "@mercury/core/services/kafka";
import { integration, runScript, uniqueName } from "../_helpers.ts";

Deno.test("deno task mercury: lists plugins and explains bad input in one line", async (t) => {
  await t.step("plugins", async () => {
    const r = await runScript("tasks/mercury.ts", ["plugins"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^stream\s+0\.1\.0\s+@mercury\/stream\s+kafka,postgres,redis\s+produce,process,verify,dashboard,autoscale,topics\s+notebooks\/01-stream\.ipynb$/m,
    );
  });
  await t.step("unknown plugin: exit 64, one line, no stack", async () => {
    const r = await runScript("tasks/mercury.ts", ["strem", "topics"]);
    assert.equal(r.code, 64);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /unknown plugin "strem".*did you mean "stream"/);
  });
  await t.step("--verbose adds the stack trace", async () => {
    const r = await runScript("tasks/mercury.ts", ["strem", "--verbose"]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /\n\s+at /);
  });
  await t.step("unknown command", async () => {
    const r = await runScript("tasks/mercury.ts", ["stream", "topicz"]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /no command "topicz".*did you mean "topics"/);
  });
  await t.step("help at each level", async () => {
    assert.match(
      (await runScript("tasks/mercury.ts", [])).stdout,
      /Plugins:\n(?: {2}\S.*\n)*? {2}stream +Streaming pipeline/,
    );
    assert.match((await runScript("tasks/mercury.ts", ["stream", "--help"])).stdout, /topics\s+list Kafka topics/);
    assert.match((await runScript("tasks/mercury.ts", ["stream", "topics", "-h"])).stdout, /--internal/);
  });
});

Deno.test({
  name: "deno task mercury stream topics lists a topic on the real broker",
  ...integration,
  async fn() {
    const topic = uniqueName("mercury_cli");
    const k = await connectKafka();
    try {
      await k.admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
      const producer = k.kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: "a" }, { value: "b" }] });
      await producer.disconnect();
      const r = await runScript("tasks/mercury.ts", ["stream", "topics", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const row = JSON.parse(r.stdout).find((x: { topic: string }) => x.topic === topic);
      assert.deepEqual(row, { topic, partitions: 4, messages: 2 });
    } finally {
      await k.admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await k.close();
    }
  },
});

Deno.test({
  name: "a command against a broker that is down fails with the endpoint and a hint",
  ...integration,
  async fn() {
    const r = await runScript("tasks/mercury.ts", ["stream", "topics"], { MERCURY_KAFKA_BROKERS: "127.0.0.1:1" });
    assert.equal(r.code, 69);
    assert.match(
      r.stderr,
      /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:1.*hint: .*MERCURY_KAFKA_BROKERS/,
    );
  },
});
