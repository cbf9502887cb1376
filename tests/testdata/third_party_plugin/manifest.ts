/**
 * A plugin outside the Mercury workspace (the example of docs/plugins.md),
 * loaded through `MERCURY_PLUGINS`. The manifest imports only
 * `@mercury/core/plugin`; `greet` loads its implementation on first run.
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

export const manifest = definePlugin({
  name: "greeter",
  title: "Greeter",
  version: "0.1.0",
  description: "Greets people (a third-party example plugin)",
  services: [],
  notebook: "greeter.ipynb",
  commands: {
    greet: {
      summary: "print a greeting",
      usage: "<name>",
      options: {
        times: { type: "int", min: 1, max: 10, default: 1, description: "how many times" },
        style: { type: "enum", choices: ["plain", "loud"], default: "plain", description: "how to greet" },
      },
      run: lazyRun(() => import("./commands/greet.ts"), "greet"),
    },
  },
});
