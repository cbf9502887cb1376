/**
 * Apache Arrow tables (what Spark Connect returns) → DuckDB data chunks (what
 * olap's encoders read), through the node-api's public `DuckDBDataChunk.create`
 * and `setColumns`: the Spark executor's results go through the same JSON,
 * CSV, Arrow and XLSX encoders as the DuckDB executor's.
 *
 * @module
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  dateValue,
  DECIMAL,
  decimalValue,
  DOUBLE,
  DuckDBDataChunk,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  TIMESTAMP,
  timestampValue,
  VARCHAR,
} from "@duckdb/node-api";
import { type Field, type Table, Type } from "apache-arrow";
import type { ColumnInfo } from "./executor.ts";

const DAY_MS = 86_400_000;

interface Conv {
  type: DuckDBType;
  value: (v: unknown) => DuckDBValue;
}

/** How one Arrow field becomes a DuckDB column; types DuckDB's encoders have no path for become JSON text. */
function converter(field: Field): Conv {
  const t = field.type as { typeId: Type; precision?: number; scale?: number; bitWidth?: number };
  switch (t.typeId) {
    case Type.Int:
      return (t.bitWidth ?? 32) > 32
        ? { type: BIGINT, value: (v) => BigInt(v as bigint | number) }
        : { type: INTEGER, value: (v) => Number(v) };
    case Type.Float:
      return { type: DOUBLE, value: (v) => Number(v) };
    case Type.Bool:
      return { type: BOOLEAN, value: (v) => Boolean(v) };
    case Type.Utf8:
    case Type.LargeUtf8:
      return { type: VARCHAR, value: (v) => String(v) };
    case Type.Decimal: {
      // Arrow JS gives the unscaled integer; DuckDB keeps widths up to 38 digits.
      const width = Math.min(38, t.precision ?? 38), scale = t.scale ?? 0;
      return { type: DECIMAL(width, scale), value: (v) => decimalValue(BigInt(String(v)), width, scale) };
    }
    case Type.Date:
      return {
        type: DATE,
        value: (v) => dateValue(Math.round((v instanceof Date ? v.getTime() : Number(v)) / DAY_MS)),
      };
    case Type.Timestamp:
      // Arrow JS gives milliseconds with the microseconds as a fraction (exact below 2^53 µs, i.e. until 2255).
      return {
        type: TIMESTAMP,
        value: (v) => timestampValue(BigInt(Math.round((v instanceof Date ? v.getTime() : Number(v)) * 1000))),
      };
    default:
      return {
        type: VARCHAR,
        value: (v) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)),
      };
  }
}

/** The DuckDB column types of an Arrow table's fields. */
export function arrowColumns(table: Table): ColumnInfo[] {
  return table.schema.fields.map((f) => ({ name: f.name, type: converter(f).type.toString() }));
}

/** The rows of `table` as DuckDB data chunks of at most `size` rows (2,048, DuckDB's vector size). */
export function* arrowToChunks(table: Table, size = 2048): Generator<DuckDBDataChunk> {
  const fields = table.schema.fields;
  const convs = fields.map(converter);
  const cols = fields.map((f) => table.getChild(f.name)!);
  for (let start = 0; start < table.numRows; start += size) {
    const n = Math.min(size, table.numRows - start);
    const chunk = DuckDBDataChunk.create(convs.map((c) => c.type), n);
    chunk.setColumns(convs.map((c, j) => {
      const out: DuckDBValue[] = new Array(n);
      const col = cols[j]!;
      for (let i = 0; i < n; i++) {
        const v = col.get(start + i);
        out[i] = v === null || v === undefined ? null : c.value(v);
      }
      return out;
    }));
    yield chunk;
  }
}
