/**
 * The observe plugin's manifest: commands, options and help only. Each
 * command loads its implementation from `./commands/` on first run.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/observe/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "observe");
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What `deno task mercury` knows about the observe plugin. */
export const manifest = definePlugin({
  name: "observe",
  title: "observe",
  version: "0.1.0",
  description: "TODO: what observe does",
  services: [],
  notebook: "notebooks/02-observe.ipynb",
  commands: {
    hello: {
      summary: "print a greeting",
      usage: "[who]",
      options: { times: { type: "int", min: 1, max: 100, default: 1, description: "how many times" } },
      run: lazyRun(() => import("./commands/hello.ts"), "hello"),
    },
  },
});
