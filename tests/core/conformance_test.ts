import { discoverPlugins } from "@mercury/core";
import { pluginConformance } from "@mercury/core/testing";
import { ROOT } from "../_helpers.ts";

// Every workspace plugin, and a third-party plugin outside the workspace loaded as MERCURY_PLUGINS would load it,
// runs the one conformance suite of @mercury/core/testing.
const THIRD_PARTY = new URL("../testdata/third_party_plugin/manifest.ts", import.meta.url).href;
const plugins = await discoverPlugins({ root: ROOT, extra: [THIRD_PARTY] });

for (const p of plugins) {
  const root = new URL(".", p.module).pathname.replace(/\/$/, "");
  Deno.test(`plugin "${p.manifest.name}" (${p.packageName}) follows the plugin contract`, async (t) => {
    await pluginConformance(t, { module: p.module, root, projectRoot: ROOT });
  });
}
