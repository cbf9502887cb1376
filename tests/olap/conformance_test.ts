import { pluginConformance } from "@mercury/core/testing";

const root = new URL("../../plugins/olap", import.meta.url).pathname;

Deno.test("olap follows the plugin contract", async (t) => {
  await pluginConformance(t, { module: new URL("../../plugins/olap/manifest.ts", import.meta.url).href, root });
});
