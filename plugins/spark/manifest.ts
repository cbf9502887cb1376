/**
 * The spark plugin's manifest: commands, options and help only. Each
 * command loads its implementation from `./commands/` on first run.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/spark/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "spark");
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What `deno task mercury` knows about the spark plugin. */
export const manifest = definePlugin({
  name: "spark",
  title: "spark",
  version: "0.1.0",
  description: "TODO: what spark does",
  services: ["spark"],
  notebook: "notebooks/08-spark.ipynb",
  commands: {
    hello: {
      summary: "print a greeting",
      usage: "[who]",
      options: { times: { type: "int", min: 1, max: 100, default: 1, description: "how many times" } },
      run: lazyRun(() => import("./commands/hello.ts"), "hello"),
    },
  },
});
