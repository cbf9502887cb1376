/** The olap manifest is a light front door: its static module graph holds no npm package and none of the engine. */
import assert from "node:assert/strict";
import { staticImportGraph } from "@mercury/core/testing";
import { manifest } from "@mercury/olap/manifest";
import { ROOT, runScript } from "../_helpers.ts";

/** Every module `entry` loads before any dynamic import runs (core's static-graph walk), as a set. */
const staticGraph = async (entry: string) => new Set(await staticImportGraph(entry, ROOT));

Deno.test("olap manifest.ts statically imports no npm package and no engine module", async () => {
  const graph = [...await staticGraph("plugins/olap/manifest.ts")];
  assert.deepEqual(graph.filter((s) => s.startsWith("npm:") || s.includes("/node_modules/")), []);
  const olapModules = graph.filter((s) => s.includes("/plugins/olap/")).map((s) =>
    s.replace(/^.*\/plugins\/olap\//, "")
  );
  assert.deepEqual(olapModules, ["manifest.ts"]);
  // The check itself can fail: mod.ts does reach DuckDB statically.
  assert.ok([...await staticGraph("plugins/olap/mod.ts")].some((s) => s.includes("duckdb")));
});

Deno.test("olap manifest: every command has help and a lazily loaded run", () => {
  for (const [name, cmd] of Object.entries(manifest.commands)) {
    assert.ok(cmd.summary, `${name} has a summary`);
    assert.equal(typeof cmd.run, "function", `${name} has a run`);
    assert.equal(cmd.options?.["data-dir"]?.default, ".mercury/olap", `${name} takes --data-dir`);
  }
});

Deno.test({
  name: "olap CLI: typed options refuse a bad value before the command loads (one line, exit 64)",
  async fn() {
    const bad = await runScript("tasks/mercury.ts", ["olap", "serve", "--port", "eighty"]);
    assert.equal(bad.code, 64, bad.stderr);
    assert.match(bad.stderr, /--port must be an integer/);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    const format = await runScript("tasks/mercury.ts", ["olap", "query", "select 1", "--format", "xml"]);
    assert.equal(format.code, 64, format.stderr);
    assert.match(format.stderr, /--format/);
  },
});
