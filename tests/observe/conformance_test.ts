import { pluginConformance } from "@mercury/core/testing";

const root = new URL("../../plugins/observe", import.meta.url).pathname;

Deno.test("observe follows the plugin contract", async (t) => {
  await pluginConformance(t, { module: new URL("../../plugins/observe/manifest.ts", import.meta.url).href, root });
});
