/**
 * The features front doors are light: the manifest's static module graph holds no npm package and no engine
 * module, and `@mercury/features` itself loads neither gRPC nor Kafka (they are `/grpc` and `/push`).
 */
import assert from "node:assert/strict";
import { staticImportGraph } from "@mercury/core/testing";
import { manifest } from "@mercury/features/manifest";
import { ROOT } from "../_helpers.ts";

/** Every module `entry` loads before any dynamic import runs (core's static-graph walk). */
const staticGraph = (entry: string) => staticImportGraph(entry, ROOT);

const npm = (graph: string[]) => graph.filter((s) => s.startsWith("npm:") || s.includes("/node_modules/"));
const features = (graph: string[]) =>
  graph.filter((s) => s.includes("/plugins/features/")).map((s) => s.replace(/^.*\/plugins\/features\//, "")).sort();

Deno.test("features manifest.ts statically imports no npm package and no engine module", async () => {
  const graph = await staticGraph("plugins/features/manifest.ts");
  assert.deepEqual(npm(graph), []);
  assert.deepEqual(features(graph), ["manifest.ts", "online_request.ts"]);
});

Deno.test("@mercury/features loads neither gRPC nor Kafka; /grpc and /push do", async () => {
  const heavy = (graph: string[]) => npm(graph).filter((s) => /@grpc|kafkajs|@platformatic\/kafka/.test(s));
  assert.deepEqual(heavy(await staticGraph("plugins/features/mod.ts")), []);
  // The check itself can fail: the subpaths do reach them statically.
  assert.ok(heavy(await staticGraph("plugins/features/grpc_server.ts")).some((s) => s.includes("@grpc/grpc-js")));
  assert.ok(heavy(await staticGraph("plugins/features/push_source.ts")).some((s) => s.includes("kafkajs")));
});

Deno.test("features manifest: every command has help, --repo and a lazily loaded run", () => {
  assert.equal(manifest.name, "features");
  for (const [name, cmd] of Object.entries(manifest.commands ?? {})) {
    assert.ok(cmd.summary, `${name} has a summary`);
    assert.equal(typeof cmd.run, "function", `${name} has a run`);
    assert.equal(cmd.options?.repo?.type, "string", `${name} takes --repo`);
  }
});

Deno.test("features --help answers from the manifest", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/mercury.ts", "features", "serve", "--help"],
    cwd: ROOT,
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /--max-entities/);
  assert.match(text, /--store-timeout-ms/);
});

Deno.test("features options are checked by the CLI before a command loads: one line, exit 64", async () => {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/mercury.ts", "features", ...args, "--repo", "/nonexistent.ts"],
      cwd: ROOT,
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
  };
  const entities = await run("serve", "--max-entities", "0");
  assert.equal(entities.code, 64);
  assert.match(entities.stderr, /^error\[usage\]: --max-entities must be an integer ≥ 1, got '0'/);
  assert.equal(entities.stderr.split("\n").length, 1);
  const port = await run("serve", "--port", "70000");
  assert.equal(port.code, 64);
  assert.match(port.stderr, /--port must be an integer/);
  const format = await run("lineage", "--format", "png");
  assert.equal(format.code, 64);
  assert.match(format.stderr, /--format must be one of mermaid, json, svg, got 'png'/);
});
