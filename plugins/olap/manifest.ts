/**
 * The olap plugin's manifest: its commands, their options and help. It loads
 * nothing heavy (no DuckDB, Arrow, vega or hono): each command imports its
 * implementation from `./commands/` the first time it runs, so discovery and
 * `--help` stay fast.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/olap/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "olap");
 * assert.deepEqual(Object.keys(manifest.commands).sort(), [
 *   "compact", "ingest", "query", "rollup", "serve", "setup", "tables",
 * ]);
 * ```
 *
 * @module
 */
import { type CommandArgs, type CommandContext, definePlugin } from "@mercury/core";

type Run = (args: CommandArgs, ctx: CommandContext) => Promise<void>;
/** A command's `run` that imports its module on first use and calls its export `name`. */
const lazy = <K extends string>(load: () => Promise<Record<K, Run>>, name: K): Run => async (args, ctx) =>
  await (await load())[name](args, ctx);

const dataDir = {
  "data-dir": { type: "string", value: "DIR", description: "the catalog's data directory", default: ".mercury/olap" },
} as const;

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "olap",
  title: "Analytics platform",
  version: "0.1.0",
  description: "DuckDB/Arrow analytics: catalog, query API, cost analysis, cache, rollups, time series, web UI",
  // All optional: PostgreSQL tables as an ingest source, Redis as a shared result cache (--redis),
  // Spark as the scale-out executor (SparkExecutor, query --engine spark).
  services: ["postgres", "redis", "spark"],
  notebook: "notebooks/05-olap.ipynb",
  commands: {
    setup: {
      summary: "create a data dir with sample tables (events, m4_hourly)",
      options: {
        ...dataDir,
        events: { type: "int", min: 0, description: "rows of generated events", default: 200000 },
        "skip-m4": { type: "boolean", description: "do not load the M4 hourly series (data/m4)" },
      },
      run: lazy(() => import("./commands/setup.ts"), "setup"),
    },
    ingest: {
      summary: "ingest a CSV/Parquet/JSON/NDJSON/Arrow file or postgres:schema.table into a table",
      usage: "<table> <source>",
      options: {
        ...dataDir,
        format: {
          type: "enum",
          choices: ["csv", "tsv", "parquet", "json", "ndjson", "arrow"],
          description: "the file's format (default: from its extension)",
        },
        "partition-by": {
          type: "string",
          value: "SPEC",
          description: "column or name=expr, e.g. day=cast(ts as date)",
        },
        "sort-by": { type: "list", value: "COLS", description: "comma-separated sort key" },
        storage: {
          type: "enum",
          choices: ["duckdb+parquet", "parquet", "duckdb"],
          description: "DuckDB serving copy + Parquet lake copy, Parquet only, or DuckDB only (default: a new " +
            "table duckdb+parquet, an existing one keeps its storage)",
        },
        append: { type: "boolean", description: "add files to the table instead of replacing it" },
      },
      run: lazy(() => import("./commands/ingest.ts"), "ingest"),
    },
    serve: {
      summary: "serve the query API and web UI",
      options: {
        ...dataDir,
        port: { type: "int", min: 0, max: 65535, value: "PORT", description: "port, 0 = any", default: 8000 },
        host: { type: "string", value: "HOST", description: "interface", default: "127.0.0.1" },
        token: {
          type: "string",
          value: "TOKEN",
          description: "allow writes/DDL/ingest with Authorization: Bearer TOKEN (visible in ps: prefer --token-file)",
        },
        "token-file": {
          type: "string",
          value: "FILE",
          description: "read the token from FILE's first line (or set MERCURY_OLAP_TOKEN)",
        },
        "ingest-allow": {
          type: "string",
          value: "DIR",
          multiple: true,
          description: "a directory besides the data dir that ingest may read files from",
        },
        "max-body-bytes": { type: "int", min: 1, description: "largest request body in bytes", default: 1048576 },
        "max-sql-chars": { type: "int", min: 1, description: "longest SQL text in characters", default: 262144 },
        "log-literals": { type: "boolean", description: "keep string and number literals in /log and /slow" },
        concurrency: { type: "int", min: 1, description: "queries running at once", default: 4 },
        "timeout-ms": { type: "int", min: 0, description: "default query timeout in ms, 0 = none", default: 30000 },
        "cache-mb": {
          type: "int",
          min: 0,
          value: "MB",
          description: "memory result cache size, 0 = off",
          default: 256,
        },
        redis: { type: "string", value: "PREFIX", description: "share the cache in Redis under this key prefix" },
        "slow-ms": { type: "int", min: 0, description: "slow-query threshold in ms", default: 1000 },
      },
      run: lazy(() => import("./commands/serve.ts"), "serve"),
    },
    query: {
      summary: "run one query against the catalog and print the answer",
      usage: "<sql>",
      options: {
        ...dataDir,
        format: {
          type: "enum",
          choices: ["json", "ndjson", "csv", "parquet", "arrow", "xlsx"],
          description: "the answer's format",
          default: "csv",
        },
        explain: { type: "boolean", description: "print the profile tree instead (runs the query)" },
        executor: {
          type: "enum",
          choices: ["duckdb", "spark"],
          description:
            "where the query runs: in-process DuckDB, or the Spark cluster over the tables' Parquet copies " +
            "(deno task services up spark)",
          default: "duckdb",
        },
      },
      run: lazy(() => import("./commands/query.ts"), "query"),
    },
    tables: {
      summary: "list the catalog's tables with versions, rows, files and partitions",
      options: { ...dataDir },
      run: lazy(() => import("./commands/catalog.ts"), "tables"),
    },
    compact: {
      summary: "rewrite a table's files into one sorted file per partition",
      usage: "<table>",
      options: { ...dataDir },
      run: lazy(() => import("./commands/catalog.ts"), "compact"),
    },
    rollup: {
      summary: "declare a rollup: --table T --dims a,b --measures sum:x,max:y",
      usage: "<name>",
      options: {
        ...dataDir,
        table: { type: "string", value: "T", description: "source table" },
        dims: { type: "string", value: "COLS", description: "dimension columns" },
        measures: {
          type: "string",
          value: "LIST",
          description: "agg:column list (sum, count, min, max, avg)",
          default: "",
        },
      },
      run: lazy(() => import("./commands/catalog.ts"), "rollup"),
    },
  },
});
