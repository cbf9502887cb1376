/**
 * One URI syntax for every source the quality engine validates, each read by
 * DuckDB into a view named `src` over an in-memory connection:
 *
 * | URI | read by |
 * | --- | --- |
 * | `data.parquet`, `dir/*.parquet`, `dir/` (Hive partitions) | `read_parquet(…, hive_partitioning)` |
 * | `data.csv`, `data.tsv`, `*.csv.gz` | `read_csv` (tab for `.tsv`) |
 * | `data.json`, `data.ndjson`, `data.jsonl` | `read_json_auto` |
 * | `data.arrow`, `data.arrows`, `data.feather` | apache-arrow record batches → DuckDB, batch by batch (no bundled IPC reader) |
 * | `data.xlsx` (`?sheet=name`) | exceljs → DuckDB appender (columns re-typed after loading) |
 * | `duckdb:file.db?table=t` or `file.duckdb?table=t` | `attach (read_only)` |
 * | `postgres://user@host:port/db?table=s.t` / `?query=select …` | `postgres` cursor in batches → DuckDB appender |
 * | `kafka://topic?sample=1000` (JSON values) | kafkajs consumer from the beginning → NDJSON stage |
 * | `olap:table[?dir=.mercury/olap]` | the olap catalog's current version of the table (its own view statements) |
 * | `features:view[?project=p&env=dev&root=.mercury/features/offline]` | the feature view's offline Parquet |
 * | `csv:path`, `parquet:path`, `json:path` | the named reader, whatever the extension |
 *
 * Rows never pass through JavaScript for file sources; PostgreSQL, Excel and
 * Kafka rows pass through in bounded batches only.
 *
 * @module
 */
import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import type { DataFingerprint, SourceRef } from "../types.ts";
import { loadExcel, loadKafka, loadPostgres } from "./_loaders.ts";

/** A column of the source as DuckDB types it. */
export interface SourceColumn {
  name: string;
  type: string;
}

/** An open source: a DuckDB connection where the view `src` reads it. */
export interface OpenedSource extends AsyncDisposable {
  conn: DuckDBConnection;
  /** SQL that names the relation (`src`). */
  relation: string;
  /** The URI as given, credentials removed. */
  uri: string;
  kind: string;
  columns: SourceColumn[];
  /** The files read, for the fingerprint's size. */
  files: string[];
  /** Counts rows and sizes/hashes the files. */
  fingerprint(rowCount?: number): Promise<DataFingerprint>;
  close(): Promise<void>;
}

/** Options of {@linkcode openSource}. */
export interface OpenSourceOptions {
  /** Rows of a Kafka topic to sample (default 1000). */
  sample?: number;
  /** Rows per batch from PostgreSQL (default 10 000). */
  batchSize?: number;
  /** Use this connection instead of a fresh in-memory one (it is not closed). */
  conn?: DuckDBConnection;
  /** View name (default `src`). */
  view?: string;
  /** DuckDB settings of a fresh instance. */
  config?: Record<string, string>;
}

/** Removes a password from a URI for messages and fingerprints. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

const FILE_KINDS: [RegExp, string][] = [
  [/\.(parquet|pq)$/i, "parquet"],
  [/\.tsv(\.gz)?$/i, "tsv"],
  [/\.(csv|txt)(\.gz|\.zst)?$/i, "csv"],
  [/\.(ndjson|jsonl)(\.gz)?$/i, "ndjson"],
  [/\.json(\.gz)?$/i, "json"],
  [/\.(arrow|arrows|feather|ipc)$/i, "arrow"],
  [/\.xlsx$/i, "excel"],
  [/\.(duckdb|ddb|db)$/i, "duckdb"],
];

/** Tells the kind of a source URI: `parquet`, `csv`, `postgres`, `kafka`, … */
export function sourceKind(uri: string): string {
  const scheme = /^([a-z][a-z0-9+]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") return "postgres";
  if (scheme === "kafka") return "kafka";
  if (scheme === "olap") return "olap";
  if (scheme === "features") return "features";
  if (scheme && ["csv", "tsv", "parquet", "json", "ndjson", "arrow", "excel", "duckdb"].includes(scheme)) return scheme;
  const path = uri.replace(/^file:\/\//, "").replace(/\?.*$/, "");
  for (const [re, kind] of FILE_KINDS) if (re.test(path)) return kind;
  if (path.endsWith("/") || !/\.[a-z0-9]+$/i.test(path)) return "parquet"; // a folder: Hive-partitioned Parquet
  throw new MercuryError("usage", `cannot tell how to read ${uri}`, {
    where: "--source",
    hint:
      "use a .parquet/.csv/.tsv/.json/.ndjson/.arrow/.xlsx/.duckdb file, a folder, postgres://…?table=s.t, kafka://topic, or prefix the reader (csv:path)",
  });
}

function splitQuery(uri: string): { path: string; params: URLSearchParams } {
  const i = uri.indexOf("?");
  return i < 0
    ? { path: uri, params: new URLSearchParams() }
    : { path: uri.slice(0, i), params: new URLSearchParams(uri.slice(i + 1)) };
}

function stripScheme(path: string): string {
  return path.replace(/^(csv|tsv|parquet|json|ndjson|arrow|excel|duckdb):/i, "").replace(/^file:\/\//, "");
}

async function expandFiles(path: string): Promise<string[]> {
  if (/[*?[]/.test(path)) return [path];
  try {
    const st = await Deno.stat(path);
    return [st.isDirectory ? `${path.replace(/\/$/, "")}/**/*` : path];
  } catch {
    throw new MercuryError("not_found", `no such file or folder: ${path}`, {
      where: "--source",
      hint: "check the path (globs such as data/*.parquet are allowed)",
    });
  }
}

/**
 * Opens a source; the caller closes it. Unreadable or mislabelled files are
 * `input` errors (exit 65), missing files `not_found` (66), an unreachable
 * service `unavailable` (69).
 *
 * @example
 * ```ts
 * import { openSource } from "@mercury/quality/sources";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "id,name\n1,a\n2,b\n");
 * await using src = await openSource(path);
 * assert.deepEqual(src.columns.map((c) => c.name), ["id", "name"]);
 * ```
 */
export async function openSource(ref: SourceRef, options: OpenSourceOptions = {}): Promise<OpenedSource> {
  const uri = typeof ref === "string" ? ref : ref.uri;
  const kind = sourceKind(uri);
  const { path: rawPath, params } = splitQuery(uri);
  return await openView(options, redactUri(uri), kind, uri, async (c, view) => {
    let files: string[] = [];
    const v = quoteIdent(view);
    if (kind === "postgres") {
      await loadPostgres(c, uri, view, { batchSize: options.batchSize ?? 10_000 });
    } else if (kind === "kafka") {
      await loadKafka(c, uri, view, { sample: Number(params.get("sample") ?? options.sample ?? 1000) });
    } else if (kind === "olap") {
      await loadOlap(c, rawPath.replace(/^olap:/i, ""), params.get("dir") ?? ".mercury/olap", view);
    } else if (kind === "features") {
      files = [await featuresGlob(rawPath.replace(/^features:/i, ""), params)];
      await c.run(
        `create or replace temp view ${v} as select * from read_parquet(${
          quoteLiteral(files[0]!)
        }, hive_partitioning = true, union_by_name = true)`,
      );
    } else {
      const path = stripScheme(rawPath);
      files = await expandFiles(path);
      const lit = quoteLiteral(files[0]!);
      let rel: string;
      switch (kind) {
        case "parquet":
          rel = `read_parquet(${lit}, hive_partitioning = true, union_by_name = true)`;
          break;
        case "csv":
          rel = `read_csv(${lit}, auto_detect = true, hive_partitioning = ${files[0]!.includes("*")})`;
          break;
        case "tsv":
          rel = `read_csv(${lit}, auto_detect = true, delim = '\t')`;
          break;
        case "json":
        case "ndjson":
          rel = `read_json_auto(${lit})`;
          break;
        case "arrow":
          rel = await stageArrow(c, files[0]!, view);
          break;
        case "excel":
          await loadExcel(c, files[0]!, view, params.get("sheet") ?? undefined);
          rel = `${v}`;
          break;
        case "duckdb": {
          const table = params.get("table");
          if (!table) {
            throw new MercuryError("usage", `a DuckDB source needs ?table=name: ${uri}`, {
              where: "--source",
              hint: "e.g. duckdb:warehouse.db?table=main.orders",
            });
          }
          await c.run(`attach ${lit} as quality_src_db (read_only)`);
          rel = `quality_src_db.${table.split(".").map(quoteIdent).join(".")}`;
          break;
        }
        default:
          throw new MercuryError("usage", `unsupported source kind ${kind}`, { where: uri });
      }
      if (kind !== "excel") await c.run(`create or replace temp view ${v} as select * from ${rel}`);
    }
    return files;
  });
}

/** A connection (the caller's, or a new in-memory DuckDB closed with the source) and the view `build` makes there. */
async function openView(
  options: OpenSourceOptions,
  label: string,
  kind: string,
  errorName: string,
  build: (c: DuckDBConnection, view: string) => Promise<string[]>,
): Promise<OpenedSource> {
  const view = options.view ?? "src";
  let instance: DuckDBInstance | undefined;
  let conn = options.conn;
  if (!conn) {
    instance = await DuckDBInstance.create(":memory:", options.config);
    conn = await instance.connect();
  }
  const c = conn;
  const close = () => {
    if (instance) {
      c.closeSync();
      instance.closeSync();
      instance = undefined;
    }
    return Promise.resolve();
  };
  try {
    const files = await build(c, view);
    const described = await c.runAndReadAll(`describe select * from ${quoteIdent(view)}`);
    const columns = described.getRowObjects().map((r) => ({
      name: String(r.column_name),
      type: String(r.column_type),
    }));
    return {
      conn: c,
      relation: quoteIdent(view),
      uri: label,
      kind,
      columns,
      files,
      async fingerprint(rowCount?: number): Promise<DataFingerprint> {
        const n = rowCount ?? Number(
          (await c.runAndReadAll(`select count(*) as n from ${quoteIdent(view)}`)).getRowObjects()[0]!.n,
        );
        const fp: DataFingerprint = { source: label, kind, row_count: n };
        const plain = files.filter((f) => !/[*?[]/.test(f));
        if (plain.length === 1) {
          const st = await Deno.stat(plain[0]!);
          fp.bytes = st.size;
          if (st.size <= 256 * 1024 * 1024) {
            const buf = await Deno.readFile(plain[0]!);
            const h = await crypto.subtle.digest("SHA-256", buf);
            fp.hash = [...new Uint8Array(h)].map((b) => b.toString(16).padStart(2, "0")).join("");
          }
        }
        return fp;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close();
    throw asSourceError(err, errorName);
  }
}

/**
 * Opens a SQL relation (e.g. the features plugin's `read_parquet(…)` of a
 * view's offline data, or an olap table) as a source named `label`.
 */
export function openRelation(
  relation: string,
  label: string,
  options: OpenSourceOptions = {},
): Promise<OpenedSource> {
  return openView(options, label, "relation", label, async (c, view) => {
    await c.run(`create or replace temp view ${quoteIdent(view)} as select * from ${relation}`);
    return [];
  });
}

/** An olap catalog table as the view: the catalog's own statements, then `select *`. */
async function loadOlap(c: DuckDBConnection, table: string, dir: string, view: string): Promise<void> {
  try {
    await Deno.stat(`${dir}/catalog.json`);
  } catch {
    throw new MercuryError("not_found", `no olap catalog in ${dir}`, {
      where: `olap:${table}`,
      hint: "give the catalog's folder with ?dir=… (deno task mercury olap tables lists its tables)",
    });
  }
  const { Catalog } = await import("@mercury/olap");
  const catalog = await Catalog.open(dir);
  try {
    const t = await catalog.table(table).catch((err: Error) => {
      throw new MercuryError("not_found", `olap table ${table} does not exist in ${dir}`, {
        where: `olap:${table}`,
        hint: "deno task mercury olap tables lists them",
        cause: err,
      });
    });
    for (const st of catalog.viewStatements(t)) await c.run(st);
    await c.run(`create or replace temp view ${quoteIdent(view)} as select * from ${quoteIdent(table)}`);
  } finally {
    await catalog.close();
  }
}

/** The offline Parquet glob of a feature view (`<root>/<project>/<env>/<view>/…`). */
async function featuresGlob(viewName: string, params: URLSearchParams): Promise<string> {
  const root = params.get("root") ?? ".mercury/features/offline";
  const env = params.get("env") ?? "dev";
  let project = params.get("project");
  if (!project) {
    const found: string[] = [];
    try {
      for await (const e of Deno.readDir(root)) {
        if (e.isDirectory && await Deno.stat(`${root}/${e.name}/${env}/${viewName}`).then(() => true, () => false)) {
          found.push(e.name);
        }
      }
    } catch { /* no root: reported below */ }
    if (found.length !== 1) {
      throw new MercuryError(
        found.length ? "usage" : "not_found",
        `feature view ${viewName} ${
          found.length ? `is in several projects (${found.join(", ")})` : `has no offline data under ${root}`
        }`,
        {
          where: `features:${viewName}`,
          hint: found.length ? "add ?project=name" : "materialise or compute the view first, or give ?root=…",
        },
      );
    }
    project = found[0]!;
  }
  return `${root}/${project}/${env}/${viewName}/*/*.parquet`;
}

/** Maps a DuckDB failure to one line naming the source. */
export function asSourceError(err: unknown, uri: string): MercuryError {
  if (err instanceof MercuryError) return err;
  const msg = (err as Error).message?.split("\n")[0] ?? String(err);
  const missing = /No files found|does not exist|No such file|cannot open file/i.test(msg);
  return new MercuryError(missing ? "not_found" : "input", `cannot read ${redactUri(uri)}: ${msg}`, {
    where: redactUri(uri),
    hint: missing ? "check the path" : "check that the file's contents match its extension",
    cause: err,
  });
}

/**
 * Arrow IPC: DuckDB has no bundled IPC reader, so apache-arrow reads the file
 * batch by batch and each batch goes to a Parquet stage through DuckDB.
 */
async function stageArrow(c: DuckDBConnection, path: string, view: string): Promise<string> {
  const { RecordBatchReader } = await import("apache-arrow");
  const table = `${view}_arrow`;
  const file = await Deno.open(path);
  let created = false;
  try {
    const reader = await RecordBatchReader.from(file.readable);
    for await (const batch of reader) {
      const cols = batch.schema.fields.map((f) => f.name);
      const rows: string[] = [];
      for (let i = 0; i < batch.numRows; i++) {
        const r: Record<string, unknown> = {};
        for (const name of cols) {
          const v = batch.getChild(name)?.get(i);
          r[name] = typeof v === "bigint" ? Number(v) : v instanceof Date ? v.toISOString() : v;
        }
        rows.push(JSON.stringify(r));
      }
      const tmp = await Deno.makeTempFile({ suffix: ".ndjson" });
      await Deno.writeTextFile(tmp, rows.join("\n"));
      if (!created) {
        await c.run(`create temp table ${quoteIdent(table)} as select * from read_json_auto(${quoteLiteral(tmp)})`);
        created = true;
      } else {
        await c.run(`insert into ${quoteIdent(table)} by name select * from read_json_auto(${quoteLiteral(tmp)})`);
      }
      await Deno.remove(tmp);
    }
  } catch (err) {
    throw new MercuryError("input", `cannot read ${path} as Arrow IPC: ${(err as Error).message}`, {
      where: path,
      hint: "check that the file is an Arrow IPC file or stream",
      cause: err,
    });
  }
  if (!created) throw new MercuryError("input", `${path} holds no record batch`, { where: path });
  return quoteIdent(table);
}
