/**
 * The plugin's CLI: `deno task mercury olap setup|ingest|serve|query|tables|compact|rollup`.
 *
 * @module
 */
import type { CommandSpec } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { Olap } from "./engine.ts";
import { parseFormat } from "./formats.ts";
import { serve } from "./server.ts";
import { resolveToken } from "./access.ts";
import { parseSource } from "./sources.ts";
import { checkRollup, type Measure } from "./rollups.ts";
import { generateEvents } from "./sample_data.ts";

const str = (v: unknown, d = "") => (typeof v === "string" ? v : d);
const int = (v: unknown, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new MercuryError("usage", `--${name} "${v}" is not a non-negative integer`);
  return n;
};
const dataDir = {
  "data-dir": { type: "string", value: "DIR", description: "the catalog's data directory", default: ".mercury/olap" },
} as const;

/** `setup`: creates the data dir and loads the sample `events` table (and M4 hourly series if shipped). */
export const setupCommand: CommandSpec = {
  summary: "create a data dir with sample tables (events, m4_hourly)",
  options: {
    ...dataDir,
    events: { type: "string", value: "N", description: "rows of generated events", default: "200000" },
    "skip-m4": { type: "boolean", description: "do not load the M4 hourly series (data/m4)" },
  },
  async run(args, ctx) {
    const dir = str(args.values["data-dir"]);
    const olap = await Olap.open({ dataDir: dir, restrictFiles: false });
    try {
      const file = await generateEvents(int(args.values.events, "events"));
      const t = await olap.ingest("events", { file }, { partitionBy: "day=cast(ts as date)", sortBy: ["ts"] });
      await Deno.remove(file);
      ctx.print(`events: ${t.rows} rows, ${t.partitions} partitions, ${t.files} files, version ${t.version}`);
      const m4 = `${ctx.root}/data/m4/Hourly-train.csv`;
      try {
        if (args.values["skip-m4"]) throw new Deno.errors.NotFound("skipped");
        await Deno.stat(m4);
        // The M4 hourly training series, long form: one row per (series, hour).
        const m = await olap.catalog.ingestQuery(
          "m4_hourly",
          `select V1 as series, timestamp '2020-01-01' + to_hours(cast(replace(col, 'V', '') as int) - 2) as ts,
             cast(value as double) as value
           from (unpivot read_csv('${m4}', header = true, all_varchar = true) on columns(* exclude (V1)) into name col value value)
           where value is not null and value <> ''`,
          { sortBy: ["series", "ts"] },
        );
        await olap.refresh(true);
        ctx.print(`m4_hourly: ${m.rows} rows from data/m4/Hourly-train.csv`);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      ctx.print(`catalog ready in ${dir}; serve it with: deno task mercury olap serve --data-dir ${dir}`);
    } finally {
      await olap.close();
    }
  },
};

/** `ingest`: a file or PostgreSQL table into a managed table. */
export const ingestCommand: CommandSpec = {
  summary: "ingest a CSV/Parquet/JSON/NDJSON/Arrow file or postgres:schema.table into a table",
  usage: "<table> <source>",
  options: {
    ...dataDir,
    format: {
      type: "string",
      value: "FMT",
      description: "csv, tsv, parquet, json, ndjson or arrow (default: extension)",
    },
    "partition-by": { type: "string", value: "SPEC", description: "column or name=expr, e.g. day=cast(ts as date)" },
    "sort-by": { type: "string", value: "COLS", description: "comma-separated sort key" },
    storage: { type: "string", value: "KIND", description: "parquet or duckdb", default: "parquet" },
    append: { type: "boolean", description: "add files to the table instead of replacing it" },
  },
  async run(args, ctx) {
    const [table, source] = args.positionals;
    if (!table || !source) throw new MercuryError("usage", "ingest needs <table> <source>");
    const storage = str(args.values.storage);
    if (storage !== "parquet" && storage !== "duckdb") {
      throw new MercuryError("usage", `--storage "${storage}" is not parquet or duckdb`);
    }
    const olap = await Olap.open({ dataDir: str(args.values["data-dir"]), restrictFiles: false });
    try {
      const t = await olap.ingest(table, parseSource(source, str(args.values.format) || undefined), {
        partitionBy: str(args.values["partition-by"]) || undefined,
        sortBy: str(args.values["sort-by"]) ? str(args.values["sort-by"]).split(",").map((s) => s.trim()) : undefined,
        storage,
        mode: args.values.append ? "append" : "replace",
      });
      ctx.print(`${table}: version ${t.version}, ${t.rows} rows, ${t.files} files, ${t.partitions} partitions`);
    } finally {
      await olap.close();
    }
  },
};

/** `serve`: the HTTP API and web UI. */
export const serveCommand: CommandSpec = {
  summary: "serve the query API and web UI",
  options: {
    ...dataDir,
    port: { type: "string", value: "PORT", description: "port (0 = any)", default: "8000" },
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
      description: "a directory besides the data dir that ingest may read files from (repeatable)",
    },
    "max-body-bytes": { type: "string", value: "N", description: "largest request body", default: "1048576" },
    "max-sql-chars": { type: "string", value: "N", description: "longest SQL text", default: "262144" },
    "log-literals": { type: "boolean", description: "keep string and number literals in /log and /slow" },
    concurrency: { type: "string", value: "N", description: "queries running at once", default: "4" },
    "timeout-ms": { type: "string", value: "MS", description: "default query timeout", default: "30000" },
    "cache-mb": { type: "string", value: "MB", description: "memory result cache size (0 = off)", default: "256" },
    redis: { type: "string", value: "PREFIX", description: "share the cache in Redis under this key prefix" },
    "slow-ms": { type: "string", value: "MS", description: "slow-query threshold", default: "1000" },
  },
  async run(args, ctx) {
    const v = args.values;
    const olap = await Olap.open({
      dataDir: str(v["data-dir"]),
      concurrency: int(v.concurrency, "concurrency"),
      timeoutMs: int(v["timeout-ms"], "timeout-ms"),
      cacheBytes: int(v["cache-mb"], "cache-mb") * 1024 * 1024,
      redisPrefix: str(v.redis) || undefined,
      slowMs: int(v["slow-ms"], "slow-ms"),
      logLiterals: v["log-literals"] === true,
    });
    const token = await resolveToken({ file: str(v["token-file"]) || undefined, token: str(v.token) || undefined });
    const allow = Array.isArray(v["ingest-allow"]) ? v["ingest-allow"].map(String) : [];
    const server = serve(olap, {
      port: int(v.port, "port"),
      hostname: str(v.host),
      token,
      maxBodyBytes: int(v["max-body-bytes"], "max-body-bytes"),
      maxSqlChars: int(v["max-sql-chars"], "max-sql-chars"),
      ingestAllow: allow,
    });
    if (str(v.token)) {
      console.error("warning: --token shows in ps and in deno task's echo; prefer --token-file or MERCURY_OLAP_TOKEN");
    }
    // The banner never shows the token itself.
    ctx.print(
      `olap API and UI on ${server.url} (${(await olap.tables()).length} tables; ${
        token ? "writes with the token" : "read-only"
      })`,
    );
    const stop = async () => {
      await server.shutdown();
      await olap.close();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await server.finished;
  },
};

/** `query`: one query, answer on standard output. */
export const queryCommand: CommandSpec = {
  summary: "run one query against the catalog and print the answer",
  usage: "<sql>",
  options: {
    ...dataDir,
    format: { type: "string", value: "FMT", description: "json, ndjson, csv, parquet, arrow or xlsx", default: "csv" },
    explain: { type: "boolean", description: "print the profile tree instead (runs the query)" },
  },
  async run(args, ctx) {
    const sql = args.positionals.join(" ");
    if (!sql) throw new MercuryError("usage", "query needs <sql>");
    // stallMs 0: stdout piped into a pager may be read slowly, and this process holds no one else's connection.
    const olap = await Olap.open({ dataDir: str(args.values["data-dir"]), stallMs: 0 });
    try {
      if (args.values.explain) {
        ctx.print((await olap.explain(sql, { analyze: true })).text);
        return;
      }
      const a = await olap.query(sql, { format: parseFormat(str(args.values.format)) });
      const body = a.body instanceof Uint8Array ? ReadableStream.from([a.body]) : a.body;
      await body.pipeTo(Deno.stdout.writable, { preventClose: true });
    } finally {
      await olap.close();
    }
  },
};

/** `tables`: the catalog. */
export const tablesCommand: CommandSpec = {
  summary: "list the catalog's tables with versions, rows, files and partitions",
  options: { ...dataDir },
  async run(args, ctx) {
    const olap = await Olap.open({ dataDir: str(args.values["data-dir"]) });
    try {
      for (const t of await olap.tables()) {
        ctx.print(
          `${t.name}\tv${t.version}\t${t.rows} rows\t${t.files} files\t${t.partitions} partitions\t${t.storage}\t${t.source}`,
        );
      }
    } finally {
      await olap.close();
    }
  },
};

/** `compact`: merge a table's small files. */
export const compactCommand: CommandSpec = {
  summary: "rewrite a table's files into one sorted file per partition",
  usage: "<table>",
  options: { ...dataDir },
  async run(args, ctx) {
    const [table] = args.positionals;
    if (!table) throw new MercuryError("usage", "compact needs <table>");
    const olap = await Olap.open({ dataDir: str(args.values["data-dir"]), restrictFiles: false });
    try {
      const t = await olap.compact(table);
      ctx.print(`${table}: version ${t.version}, ${t.files} files`);
    } finally {
      await olap.close();
    }
  },
};

/** `rollup`: declare a rollup, or list suggestions. */
export const rollupCommand: CommandSpec = {
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
  async run(args, ctx) {
    const [name] = args.positionals;
    const v = args.values;
    if (!name || !str(v.table) || !str(v.dims)) {
      throw new MercuryError("usage", "rollup needs <name> --table T --dims a,b");
    }
    const measures = str(v.measures).split(",").filter(Boolean).map((m) => {
      const [agg, column] = m.split(":");
      return { agg, column } as Measure;
    });
    const olap = await Olap.open({ dataDir: str(v["data-dir"]), restrictFiles: false });
    try {
      const spec = checkRollup({ name, table: str(v.table), dimensions: str(v.dims).split(","), measures });
      const t = await olap.declareRollup(spec);
      ctx.print(`rollup ${name}: ${t.rows} rows in ${t.name}`);
    } finally {
      await olap.close();
    }
  },
};
