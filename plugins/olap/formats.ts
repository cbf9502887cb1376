/**
 * Result formats: JSON, NDJSON, CSV, Parquet, Arrow IPC stream and Excel
 * xlsx. Every encoder pulls the result chunk by chunk, so memory stays bounded
 * however many rows there are. CSV, NDJSON and Parquet are written by DuckDB's
 * own `COPY` into a named pipe that the response reads as DuckDB writes it
 * ({@linkcode copyStream}); so are JSON answers, as one line of JSON text per
 * row ({@linkcode jsonCopyStream}), when every column's type has an exact
 * DuckDB expression ({@linkcode jsonRowsSql}); otherwise JSON is encoded here
 * value by value, like Arrow and xlsx.
 *
 * @example Encode a result as the JSON envelope
 * ```ts
 * import { DuckDBExecutor, encode } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const ex = await DuckDBExecutor.create({ concurrency: 1 });
 * const qs = await ex.stream("select 1 as a, 'x' as b");
 * const body = JSON.parse(await new Response(encode("json", qs)).text());
 * assert.deepEqual(body.rows, [[1, "x"]]);
 * assert.deepEqual(body.columns.map((c: { name: string }) => c.name), ["a", "b"]);
 * await ex.close();
 * ```
 *
 * @module
 */
import { type DuckDBDataChunk, DuckDBTypeId, JSDuckDBValueConverter } from "@duckdb/node-api";
import { RecordBatchStreamWriter } from "apache-arrow";
import ExcelJS from "exceljs";
import { PassThrough, Readable } from "node:stream";
import { join } from "node:path";
import { arrowSchema, chunksToArrow, typeIdOf } from "./arrow.ts";
import { classifyError, OlapError } from "./errors.ts";
import type { ColumnInfo, Executor, Params, QueryStream, RunOptions } from "./executor.ts";
import { toValues } from "./executor.ts";

/** Formats `POST /query` answers in. */
export type Format = "json" | "ndjson" | "csv" | "parquet" | "arrow" | "xlsx";

/** Content types by format. */
export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: "application/json",
  ndjson: "application/x-ndjson",
  csv: "text/csv; charset=utf-8",
  parquet: "application/vnd.apache.parquet",
  arrow: "application/vnd.apache.arrow.stream",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

/** File extensions by format, for downloads. */
export const EXTENSIONS: Readonly<Record<Format, string>> = {
  json: "json",
  ndjson: "ndjson",
  csv: "csv",
  parquet: "parquet",
  arrow: "arrows",
  xlsx: "xlsx",
};

/** Formats written by DuckDB's `COPY` into a pipe. */
export const COPY_FORMATS: ReadonlySet<Format> = new Set(["csv", "ndjson", "parquet"]);

/** Checks a format name from a request. */
export function parseFormat(f: unknown): Format {
  const v = f ?? "json";
  if (typeof v !== "string" || !(v in CONTENT_TYPES)) {
    throw new OlapError(
      400,
      "bad_format",
      `format "${String(v)}" is not one of ${Object.keys(CONTENT_TYPES).join(", ")}`,
    );
  }
  return v as Format;
}

const enc = new TextEncoder();

/** JSON-safe value: bigints as numbers when exact (else strings), dates as ISO text. */
export function jsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return btoa(String.fromCharCode(...v));
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonValue(x)]));
  }
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v;
}

/** Types whose raw vector items are already JSON values (bigints aside): read without the value converter. */
const PLAIN = new Set<DuckDBTypeId>([
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
]);

/** A chunk's rows as JSON-ready arrays, column by column (about twice as fast as converting every value). */
function rowsOf(chunk: DuckDBDataChunk): unknown[][] {
  const n = chunk.rowCount;
  const cols: unknown[][] = [];
  for (let i = 0; i < chunk.columnCount; i++) {
    const v = chunk.getColumnVector(i);
    if (PLAIN.has(v.type.typeId)) {
      const a = new Array(n);
      for (let r = 0; r < n; r++) {
        const x = v.getItem(r);
        a[r] = typeof x === "bigint" || (typeof x === "number" && !Number.isFinite(x)) ? jsonValue(x) : x;
      }
      cols.push(a);
    } else cols.push(chunk.convertColumnValues(i, JSDuckDBValueConverter).map(jsonValue));
  }
  const rows = new Array<unknown[]>(n);
  for (let r = 0; r < n; r++) rows[r] = cols.map((c) => c[r]);
  return rows;
}

/** A byte stream pulled from an async generator; cancelling it stops the query. */
function pull(gen: AsyncGenerator<Uint8Array>, close: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const { value, done } = await gen.next();
        if (done) {
          close();
          ctl.close();
        } else ctl.enqueue(value);
      } catch (err) {
        close();
        ctl.error(err);
      }
    },
    async cancel() {
      close();
      await gen.return(undefined);
    },
  }, { highWaterMark: 2 });
}

/** Encodes a streaming result as `format` (json, ndjson, arrow or xlsx; csv/parquet via {@linkcode copyStream}). */
export function encode(
  format: Format,
  qs: QueryStream,
  extra: Record<string, unknown> = {},
): ReadableStream<Uint8Array> {
  switch (format) {
    case "json":
      return pull(jsonChunks(qs, extra), qs.close);
    case "ndjson":
      return pull(ndjsonChunks(qs), qs.close);
    case "csv":
      return pull(csvChunks(qs), qs.close);
    case "arrow":
      return pull(arrowChunks(qs), qs.close);
    case "xlsx":
      return xlsxStream(qs);
    case "parquet":
      throw new OlapError(500, "internal", "parquet is written by copyStream");
  }
}

const MAX_SAFE = "9007199254740991";

/**
 * A DuckDB expression that gives column `col` (an identifier) of type `type` as the JSON text (a VARCHAR; NULL for
 * null) of the value {@linkcode jsonValue} gives it on the JS path, or undefined when there is none for that type
 * (then the JS path encodes the answer). Plain casts and concatenation, not DuckDB's JSON functions: building rows
 * with `json_array`/`to_json` on every column ran at about a third of this speed.
 */
export function jsonExpr(col: string, type: string): string | undefined {
  if (/^(BOOLEAN|TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|UINTEGER)$/.test(type)) return `${col}::varchar`;
  if (type === "VARCHAR") return `to_json(${col})::varchar`;
  if (/^(BIGINT|UBIGINT|HUGEINT|UHUGEINT)$/.test(type)) {
    // Exact integers stay numbers; past 2^53 they are strings (jsonValue).
    return `case when ${col} between -${MAX_SAFE} and ${MAX_SAFE} then ${col}::varchar else '"' || ${col} || '"' end`;
  }
  if (/^(DOUBLE|FLOAT|DECIMAL\(\d+,\d+\))$/.test(type)) {
    // FLOAT and DECIMAL widen to DOUBLE as the JS converter does; non-finite doubles are strings (jsonValue);
    // + 0.0 turns -0 into 0, as JSON.stringify does.
    const d = `${col}::double`;
    return `case when ${col} is null then null when isfinite(${d}) then (${d} + 0.0)::varchar ` +
      `when isnan(${d}) then '"NaN"' when ${d} > 0 then '"Infinity"' else '"-Infinity"' end`;
  }
  if (type === "UUID" || type.startsWith("ENUM(")) return `to_json(${col}::varchar)::varchar`;
  // JS Dates print as ISO 8601 in UTC with milliseconds.
  const iso = (ts: string) => `'"' || strftime(${ts}, '%Y-%m-%dT%H:%M:%S.%gZ') || '"'`;
  if (type === "DATE") return `case when isfinite(${col}) then ${iso(`${col}::timestamp`)} end`;
  if (type === "TIMESTAMP") return `case when isfinite(${col}) then ${iso(col)} end`;
  if (type === "TIMESTAMP WITH TIME ZONE") {
    return `case when isfinite(${col}) then ${iso(`timezone('UTC', ${col})`)} end`;
  }
  return undefined;
}

/**
 * `sql` rewritten to answer one VARCHAR column holding each row as a JSON array (written by DuckDB), or undefined
 * when a column's type has no {@linkcode jsonExpr}. Columns are renamed by position, so duplicate names are fine.
 */
export function jsonRowsSql(sql: string, columns: readonly ColumnInfo[]): string | undefined {
  if (columns.length === 0) return undefined;
  const exprs: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const e = jsonExpr(`c${i}`, columns[i]!.type);
    if (e === undefined) return undefined;
    exprs.push(`coalesce(${e}, 'null')`);
  }
  return `select '[' || concat_ws(',', ${exprs.join(", ")}) || ']' as row from (${sql}) as q(${
    columns.map((_, i) => `c${i}`).join(", ")
  })`;
}

async function* jsonChunks(qs: QueryStream, extra: Record<string, unknown>): AsyncGenerator<Uint8Array> {
  let n = 0;
  let buf = `{"columns":${JSON.stringify(qs.columns)},"rows":[`;
  for await (const chunk of qs.chunks) {
    for (const r of rowsOf(chunk)) {
      buf += (n++ ? "," : "") + JSON.stringify(r);
    }
    if (buf.length > 1 << 16) {
      yield enc.encode(buf);
      buf = "";
    }
  }
  buf += `],"rowCount":${n}`;
  for (const [k, v] of Object.entries(extra)) buf += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  yield enc.encode(buf + "}");
}

async function* ndjsonChunks(qs: QueryStream): AsyncGenerator<Uint8Array> {
  const names = qs.columns.map((c) => c.name);
  for await (const chunk of qs.chunks) {
    let buf = "";
    for (const r of rowsOf(chunk)) {
      const o: Record<string, unknown> = {};
      names.forEach((n, i) => (o[n] = r[i]));
      buf += JSON.stringify(o) + "\n";
    }
    yield enc.encode(buf);
  }
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function* csvChunks(qs: QueryStream): AsyncGenerator<Uint8Array> {
  yield enc.encode(qs.columns.map((c) => csvCell(c.name)).join(",") + "\n");
  for await (const chunk of qs.chunks) {
    let buf = "";
    for (const r of rowsOf(chunk)) buf += r.map(csvCell).join(",") + "\n";
    yield enc.encode(buf);
  }
}

async function* arrowChunks(qs: QueryStream): AsyncGenerator<Uint8Array> {
  const names = qs.columns.map((c) => c.name);
  // Each batch is serialised on its own and framed into one IPC stream: the schema message once,
  // then record batch messages, then the end-of-stream marker. Memory holds one batch at a time.
  let schemaLen = -1;
  for await (const batch of chunksToArrow(qs.chunks, names)) {
    const one = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
    if (schemaLen < 0) {
      const two = RecordBatchStreamWriter.writeAll([batch, batch]).toUint8Array(true);
      schemaLen = one.length - (two.length - one.length) - 8;
      yield one.subarray(0, one.length - 8);
    } else {
      yield one.subarray(schemaLen, one.length - 8);
    }
  }
  if (schemaLen < 0) {
    // No rows: a stream with the schema only.
    const empty = new RecordBatchStreamWriter();
    empty.reset(undefined, arrowSchema(names, qs.columns.map((c) => typeIdOf(c.type))));
    yield empty.finish().toUint8Array(true);
    return;
  }
  yield new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
}

function xlsxStream(qs: QueryStream): ReadableStream<Uint8Array> {
  const pass = new PassThrough();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: pass, useStyles: true, useSharedStrings: false });
  const ws = wb.addWorksheet("result");
  ws.columns = qs.columns.map((c) => ({ header: c.name, key: c.name, width: Math.max(10, c.name.length + 2) }));
  ws.getRow(1).font = { bold: true };
  (async () => {
    try {
      for await (const chunk of qs.chunks) {
        for (const r of chunk.convertRows(JSDuckDBValueConverter)) {
          ws.addRow(r.map((v) => (typeof v === "bigint" ? Number(v) : v instanceof Date ? v : jsonValue(v)))).commit();
        }
      }
      ws.commit();
      await wb.commit();
    } catch (err) {
      pass.destroy(err as Error);
    } finally {
      qs.close();
    }
  })();
  return Readable.toWeb(pass) as unknown as ReadableStream<Uint8Array>;
}

/**
 * Streams `sql` as CSV, NDJSON or Parquet written by DuckDB's `COPY` into a
 * named pipe. Errors found before the first byte (binding, parameters) throw;
 * later ones (a timeout mid-stream) end the stream with an error.
 */
export async function copyStream(
  executor: Executor,
  sql: string,
  format: Format,
  options: RunOptions & { dir?: string; copyOptions?: string } = {},
): Promise<ReadableStream<Uint8Array>> {
  const fifo = await fifos.acquire(options.dir ?? Deno.env.get("TMPDIR") ?? "/tmp");
  const copyOpts = options.copyOptions ??
    (format === "csv"
      ? "format csv, header true"
      : format === "ndjson"
      ? "format json"
      : "format parquet, compression zstd");
  const copy = `copy (${sql}) to '${fifo}' (${copyOpts}, use_tmp_file false)`;
  let readerOpen = false;
  const reader = Deno.open(fifo, { read: true }).then((f) => {
    readerOpen = true;
    return f;
  });
  // The pipe goes back to the pool once its COPY is over (never while a writer may still hold it).
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await failedEarly;
    fifos.release(fifo);
  };
  const query = executor.withConnection(async (c) => {
    await c.run(copy, toValues(options.params));
  }, options);
  // If COPY fails before it opens the pipe, open it ourselves so the reader wakes up with EOF.
  const failedEarly = query.then(() => undefined, async (err) => {
    if (!readerOpen) {
      const w = await Deno.open(fifo, { write: true });
      w.close();
    }
    return err as Error;
  });
  const file = await reader;
  // Wait for the first bytes (or the end): an error before them (binding, a timeout or cancel while the first
  // rows are computed) is thrown here, so it becomes a proper 4xx rather than a cut-off 200.
  const buf = new Uint8Array(1 << 20);
  const firstRead = file.read(buf.subarray(0, 65_536)).catch(() => null);
  const first = await Promise.race([firstRead.then((k) => ({ k })), failedEarly.then((e) => ({ e }))]);
  // The end before any byte: the COPY is over (or failed: a timeout closes the pipe too); its outcome decides.
  const early = "e" in first ? first.e : first.k === null ? await failedEarly : undefined;
  if (early) {
    file.close();
    await cleanup();
    throw classifyError(early, options.params);
  }
  const firstBytes = "k" in first ? first.k : await firstRead;
  let filledAhead = firstBytes ?? 0;
  let eofAhead = firstBytes === null;
  let closed = false;
  const closeFile = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        // A pipe hands over at most 64 KiB a read; gather ~1 MiB per chunk so the HTTP layer's per-chunk cost
        // is paid 16 times less often.
        let filled = filledAhead;
        let eof = eofAhead;
        filledAhead = 0;
        eofAhead = false;
        while (!eof && filled < buf.length - 65_536) {
          const k = await file.read(buf.subarray(filled));
          if (k === null) {
            eof = true;
            break;
          }
          filled += k;
        }
        if (filled > 0) ctl.enqueue(buf.slice(0, filled));
        if (!eof) return;
        closeFile();
        const err = await failedEarly;
        await cleanup();
        if (err) ctl.error(classifyError(err, options.params));
        else ctl.close();
      } catch (err) {
        closeFile();
        await cleanup();
        ctl.error(err);
      }
    },
    async cancel() {
      // The reader going away makes DuckDB's next write fail (EPIPE); interrupt it as well.
      options.signal?.dispatchEvent(new Event("abort"));
      closeFile();
      await failedEarly;
      await cleanup();
    },
  }, { highWaterMark: 0 });
}

/**
 * Named pipes for `COPY`, made a few at a time and reused: spawning `mkfifo` cost about 4 ms per answer (most of
 * a small answer's time), reusing a pipe nothing. A pipe is handed out to one COPY at a time.
 */
class FifoPool {
  #free = new Map<string, string[]>();
  #made = new Map<string, string>();

  async acquire(dir: string): Promise<string> {
    const free = this.#free.get(dir) ?? [];
    this.#free.set(dir, free);
    const got = free.pop();
    if (got) return got;
    let home = this.#made.get(dir);
    if (!home) {
      await Deno.mkdir(dir, { recursive: true });
      home = await Deno.makeTempDir({ prefix: `fifos-${Deno.pid}-`, dir });
      this.#made.set(dir, home);
    }
    const names = Array.from({ length: 4 }, () => join(home, crypto.randomUUID()));
    const mk = await new Deno.Command("mkfifo", { args: names }).output();
    if (!mk.success) throw new OlapError(500, "internal", `mkfifo failed: ${new TextDecoder().decode(mk.stderr)}`);
    free.push(...names.slice(1));
    return names[0]!;
  }

  release(fifo: string): void {
    for (const [dir, home] of this.#made) {
      if (fifo.startsWith(`${home}/`)) this.#free.get(dir)?.push(fifo);
    }
  }

  /** Removes the pipes made under `dir` (when the engine using it closes). */
  async close(dir: string): Promise<void> {
    const home = this.#made.get(dir);
    this.#made.delete(dir);
    this.#free.delete(dir);
    if (home) await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

const fifos = new FifoPool();

/** Removes the named pipes {@linkcode copyStream} made under `dir`. */
export function closePipes(dir: string): Promise<void> {
  return fifos.close(dir);
}

/**
 * Streams `sql`'s answer as the JSON envelope (`columns`, `rows` as arrays, `rowCount`) with every row written by
 * DuckDB ({@linkcode jsonRowsSql}) and copied into a pipe as one line each: JS only turns line ends into commas.
 * Undefined when a column's type has no DuckDB expression (use {@linkcode encode}).
 */
export async function jsonCopyStream(
  executor: Executor,
  sql: string,
  columns: readonly ColumnInfo[],
  options: RunOptions & { dir?: string } = {},
): Promise<ReadableStream<Uint8Array> | undefined> {
  const rowsSql = jsonRowsSql(sql, columns);
  if (!rowsSql) return undefined;
  // One VARCHAR column whose JSON text holds no raw newline or control character: DuckDB's CSV writer still wraps
  // some values in its quote character (here \u0001), which is dropped below.
  const body = await copyStream(executor, rowsSql, "json", {
    ...options,
    copyOptions: "format csv, header false, delim '\t', quote '\u0001', escape '\u0001'",
  });
  let n = 0;
  let comma = false;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start(ctl) {
        ctl.enqueue(enc.encode(`{"columns":${JSON.stringify(columns)},"rows":[`));
      },
      transform(chunk, ctl) {
        // Each row ends with a newline: every one becomes the comma before the next row; the last is dropped.
        if (comma) ctl.enqueue(new Uint8Array([44]));
        let j = 0;
        for (let i = 0; i < chunk.length; i++) {
          const b = chunk[i]!;
          if (b === 1) continue;
          if (b === 10) {
            chunk[j++] = 44;
            n++;
          } else chunk[j++] = b;
        }
        comma = j > 0 && chunk[j - 1] === 44;
        ctl.enqueue(chunk.subarray(0, comma ? j - 1 : j));
      },
      flush(ctl) {
        ctl.enqueue(enc.encode(`],"rowCount":${n}}`));
      },
    }),
  );
}

/** Params of a request, re-exported for callers building requests. */
export type { Params };
