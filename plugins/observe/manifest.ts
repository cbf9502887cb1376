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
 * assert.deepEqual(Object.keys(manifest.commands ?? {}).sort(), ["deploy", "setup"]);
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What `deno task mercury` knows about the observe plugin. */
export const manifest = definePlugin({
  name: "observe",
  title: "ML observability",
  version: "0.1.0",
  description:
    "Serves MLflow-registered models, logs every prediction, joins late labels, watches performance and drift, alerts and retrains",
  services: ["postgres", "kafka", "mlflow", "prometheus"],
  notebook: "notebooks/02-observe.ipynb",
  commands: {
    setup: {
      summary: "create the observe tables and Kafka topics, list the servers for Prometheus, install alert rules",
      options: {
        ports: {
          type: "list",
          value: "PORT,…",
          description: "ports of the observe servers Prometheus should scrape",
          default: "9410",
        },
        rules: { type: "string", value: "FILE", description: "alert rules (JSON array; default: the built-in four)" },
      },
      run: lazyRun(() => import("./commands/setup.ts"), "setup"),
    },
    deploy: {
      summary: "serve registered models over HTTP with prediction logging, label joins, metrics and alerts",
      options: {
        models: { type: "list", value: "NAME,…", description: "registered model names to serve", default: "" },
        port: { type: "int", min: 1, max: 65535, description: "HTTP port", default: 9410 },
        rules: { type: "string", value: "FILE", description: "alert rules (JSON array; default: the built-in four)" },
        "evaluate-every": {
          type: "duration",
          min: 100,
          value: "DUR",
          description: "how often alert rules are evaluated",
          default: "5s",
        },
      },
      run: lazyRun(() => import("./commands/deploy.ts"), "deploy"),
    },
  },
});
