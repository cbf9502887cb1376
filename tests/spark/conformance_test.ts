import assert from "node:assert/strict";
import { dispatch, resolveEndpoints } from "@mercury/core";
import { pluginConformance } from "@mercury/core/testing";
import { manifest } from "@mercury/spark/manifest";

const root = new URL("../../plugins/spark", import.meta.url).pathname;

Deno.test("spark follows the plugin contract", async (t) => {
  await pluginConformance(t, { module: new URL("../../plugins/spark/manifest.ts", import.meta.url).href, root });
});

Deno.test("spark hello greets --times times", async () => {
  const lines: string[] = [];
  const context = { root, verbose: false, endpoints: () => resolveEndpoints(), print: (l: string) => lines.push(l) };
  const plugins = [{ manifest, packageName: "@mercury/spark", module: "manifest.ts" }];
  assert.equal(await dispatch(["spark", "hello", "you", "--times", "2"], { plugins, context }), 0);
  assert.deepEqual(lines, ["hello, you", "hello, you"]);
});
