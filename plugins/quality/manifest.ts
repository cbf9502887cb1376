/**
 * The quality plugin's manifest: commands, options and help only. Each
 * command loads its implementation from `./commands/` on first run.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/quality/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "quality");
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What `deno task mercury` knows about the quality plugin. */
export const manifest = definePlugin({
  name: "quality",
  title: "quality",
  version: "0.1.0",
  description: "data quality: GX-compatible expectations in one DuckDB scan, profiles, scores, reports (dq-validate)",
  services: ["postgres", "kafka"],
  notebook: "notebooks/04-quality.ipynb",
  commands: {
    check: {
      summary: "validate a source against an expectation suite (exit 0 pass, 1 failed)",
      usage: "--config suite.yaml --source URI",
      description:
        "Sources: file.parquet|csv|tsv|json|ndjson|arrow|xlsx, globs, Hive folders, duckdb:file.db?table=t, postgres://…?table=s.t or ?query=…, kafka://topic?sample=N.",
      options: {
        config: {
          type: "string",
          description: "the suite: YAML (GX shape, short form or SodaCL-like checks) or GX JSON",
        },
        source: { type: "string", description: "what to validate (a URI, see above)" },
        output: {
          type: "string",
          description: "the run's JSON (default .mercury/quality/runs/<suite>/…json); failing rows go beside it",
        },
        "result-format": {
          type: "enum",
          choices: ["BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE"],
          description: "GX result format of every expectation",
        },
        format: { type: "enum", choices: ["text", "json"], default: "text", description: "what to print" },
        explain: { type: "boolean", description: "print the SQL the suite compiles to and run nothing" },
        webhook: { type: "string", description: "POST the run summary to this URL" },
        "no-failing-rows": { type: "boolean", description: "do not write the failing rows' Parquet" },
      },
      run: lazyRun(() => import("./commands/check.ts"), "check"),
    },
  },
});
