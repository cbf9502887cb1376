/**
 * DuckDB data chunks → Apache Arrow record batches, without going through JS
 * objects for fixed-width columns: DOUBLE, INTEGER, BIGINT, DATE and TIMESTAMP
 * vectors hand their typed arrays (and validity bitmaps, which share Arrow's
 * bit order) straight to Arrow.
 *
 * @example
 * ```ts
 * import { chunksToArrow } from "@mercury/olap";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import { tableFromIPC, RecordBatchStreamWriter } from "apache-arrow";
 * import assert from "node:assert/strict";
 *
 * const db = await DuckDBInstance.create();
 * const c = await db.connect();
 * const r = await c.stream("select range::int as i, range * 0.5 as x, 'r' || range as s from range(5000)");
 * const batches = [];
 * for await (const b of chunksToArrow(r, r.columnNames(), 4096)) batches.push(b);
 * const t = tableFromIPC(RecordBatchStreamWriter.writeAll(batches).toUint8Array(true));
 * assert.equal(t.numRows, 5000);
 * assert.equal(t.getChild("s")!.get(4999), "r4999");
 * c.closeSync();
 * ```
 *
 * @module
 */
import { type DuckDBDataChunk, DuckDBTypeId, type DuckDBVector, JSDuckDBValueConverter } from "@duckdb/node-api";
import { bytesAtPointer, decimalShape, validBytes, vectorDataView, vectorItems } from "./_duckdb_native.ts";
import {
  Bool,
  type DataType,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
} from "apache-arrow";

type Kind = "f64" | "i32" | "i64" | "date" | "ts" | "bool" | "num" | "dec" | "str" | "utf8";

interface Col {
  kind: Kind;
  type: DataType;
  parts: Uint8Array[] | unknown[][];
}

function kindOf(typeId: DuckDBTypeId): Kind {
  switch (typeId) {
    case DuckDBTypeId.DOUBLE:
      return "f64";
    case DuckDBTypeId.INTEGER:
      return "i32";
    case DuckDBTypeId.BIGINT:
      return "i64";
    case DuckDBTypeId.DATE:
      return "date";
    case DuckDBTypeId.TIMESTAMP:
      return "ts";
    case DuckDBTypeId.BOOLEAN:
      return "bool";
    case DuckDBTypeId.DECIMAL:
      return "dec";
    case DuckDBTypeId.VARCHAR:
      return "utf8";
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
      return "num";
    default:
      return "str";
  }
}

const ARROW_TYPE: Record<Kind, () => DataType> = {
  f64: () => new Float64(),
  i32: () => new Int32(),
  i64: () => new Int64(),
  date: () => new DateDay(),
  ts: () => new TimestampMicrosecond(),
  bool: () => new Bool(),
  num: () => new Float64(),
  dec: () => new Float64(),
  str: () => new Utf8(),
  utf8: () => new Utf8(),
};

/** The DuckDB type id for a type name as `DuckDBType.toString()` prints it (for empty results). */
export function typeIdOf(name: string): DuckDBTypeId {
  const base = name.replace(/\(.*$/, "").toUpperCase();
  const map: Record<string, DuckDBTypeId> = {
    DOUBLE: DuckDBTypeId.DOUBLE,
    INTEGER: DuckDBTypeId.INTEGER,
    BIGINT: DuckDBTypeId.BIGINT,
    DATE: DuckDBTypeId.DATE,
    TIMESTAMP: DuckDBTypeId.TIMESTAMP,
    BOOLEAN: DuckDBTypeId.BOOLEAN,
    FLOAT: DuckDBTypeId.FLOAT,
    DECIMAL: DuckDBTypeId.DECIMAL,
  };
  return map[base] ?? DuckDBTypeId.VARCHAR;
}

/** The Arrow schema for DuckDB result columns. */
export function arrowSchema(names: string[], typeIds: DuckDBTypeId[]): Schema {
  return new Schema(names.map((n, i) => new Field(n, ARROW_TYPE[kindOf(typeIds[i]!)](), true)));
}

/**
 * Converts DuckDB chunks into Arrow record batches of about `batchRows` rows.
 * `source` yields chunks (a `DuckDBResult` or any async iterable of them);
 * column names are given because chunks do not carry them.
 */
export async function* chunksToArrow(
  source: AsyncIterable<DuckDBDataChunk>,
  names: string[],
  batchRows = 65_536,
): AsyncGenerator<RecordBatch> {
  let cols: Col[] | undefined;
  let schema: Schema | undefined;
  let rows = 0;
  const flush = (): RecordBatch => {
    const children = cols!.map((c, i) => buildData(c, rows, schema!.fields[i]!.type));
    const data = makeData({ type: new Struct(schema!.fields), length: rows, nullCount: 0, children });
    const batch = new RecordBatch(schema!, data);
    cols = cols!.map((c) => ({ ...c, parts: [] }));
    rows = 0;
    return batch;
  };
  for await (const chunk of source) {
    const n = chunk.rowCount;
    if (n === 0) continue;
    if (!cols) {
      const ids = names.map((_, i) => chunk.getColumnVector(i).type.typeId);
      schema = arrowSchema(names, ids);
      cols = ids.map((id, i) => ({ kind: kindOf(id), type: schema!.fields[i]!.type, parts: [] }));
    }
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      const v = chunk.getColumnVector(i);
      (c.parts as unknown[]).push(extract(c.kind, v, chunk, i, n));
    }
    rows += n;
    if (rows >= batchRows) yield flush();
  }
  if (cols && rows > 0) yield flush();
}

const enc = new TextEncoder();

interface StrPart {
  lens: Int32Array;
  data: Uint8Array;
  valid: Uint8Array | undefined;
  n: number;
}

function nullBitmap(parts: { valid: Uint8Array | undefined; n: number }[], rows: number) {
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  let off = 0;
  for (const p of parts) {
    if (p.valid) {
      if (!bitmap) bitmap = new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
      for (let r = 0; r < p.n; r++) {
        if (!p.valid[r]) {
          const k = off + r;
          bitmap[k >> 3]! &= ~(1 << (k & 7));
          nullCount++;
        }
      }
    }
    off += p.n;
  }
  return { bitmap: nullCount ? bitmap : undefined, nullCount };
}

interface FixedPart {
  values: ArrayLike<number | bigint>;
  valid: Uint8Array | undefined;
  n: number;
}

function extract(kind: Kind, v: DuckDBVector, chunk: DuckDBDataChunk, i: number, n: number): FixedPart | unknown[] {
  if (kind === "f64" || kind === "i32" || kind === "i64" || kind === "date" || kind === "ts") {
    const valid = validBytes(v, n);
    // deno-lint-ignore no-explicit-any
    const items = vectorItems(v) as any;
    const copy = kind === "date"
      ? new Int32Array(items.length === n ? items : items.subarray(0, n))
      : kind === "i32"
      ? Int32Array.from(items.subarray(0, n))
      : kind === "f64"
      ? Float64Array.from(items.subarray(0, n))
      : BigInt64Array.from(items.subarray(0, n));
    return { values: copy, valid, n };
  }
  if (kind === "dec") {
    // Decimals up to 18 digits are scaled integers in the vector's buffer: read them without value objects.
    const dv = vectorDataView(v);
    const type = decimalShape(v.type);
    if (dv && type.width <= 18) {
      const out = new Float64Array(n);
      const div = 10 ** type.scale;
      const size = type.width <= 4 ? 2 : type.width <= 9 ? 4 : 8;
      for (let r = 0; r < n; r++) {
        const raw = size === 2
          ? dv.getInt16(r * 2, true)
          : size === 4
          ? dv.getInt32(r * 4, true)
          : dv.getInt32(r * 8 + 4, true) * 4294967296 + dv.getUint32(r * 8, true);
        out[r] = raw / div;
      }
      return { values: out, valid: validBytes(v, n), n };
    }
    return chunk.convertColumnValues(i, JSDuckDBValueConverter).map((x) => x === null ? null : Number(x));
  }
  if (kind === "utf8") {
    // DuckDB strings are 16-byte structs: short ones (<= 12 bytes) inline, so their UTF-8 is copied as is.
    const dv = vectorDataView(v);
    if (dv) {
      const src = new Uint8Array(dv.buffer, dv.byteOffset, n * 16);
      const lens = new Int32Array(n);
      const long = new Map<number, Uint8Array>();
      const valid = validBytes(v, n);
      let total = 0;
      for (let r = 0; r < n; r++) {
        if (valid && !valid[r]) continue;
        let len = dv.getUint32(r * 16, true);
        if (len > 12) {
          // Long strings live behind a pointer: copy their bytes out natively (no decode/encode round trip).
          const bytes = bytesAtPointer(dv.buffer as ArrayBuffer, dv.byteOffset + r * 16 + 8, len) ??
            enc.encode(v.getItem(r) as string);
          long.set(r, bytes);
          len = bytes.length;
        }
        lens[r] = len;
        total += len;
      }
      const data = new Uint8Array(total);
      let off = 0;
      for (let r = 0; r < n; r++) {
        const len = lens[r]!;
        if (len === 0) continue;
        const l = long.get(r);
        if (l) data.set(l, off);
        else {
          const base = r * 16 + 4;
          for (let k = 0; k < len; k++) data[off + k] = src[base + k]!;
        }
        off += len;
      }
      return { lens, data, valid, n } as unknown as FixedPart;
    }
    return chunk.getColumnValues(i).map((x) => (x === null ? null : String(x)));
  }
  if (kind === "num") {
    return chunk.convertColumnValues(i, JSDuckDBValueConverter).map((x) => x === null ? null : Number(x));
  }
  if (kind === "bool") return chunk.convertColumnValues(i, JSDuckDBValueConverter);
  return chunk.getColumnValues(i).map((x) => (x === null ? null : typeof x === "string" ? x : String(x)));
}

function buildData(c: Col, rows: number, type: DataType) {
  const first = (c.parts as unknown[])[0];
  if (c.kind === "utf8" && first && !Array.isArray(first)) {
    const parts = c.parts as unknown as StrPart[];
    const offsets = new Int32Array(rows + 1);
    let total = 0;
    for (const p of parts) total += p.data.length;
    const data = new Uint8Array(total);
    let row = 0, off = 0;
    for (const p of parts) {
      data.set(p.data, off);
      for (let r = 0; r < p.n; r++) {
        offsets[row + r] = off;
        off += p.lens[r]!;
      }
      row += p.n;
    }
    offsets[rows] = off;
    const { bitmap, nullCount } = nullBitmap(parts, rows);
    return makeData({ type: type as Utf8, length: rows, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data });
  }
  if (c.kind === "dec" && first && !Array.isArray(first)) {
    const parts = c.parts as unknown as FixedPart[];
    const out = new Float64Array(rows);
    let off = 0;
    for (const p of parts) {
      out.set(p.values as Float64Array, off);
      off += p.n;
    }
    const { bitmap, nullCount } = nullBitmap(parts, rows);
    return makeData({ type: type as Float64, length: rows, nullCount, nullBitmap: bitmap, data: out });
  }
  if (c.kind === "f64" || c.kind === "i32" || c.kind === "i64" || c.kind === "date" || c.kind === "ts") {
    const parts = c.parts as unknown as FixedPart[];
    const Ctor = c.kind === "f64" ? Float64Array : c.kind === "i32" || c.kind === "date" ? Int32Array : BigInt64Array;
    const out = new Ctor(rows);
    let bitmap: Uint8Array | undefined;
    let nullCount = 0;
    let off = 0;
    for (const p of parts) {
      // deno-lint-ignore no-explicit-any
      (out as any).set(p.values, off);
      if (p.valid) {
        if (!bitmap) bitmap = new Uint8Array(Math.ceil(rows / 8)).fill(0xff);
        for (let r = 0; r < p.n; r++) {
          if (!p.valid[r]) {
            const k = off + r;
            bitmap[k >> 3]! &= ~(1 << (k & 7));
            nullCount++;
          }
        }
      }
      off += p.n;
    }
    return makeData({
      // deno-lint-ignore no-explicit-any
      type: type as any,
      length: rows,
      nullCount,
      data: out,
      nullBitmap: nullCount ? bitmap : undefined,
    });
  }
  const values = (c.parts as unknown[][]).flat();
  return vectorFromArray(values, type).data[0]!;
}
