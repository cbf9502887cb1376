/**
 * Result formats: JSON, NDJSON, CSV, Parquet, Arrow IPC stream and Excel
 * xlsx. Every encoder pulls the result chunk by chunk, so memory stays bounded
 * however many rows there are. CSV, NDJSON and Parquet are written by DuckDB's
 * own `COPY` into a named pipe that the response reads as DuckDB writes it
 * ({@linkcode copyStream}); JSON, Arrow and xlsx are encoded here from chunks.
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
import type { Executor, Params, QueryStream, RunOptions } from "./executor.ts";
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
  options: RunOptions & { dir?: string } = {},
): Promise<ReadableStream<Uint8Array>> {
  const dir = await Deno.makeTempDir({ prefix: "olap-pipe-", dir: options.dir });
  const fifo = join(dir, `out.${EXTENSIONS[format]}`);
  const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  if (!mk.success) throw new OlapError(500, "internal", `mkfifo failed: ${new TextDecoder().decode(mk.stderr)}`);
  const copyOpts = format === "csv"
    ? "format csv, header true"
    : format === "ndjson"
    ? "format json"
    : "format parquet, compression zstd";
  const copy = `copy (${sql}) to '${fifo}' (${copyOpts}, use_tmp_file false)`;
  let readerOpen = false;
  const reader = Deno.open(fifo, { read: true }).then((f) => {
    readerOpen = true;
    return f;
  });
  const cleanup = () => Deno.remove(dir, { recursive: true }).catch(() => {});
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
  const first = await Promise.race([
    file.read(new Uint8Array(0)).then(() => undefined),
    failedEarly.then((e) => e),
  ]);
  if (first instanceof Error) {
    file.close();
    await cleanup();
    throw classifyError(first, options.params);
  }
  const buf = new Uint8Array(1 << 20);
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
        let filled = 0;
        let eof = false;
        while (filled < buf.length - 65_536) {
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

/** Params of a request, re-exported for callers building requests. */
export type { Params };
