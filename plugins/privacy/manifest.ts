/**
 * The privacy plugin's manifest: commands, options and help only. Each
 * command loads its implementation from `./commands/` on first run.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/privacy/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "privacy");
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What `deno task mercury` knows about the privacy plugin. */
export const manifest = definePlugin({
  name: "privacy",
  title: "privacy",
  version: "0.1.0",
  description: "TODO: what privacy does",
  services: ["postgres"],
  notebook: "notebooks/07-privacy.ipynb",
  commands: {
    hello: {
      summary: "print a greeting",
      usage: "[who]",
      options: { times: { type: "int", min: 1, max: 100, default: 1, description: "how many times" } },
      run: lazyRun(() => import("./commands/hello.ts"), "hello"),
    },
    analyze: {
      summary: "DP summary of every column of a CSV/Parquet file (counts, means, quartiles, histograms) with errors",
      options: {
        epsilon: { type: "number", default: 1, description: "privacy budget ε of the whole summary (> 0)" },
        data: { type: "string", value: "FILE", description: "CSV or Parquet file to summarise" },
        delta: { type: "number", default: 1e-6, description: "δ for releasing categorical values found in the data" },
        unit: { type: "string", value: "COLUMN", description: "privacy unit column (default: each row is a person)" },
        "max-rows": { type: "int", min: 1, description: "rows kept per privacy unit (default 1)" },
        bounds: {
          type: "list",
          value: "COL=LO:HI",
          description: "known bounds of numeric columns (else found with DP)",
        },
        dataset: { type: "string", value: "NAME", description: "ledger data set (default: the file's name)" },
        analyst: { type: "string", value: "NAME", description: "who is charged (default: $USER)" },
        budget: { type: "number", description: "ε budget to set if the data set has none (default 10)" },
        "no-ledger": { type: "boolean", description: "do not record the cost in the PostgreSQL ledger" },
        json: { type: "boolean", description: "print JSON instead of a table" },
        output: { type: "string", value: "FILE", description: "also write the summary as JSON (atomically)" },
      },
      run: lazyRun(() => import("./commands/analyze.ts"), "analyze"),
    },
    sql: {
      summary: "one DP SQL query (count, sum, avg, quantile … group by) over a CSV/Parquet file, with its error",
      usage: "<query>",
      options: {
        data: { type: "string", value: "FILE", description: "CSV or Parquet file; its table is named after the file" },
        table: { type: "string", value: "NAME", description: "table name for the file (default: the file's name)" },
        epsilon: { type: "number", default: 1, description: "ε of the query (> 0)" },
        delta: { type: "number", description: "δ for partition selection with GROUP BY (default 1e-6)" },
        unit: { type: "string", value: "COLUMN", description: "privacy unit column (default: each row is a person)" },
        "max-rows": { type: "int", min: 1, description: "rows per unit and group (default 1)" },
        "max-groups": { type: "int", min: 1, description: "groups per unit (default 1)" },
        bounds: { type: "list", value: "COL=LO:HI", description: "bounds of columns under sum/avg/quantile" },
        keys: { type: "list", value: "COL=A|B", description: "public GROUP BY values (no partition selection, δ = 0)" },
        dataset: { type: "string", value: "NAME", description: "ledger data set (default: the table name)" },
        analyst: { type: "string", value: "NAME", description: "who is charged (default: $USER)" },
        "no-ledger": { type: "boolean", description: "do not charge the PostgreSQL ledger" },
        json: { type: "boolean", description: "print the answer as JSON" },
      },
      run: lazyRun(() => import("./commands/sql.ts"), "sql"),
    },
    budget: {
      summary: "set or show a data set's privacy budget and its last queries (PostgreSQL ledger)",
      usage: "<dataset>",
      options: {
        epsilon: { type: "number", description: "set the ε budget" },
        delta: { type: "number", description: "with --epsilon: the δ budget (default 1e-6)" },
        composition: {
          type: "enum",
          choices: ["basic", "zcdp"],
          description: "with --epsilon: how queries compose (default basic; zcdp fits more Gaussian/small answers)",
        },
        "approx-delta": {
          type: "number",
          description: "with --composition zcdp: δ kept for (ε, δ) answers (default δ/2)",
        },
        analyst: {
          type: "string",
          value: "NAME",
          description: "set an analyst's own budget instead of the data set's",
        },
      },
      run: lazyRun(() => import("./commands/budget.ts"), "budget"),
    },
    federated: {
      summary:
        "federated training: a coordinator and N client processes on loopback (FedAvg/FedProx, secure aggregation, DP-FedAvg)",
      options: {
        model: {
          type: "enum",
          choices: ["linear_regression", "logistic_regression", "mlp"],
          default: "logistic_regression",
          description: "model the clients train",
        },
        clients: { type: "int", min: 1, max: 200, default: 10, description: "client processes" },
        rounds: { type: "int", min: 1, default: 10, description: "training rounds" },
        rows: { type: "int", min: 100, default: 5000, description: "rows of the generated data set (80% train)" },
        split: {
          type: "enum",
          choices: ["iid", "non-iid"],
          default: "iid",
          description: "how rows are dealt to clients",
        },
        algorithm: { type: "enum", choices: ["fedavg", "fedprox"], default: "fedavg", description: "aggregation" },
        mu: { type: "number", min: 0, description: "FedProx proximal weight (default 0.1)" },
        fraction: { type: "number", min: 0.01, max: 1, default: 1, description: "clients sampled per round" },
        epochs: { type: "int", min: 1, default: 1, description: "local epochs per round" },
        lr: { type: "number", min: 0, description: "local learning rate (default per model)" },
        secagg: { type: "boolean", description: "secure aggregation: the coordinator sees only the sum" },
        threshold: { type: "int", min: 2, description: "secure aggregation threshold t (default ⌈2m/3⌉)" },
        clip: { type: "number", description: "DP-FedAvg: L2 clip of each client's update" },
        noise: { type: "number", description: "DP-FedAvg: noise multiplier σ" },
        delta: { type: "number", default: 1e-5, description: "DP-FedAvg: δ of the reported ε" },
        "round-timeout": { type: "duration", default: "30s", description: "deadline of each step of a round" },
        "drop-rate": { type: "number", min: 0, max: 0.99, default: 0, description: "chance a client sits a round out" },
        seed: { type: "int", default: 42, description: "seed of data, split and sampling" },
        json: { type: "string", value: "FILE", description: "write the run (rounds, dropouts, weights) as JSON" },
        dataset: {
          type: "string",
          value: "NAME",
          description: "with --clip/--noise: charge the run's ε to this ledger",
        },
        analyst: { type: "string", value: "NAME", description: "with --dataset: who is charged (default: $USER)" },
      },
      run: lazyRun(() => import("./commands/federated.ts"), "federated"),
    },
    report: {
      summary:
        "compliance report (PDF, HTML, JSON): identifiers, k-anonymity, l-diversity, budgets, GDPR/HIPAA mapping",
      options: {
        output: { type: "string", value: "FILE", default: "compliance_report.pdf", description: "report file (.pdf)" },
        data: { type: "string", value: "FILE", description: "CSV or Parquet to analyse (default: a generated sample)" },
        quasi: { type: "list", description: "quasi-identifier columns (default: those found)" },
        sensitive: { type: "string", value: "COLUMN", description: "sensitive attribute for l-diversity" },
        k: { type: "int", min: 2, default: 5, description: "target k of k-anonymity" },
        dataset: {
          type: "string",
          value: "NAME",
          description: "read this data set's budget and queries from the ledger",
        },
        "ledger-schema": { type: "string", value: "NAME", default: "privacy", description: "the ledger's schema" },
        ledger: { type: "string", value: "FILE", description: "or: a ledger summary JSON (budget, spent, entries)" },
        "retention-days": { type: "int", min: 1, description: "how long the data is kept" },
        access: { type: "list", description: "roles that may read raw rows" },
        purpose: { type: "string", value: "TEXT", description: "purpose of processing" },
      },
      run: lazyRun(() => import("./commands/report.ts"), "report"),
    },
  },
});
