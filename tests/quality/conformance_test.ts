import assert from "node:assert/strict";
import { dispatch, resolveEndpoints } from "@mercury/core";
import { pluginConformance } from "@mercury/core/testing";
import { manifest } from "@mercury/quality/manifest";

const root = new URL("../../plugins/quality", import.meta.url).pathname;

Deno.test("quality follows the plugin contract", async (t) => {
  await pluginConformance(t, { module: new URL("../../plugins/quality/manifest.ts", import.meta.url).href, root });
});

Deno.test("quality check --help goes through the same dispatch as dq-validate", async () => {
  const lines: string[] = [];
  const context = { root, verbose: false, endpoints: () => resolveEndpoints(), print: (l: string) => lines.push(l) };
  const plugins = [{ manifest, packageName: "@mercury/quality", module: "manifest.ts" }];
  assert.equal(await dispatch(["quality", "check", "--help"], { plugins, context }), 0);
  assert.match(lines.join("\n"), /--config/);
  assert.match(lines.join("\n"), /--explain/);
});
