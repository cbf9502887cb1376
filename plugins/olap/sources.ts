/**
 * Ingest sources: files (CSV, TSV, Parquet, JSON, NDJSON, Arrow IPC) and
 * PostgreSQL tables, each turned into a DuckDB relation the catalog copies
 * into managed storage. A file that is not what its extension says fails here,
 * before anything is written. Over HTTP, {@linkcode sandboxSource} first keeps
 * file sources inside the data dir and the allowed directories.
 *
 * @example The format follows the extension
 * ```ts
 * import { detectFormat } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * assert.equal(detectFormat("events.ndjson"), "ndjson");
 * assert.equal(detectFormat("s3/part-0.parquet"), "parquet");
 * assert.equal(detectFormat("x.arrows"), "arrow");
 * ```
 *
 * @module
 */
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import type { DuckDBConnection } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { connectPostgres, copyQueryToCsv } from "@mercury/core/services/postgres";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { OlapError } from "./errors.ts";

/** File formats the catalog reads. */
export type FileFormat = "csv" | "tsv" | "parquet" | "json" | "ndjson" | "arrow";

/** Where ingested rows come from. */
export type Source =
  | { file: string; format?: FileFormat }
  | { postgres: string; query?: string };

const EXT: Record<string, FileFormat> = {
  csv: "csv",
  tsv: "tsv",
  parquet: "parquet",
  pq: "parquet",
  json: "json",
  ndjson: "ndjson",
  jsonl: "ndjson",
  arrow: "arrow",
  arrows: "arrow",
  ipc: "arrow",
  feather: "arrow",
};

/** The format an extension names (`.csv`, `.parquet`, `.ndjson`, `.arrow`…). */
export function detectFormat(path: string): FileFormat {
  const ext = path.replace(/\.(gz|zst)$/, "").split(".").pop()?.toLowerCase() ?? "";
  const f = EXT[ext];
  if (!f) {
    throw new OlapError(400, "unknown_format", `cannot tell the format of ${path} from its extension`, {
      where: path,
      hint: `use one of .${Object.keys(EXT).join(", .")} or pass a format`,
    });
  }
  return f;
}

/** Parses `--source` text: a path, or `postgres:schema.table`. */
export function parseSource(text: string, format?: string): Source {
  if (text.startsWith("postgres:")) return { postgres: text.slice("postgres:".length) };
  return { file: text, format: format ? checkFormat(format) : undefined };
}

function checkFormat(f: string): FileFormat {
  if (!Object.values(EXT).includes(f as FileFormat)) {
    throw new OlapError(400, "unknown_format", `format "${f}" is not csv, tsv, parquet, json, ndjson or arrow`);
  }
  return f as FileFormat;
}

/**
 * The sandbox of ingest over HTTP: a file source must lie inside one of
 * `allowed` (the data dir and the `--ingest-allow` directories), after
 * symbolic links are resolved; otherwise a 403 naming the path and the option.
 * PostgreSQL sources are not files and pass. Returns the source with the
 * file's resolved path.
 *
 * @example
 * ```ts
 * import { sandboxSource } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.csv`, "x\n1\n");
 * const ok = await sandboxSource({ file: `${dir}/a.csv` }, [dir]);
 * assert.ok("file" in ok && ok.file.endsWith("/a.csv"));
 * const err = await sandboxSource({ file: "/etc/passwd" }, [dir]).catch((e) => e);
 * assert.equal(err.status, 403);
 * assert.match(err.message, /\/etc\/passwd/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sandboxSource(source: Source, allowed: readonly string[]): Promise<Source> {
  if (!("file" in source)) return source;
  const roots: string[] = [];
  for (const dir of allowed) roots.push(await Deno.realPath(dir).catch(() => resolve(dir)));
  const inside = (p: string) =>
    roots.some((r) => {
      const rel = relative(r, p);
      return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
    });
  const refuse = () =>
    new OlapError(
      403,
      "forbidden",
      `ingest source ${source.file} is outside the data dir and the allowed directories`,
      {
        where: source.file,
        hint: "put the file under the data dir, or start the server with --ingest-allow <dir> (repeatable)",
      },
    );
  // Checked on the path as written first, so a file outside says nothing about whether it exists.
  const written = resolve(source.file);
  const parent = await Deno.realPath(dirname(written)).catch(() => dirname(written));
  if (!inside(written) && !inside(resolve(parent, basename(written)))) throw refuse();
  let real: string;
  try {
    real = await Deno.realPath(written);
  } catch {
    throw new OlapError(404, "no_such_file", `cannot read ${source.file}: no such file`, { where: source.file });
  }
  if (!inside(real)) throw refuse();
  return { ...source, file: real };
}

const q = quoteLiteral;

/** A relation ready to copy, plus what to clean up after. */
export interface Prepared {
  /** A `SELECT` over the source. */
  select: string;
  /** Human description for the catalog. */
  description: string;
  cleanup(): Promise<void>;
}

/**
 * Turns a source into a `SELECT` on `conn`, checking the data really is what
 * its format says (reading the schema and one row). Throws an `OlapError` 400
 * naming the file otherwise.
 */
export async function prepareSource(conn: DuckDBConnection, source: Source): Promise<Prepared> {
  if ("postgres" in source) return await preparePostgres(conn, source);
  const path = source.file;
  try {
    const st = await Deno.stat(path);
    if (!st.isFile) throw new Error("not a file");
  } catch {
    throw new OlapError(404, "no_such_file", `cannot read ${path}: no such file`, { where: path });
  }
  const format = source.format ?? detectFormat(path);
  let select: string;
  let cleanup = () => Promise.resolve();
  switch (format) {
    case "csv":
      select = `select * from read_csv(${q(path)}, header = true, auto_detect = true)`;
      break;
    case "tsv":
      select = `select * from read_csv(${q(path)}, header = true, delim = '\t', auto_detect = true)`;
      break;
    case "parquet":
      select = `select * from read_parquet(${q(path)})`;
      break;
    case "json":
      select = `select * from read_json(${q(path)}, format = 'auto')`;
      break;
    case "ndjson":
      select = `select * from read_json(${q(path)}, format = 'newline_delimited')`;
      break;
    case "arrow": {
      const staged = await stageArrow(path);
      select = `select * from read_json(${q(staged.file)}, format = 'newline_delimited', columns = {${
        staged.columns.map(([n, t]) => `${q(n)}: ${q(t)}`).join(", ")
      }})`;
      cleanup = () => Deno.remove(staged.file).catch(() => {});
      break;
    }
  }
  try {
    await conn.run(`select * from (${select}) limit 1`);
  } catch (err) {
    await cleanup();
    const msg = (err as Error).message.split("\n")[0]!.replace(/^Error: /, "");
    throw new OlapError(400, "bad_file", `${path} is not a readable ${format} file: ${msg}`, {
      where: path,
      hint: `check the file's contents match its .${path.split(".").pop()} extension, or pass the right format`,
      cause: err,
    });
  }
  return { select, description: `${format}:${path}`, cleanup };
}

const ARROW_TO_DUCK: [RegExp, string][] = [
  [/^Int(8|16|32)$/, "INTEGER"],
  [/^Int64$/, "BIGINT"],
  [/^Uint/, "UBIGINT"],
  [/^Float/, "DOUBLE"],
  [/^Bool/, "BOOLEAN"],
  [/^(Utf8|LargeUtf8)$/, "VARCHAR"],
  [/^Date/, "DATE"],
  [/^Timestamp/, "TIMESTAMP"],
  [/^Decimal/, "DOUBLE"],
];

/** Arrow IPC (file or stream format) → an NDJSON staging file DuckDB reads with the Arrow schema's types. */
async function stageArrow(path: string): Promise<{ file: string; columns: [string, string][] }> {
  const bytes = await Deno.readFile(path);
  const isFile = new TextDecoder().decode(bytes.subarray(0, 6)) === "ARROW1";
  const isStream = bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff &&
    bytes[3] === 0xff;
  if (!isFile && !isStream) {
    throw new OlapError(
      400,
      "bad_file",
      `${path} is not an Arrow IPC file or stream (no ARROW1 magic, no continuation)`,
      {
        where: path,
        hint: "check the file's contents match its extension",
      },
    );
  }
  let table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new OlapError(400, "bad_file", `${path} is not a readable Arrow IPC file: ${(err as Error).message}`, {
      where: path,
      cause: err,
    });
  }
  const columns: [string, string][] = table.schema.fields.map((f) => {
    const t = String(f.type);
    const hit = ARROW_TO_DUCK.find(([re]) => re.test(t) || re.test(f.type.constructor.name));
    return [f.name, hit?.[1] ?? "VARCHAR"];
  });
  const file = await Deno.makeTempFile({ prefix: "olap-arrow-", suffix: ".ndjson" });
  const out = await Deno.open(file, { write: true, truncate: true });
  const enc = new TextEncoder();
  try {
    let buf = "";
    for (const row of table) {
      const o = row!.toJSON() as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === "bigint") o[k] = v.toString();
        else if (v instanceof Date) o[k] = v.toISOString();
      }
      // Timestamps arrive as epoch milliseconds numbers; DuckDB's JSON reader takes ISO text.
      for (const [n, t] of columns) {
        if ((t === "TIMESTAMP" || t === "DATE") && typeof o[n] === "number") {
          o[n] = new Date(o[n] as number).toISOString();
        }
      }
      buf += JSON.stringify(o) + "\n";
      if (buf.length > 1 << 20) {
        await out.write(enc.encode(buf));
        buf = "";
      }
    }
    await out.write(enc.encode(buf));
  } finally {
    out.close();
  }
  return { file, columns };
}

const PG_TYPES: Record<number, string> = {
  16: "BOOLEAN",
  20: "BIGINT",
  21: "SMALLINT",
  23: "INTEGER",
  700: "FLOAT",
  701: "DOUBLE",
  1700: "DOUBLE",
  25: "VARCHAR",
  1042: "VARCHAR",
  1043: "VARCHAR",
  1082: "DATE",
  1114: "TIMESTAMP",
  1184: "TIMESTAMPTZ",
  1083: "TIME",
  2950: "UUID",
  114: "VARCHAR",
  3802: "VARCHAR",
};

/** Reads a PostgreSQL table (or query) into a staging CSV ({@linkcode copyQueryToCsv}) with PostgreSQL's types. */
async function preparePostgres(
  conn: DuckDBConnection,
  source: { postgres: string; query?: string },
): Promise<Prepared> {
  await using pg = await connectPostgres({ max: 1 });
  const file = await Deno.makeTempFile({ prefix: "olap-pg-", suffix: ".csv" });
  const where = `postgres:${source.postgres}`;
  try {
    const rel = source.query ?? `select * from ${source.postgres.split(".").map(quoteIdent).join(".")}`;
    let cols;
    try {
      cols = (await pg.sql.unsafe(`select * from (${rel}) as s limit 0`)).columns;
    } catch (err) {
      throw new OlapError(404, "unknown_table", `cannot read ${where}: ${(err as Error).message}`, {
        where,
        hint: "name an existing schema.table",
        cause: err,
      });
    }
    const columns = cols.map((c) => [c.name, PG_TYPES[c.type] ?? "VARCHAR"] as const);
    // Not `COPY … TO STDOUT`: postgres.js 3.4.9's COPY readable can leave the socket paused when the reader is
    // behind (porsager/postgres#499); closing this pool then waited out its 5 s timeout. A cursor read instead.
    await copyQueryToCsv(pg.sql, rel, file);
    const select = `select * from read_csv(${q(file)}, header = true, columns = {${
      columns.map(([n, t]) => `${q(n)}: ${q(t)}`).join(", ")
    }})`;
    await conn.run(`select * from (${select}) limit 1`);
    return { select, description: where, cleanup: () => Deno.remove(file).catch(() => {}) };
  } catch (err) {
    await Deno.remove(file).catch(() => {});
    throw err;
  }
}
