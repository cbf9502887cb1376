/**
 * `services/compose.yml`'s Spark cluster against the native one: the Connect server gets the same settings
 * (`connectConf`, with the container's places), the same jars (as `--packages`, at the versions of
 * services/spark/pom.xml and services/spark/s3a/pom.xml), and its master and workers listen where the native ones do.
 * No Docker engine runs here, so this is what can be checked without one.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { connectConf } from "../../tasks/services/spark.ts";

const root = new URL("../../", import.meta.url).pathname;
const compose = parse(await Deno.readTextFile(`${root}services/compose.yml`)) as {
  services: Record<string, { command: string[]; network_mode?: string; profiles?: string[] }>;
};
const pomVersion = async (file: string, artifact: string) => {
  const pom = await Deno.readTextFile(`${root}${file}`);
  const block = new RegExp(`<artifactId>${artifact}</artifactId>\\s*<version>([^<]+)</version>`).exec(pom)?.[1];
  assert.ok(block, `${artifact} in ${file}`);
  const prop = /^\$\{(.+)\}$/.exec(block!)?.[1];
  return prop ? new RegExp(`<${prop}>([^<]+)</${prop}>`).exec(pom)![1]! : block!;
};

Deno.test("compose's Spark Connect server has the native settings, jars and ports", async () => {
  const spark = compose.services.spark!;
  assert.equal(spark.network_mode, "host");
  const args = spark.command;
  const conf = new Map<string, string>();
  args.forEach((a, i) => {
    if (a === "--conf") {
      const [k, ...v] = args[i + 1]!.split("=");
      conf.set(k!, v.join("="));
    }
  });
  const native = connectConf({
    master: "spark://127.0.0.1:57077",
    bindAddress: "127.0.0.1",
    driverHost: "127.0.0.1",
    connectPort: 55002,
    uiPort: 54040,
    dir: "/lake",
    python: "python3",
    jars: [],
    s3Url: "http://127.0.0.1:59900",
    lineageUrl: "http://127.0.0.1:55003",
    executorMemory: "1g",
  });
  for (const [k, v] of Object.entries(native)) assert.equal(conf.get(k), v, `--conf ${k}`);
  // The store's keys (native: a properties file only its user reads; compose: the dev store's fixed pair).
  const extra = [...conf.keys()].filter((k) => !(k in native)).sort();
  assert.deepEqual(extra, ["spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key"]);

  const packages = args[args.indexOf("--packages") + 1]!.split(",");
  for (
    const [file, group, artifact] of [
      ["services/spark/pom.xml", "io.delta", "delta-spark_2.13"],
      ["services/spark/pom.xml", "org.apache.iceberg", "iceberg-spark-runtime-4.0_2.13"],
      ["services/spark/pom.xml", "io.openlineage", "openlineage-spark_2.13"],
      ["services/spark/s3a/pom.xml", "org.apache.hadoop", "hadoop-aws"],
    ]
  ) {
    assert.ok(
      packages.includes(`${group}:${artifact}:${await pomVersion(file!, artifact!)}`),
      `${artifact} in --packages`,
    );
  }
});

Deno.test("compose's Spark master and workers listen on the native ports, with the native cores and memory", () => {
  const master = compose.services["spark-master"]!.command;
  assert.deepEqual(master.slice(-4), ["--port", "57077", "--webui-port", "58080"]);
  ["spark-worker-1", "spark-worker-2"].forEach((name, i) => {
    const w = compose.services[name]!.command;
    const opt = (o: string) => w[w.indexOf(o) + 1];
    assert.equal(opt("--cores"), "1");
    assert.equal(opt("--memory"), "1536m");
    assert.equal(opt("--webui-port"), String(58081 + i));
    assert.equal(w.at(-1), "spark://127.0.0.1:57077");
    assert.deepEqual(compose.services[name]!.profiles, ["spark"]);
  });
});
