import assert from "node:assert/strict";
import { connectKafka } from "@mercury/core/services/kafka";
import { runScript, uniqueName } from "../_helpers.ts";

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
  async fn() {
    const r = await runScript("tasks/mercury.ts", ["stream", "topics"], { MERCURY_KAFKA_BROKERS: "127.0.0.1:1" });
    assert.equal(r.code, 69);
    assert.match(
      r.stderr,
      /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:1.*hint: .*MERCURY_KAFKA_BROKERS/,
    );
  },
});

/** A throwaway project: a copy of lib/ and the root deno.json with lib as its only member. */
function tempProject(): string {
  const dir = Deno.makeTempDirSync({ prefix: "mercury-new-" });
  const root = new URL("../..", import.meta.url).pathname;
  const config = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
  Deno.writeTextFileSync(`${dir}/deno.json`, JSON.stringify({ ...config, workspace: ["./lib"], tasks: {} }, null, 2));
  Deno.mkdirSync(`${dir}/notebooks`);
  Deno.writeTextFileSync(`${dir}/notebooks/04-x.ipynb`, "{}");
  new Deno.Command("cp", { args: ["-r", `${root}/lib`, `${dir}/lib`] }).outputSync();
  return dir;
}

async function denoIn(dir: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), { args, cwd: dir, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("deno task mercury new: a generated plugin passes fmt, lint, check and its own tests", async (t) => {
  const dir = tempProject();
  await t.step("generates the package and adds it to the workspace", async () => {
    const r = await runScript("tasks/mercury.ts", ["new", "kit-demo", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created plugins\/kit-demo\/manifest\.ts/);
    assert.match(r.stdout, /created notebooks\/05-kit-demo\.ipynb/);
    const config = JSON.parse(Deno.readTextFileSync(`${dir}/deno.json`));
    assert.deepEqual(config.workspace, ["./lib", "./plugins/kit-demo"]);
    const pkg = JSON.parse(Deno.readTextFileSync(`${dir}/plugins/kit-demo/deno.json`));
    assert.equal(pkg.exports["./manifest"], "./manifest.ts");
  });
  for (
    const args of [
      ["fmt", "--check", "plugins", "tests", "bench", "deno.json"],
      ["lint", "plugins", "tests", "bench"],
      ["check", "plugins", "tests", "bench"],
      ["test", "-A", "--doc", "plugins", "tests"],
    ]
  ) {
    await t.step(`deno ${args.join(" ")}`, async () => {
      const r = await denoIn(dir, args);
      assert.equal(r.code, 0, r.out);
    });
  }
  await t.step("an existing name is a usage error", async () => {
    const r = await runScript("tasks/mercury.ts", ["new", "kit-demo", "--dir", dir]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /plugin "kit-demo" exists already/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });
  await t.step("a bad name is a usage error and writes nothing", async () => {
    const r = await runScript("tasks/mercury.ts", ["new", "Bad_Name", "--dir", dir]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /bad plugin name "Bad_Name"/);
    assert.equal(await Deno.stat(`${dir}/plugins/Bad_Name`).then(() => true, () => false), false);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task mercury: a third-party plugin named by a relative path in MERCURY_PLUGINS runs", async () => {
  const env = { MERCURY_PLUGINS: "tests/testdata/third_party_plugin/manifest.ts" };
  const r = await runScript("tasks/mercury.ts", ["greeter", "greet", "Ada", "--times", "2", "--style", "loud"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "HELLO, ADA\nHELLO, ADA\n");
  const bad = await runScript("tasks/mercury.ts", ["greeter", "greet", "Ada", "--times", "x"], env);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /--times must be an integer from 1 to 10, got 'x'/);
});
