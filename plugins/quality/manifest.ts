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
        "no-store": {
          type: "boolean",
          description: "do not record the run (suite version, results, score, metrics, audit entry) in PostgreSQL",
        },
        author: { type: "string", description: "who runs it, for a suite version check saves (default: $USER)" },
      },
      run: lazyRun(() => import("./commands/check.ts"), "check"),
    },
    profile: {
      summary: "profile a source: types, semantic types, nulls, distincts, quantiles, histograms, top values, patterns",
      usage: "--source URI",
      description: "A sample drawn first, then two DuckDB passes over the source; distinct counts are exact up to " +
        "--exact-distinct-rows rows and hash-sketch estimates above.",
      options: {
        source: { type: "string", value: "URI", description: "the data: a file (parquet, csv, json) or a source URI" },
        output: { type: "string", value: "FILE", description: "write the profile as JSON here (atomically)" },
        format: { type: "enum", choices: ["text", "json"], default: "text", description: "what to print" },
        bins: { type: "int", min: 1, max: 1000, default: 20, description: "histogram bins" },
        "top-k": { type: "int", min: 1, max: 1000, default: 10, description: "top values kept per column" },
        "sample-rows": { type: "int", min: 100, default: 20000, description: "rows sampled for semantic types" },
        "exact-distinct-rows": {
          type: "int",
          min: 0,
          default: 1000000,
          description: "exact distinct counts up to this many rows",
        },
      },
      run: lazyRun(() => import("./commands/profile.ts"), "profile"),
    },
    suggest: {
      summary: "propose a suite from a profile (Deequ-style constraint suggestion), as YAML check reads",
      usage: "--source URI | --profile FILE",
      options: {
        source: { type: "string", value: "URI", description: "profile this source first" },
        profile: { type: "string", value: "FILE", description: "a profile JSON written by profile --output" },
        name: { type: "string", description: "the suite's name (default: suggested)" },
        output: { type: "string", value: "FILE", description: "write the YAML here (atomically)" },
      },
      run: lazyRun(() => import("./commands/suggest.ts"), "suggest"),
    },
    diff: {
      summary: "compare two profiles, two suite files, or two stored versions of a suite",
      usage: "A B | --suite NAME [--from V] [--to W]",
      options: {
        suite: { type: "string", description: "a stored suite (PostgreSQL): compare two of its versions" },
        from: { type: "int", min: 1, description: "older version (default: the one before --to)" },
        to: { type: "int", min: 1, description: "newer version (default: the latest)" },
        tolerance: { type: "number", min: 0, default: 0.01, description: "relative change a profile diff ignores" },
      },
      run: lazyRun(() => import("./commands/diff.ts"), "diff"),
    },
    report: {
      summary: "render the latest run (or --run ID) as HTML, PDF, JSON or JUnit XML; records it in the store",
      usage: "--output quality_report.html",
      options: {
        output: {
          type: "string",
          value: "FILE",
          default: "quality_report.html",
          description: "where to write (.html, .pdf, .json, .xml)",
        },
        format: { type: "enum", choices: ["html", "pdf", "json", "junit"], description: "default: by extension" },
        run: { type: "string", value: "ID", description: "a stored run (dq-validate history lists them)" },
        suite: { type: "string", description: "the latest run of this suite" },
        result: { type: "string", value: "FILE", description: "a run JSON written by check" },
        "no-profile": { type: "boolean", description: "leave out the distribution charts" },
      },
      run: lazyRun(() => import("./commands/report.ts"), "report"),
    },
    history: {
      summary: "runs of a suite over time, or one metric's history with anomaly verdicts",
      usage: "[--suite NAME] [--metric M]",
      options: {
        suite: { type: "string", description: "the suite" },
        metric: { type: "string", description: "a metric (row_count, <column>.null_share, <column>.mean, …)" },
        limit: { type: "int", min: 1, default: 50, description: "most runs listed" },
      },
      run: lazyRun(() => import("./commands/history.ts"), "history"),
    },
    rules: {
      summary: "versions of stored suites: list, show, diff, save (who, when, why)",
      usage: "list | show NAME [--version V] | diff NAME [--from V --to W] | save --config FILE --reason WHY",
      options: {
        config: { type: "string", value: "FILE", description: "the suite to save" },
        reason: { type: "string", description: "why the suite changes (save)" },
        author: { type: "string", description: "who changes it (default: $USER)" },
        version: { type: "int", min: 1, description: "the version to show" },
        from: { type: "int", min: 1, description: "older version (diff)" },
        to: { type: "int", min: 1, description: "newer version (diff)" },
      },
      run: lazyRun(() => import("./commands/rules.ts"), "rules"),
    },
    audit: {
      summary: "verify the hash-chained audit log (exit 1 when an entry was changed or deleted), or list it",
      usage: "verify | log",
      options: { limit: { type: "int", min: 1, default: 50, description: "entries listed by log" } },
      run: lazyRun(() => import("./commands/audit.ts"), "audit"),
    },
  },
});
