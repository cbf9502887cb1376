/**
 * The one place that reaches under `@duckdb/node-api`'s public API: vector
 * internals (typed `items`, `validity`, the `dataView` of the vector's memory,
 * decimal width/scale) and `@duckdb/node-bindings`' `get_data_from_pointer`.
 * `arrow.ts` reads chunks through these functions only, and
 * `tests/olap/duckdb_native_test.ts` checks every one against the installed
 * library, so an upgrade that changes the shape fails there, loudly, rather
 * than as wrong Arrow output.
 *
 * @example
 * ```ts
 * import { nativeShapeProblems } from "./_duckdb_native.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await nativeShapeProblems(), []);
 * ```
 *
 * @module
 */
import { DuckDBInstance, type DuckDBType, type DuckDBVector } from "@duckdb/node-api";
import bindings from "@duckdb/node-bindings";

/** A fixed-width vector's values as a typed array (may be longer than the chunk's row count). */
export type VectorItems = ArrayLike<number | bigint> & { subarray(a: number, b: number): ArrayLike<number | bigint> };

/** A vector's validity mask: `data` is present only when the vector may hold nulls. */
export interface VectorValidity {
  data?: unknown;
  itemValid(i: number): boolean;
}

interface RawVector {
  items?: VectorItems;
  validity?: VectorValidity;
  dataView?: DataView;
}

const raw = (v: DuckDBVector) => v as unknown as RawVector;

/** The typed array behind a DOUBLE, INTEGER, BIGINT, DATE or TIMESTAMP vector. */
export function vectorItems(v: DuckDBVector): VectorItems {
  const items = raw(v).items;
  if (!items || typeof items.subarray !== "function") {
    throw new TypeError(`@duckdb/node-api changed: a ${v.type} vector has no typed 'items'`);
  }
  return items;
}

/** The validity mask of a vector. */
export function vectorValidity(v: DuckDBVector): VectorValidity {
  const validity = raw(v).validity;
  if (!validity || typeof validity.itemValid !== "function") {
    throw new TypeError(`@duckdb/node-api changed: a ${v.type} vector has no 'validity.itemValid'`);
  }
  return validity;
}

/** Per-row validity bytes (1 valid, 0 null), or undefined when the vector holds no nulls. */
export function validBytes(v: DuckDBVector, n: number): Uint8Array | undefined {
  const validity = vectorValidity(v);
  if (!validity.data) return undefined;
  const valid = new Uint8Array(n);
  for (let r = 0; r < n; r++) valid[r] = validity.itemValid(r) ? 1 : 0;
  return valid;
}

/** The vector's memory (VARCHAR: 16-byte string structs; DECIMAL: scaled integers), if the library exposes it. */
export function vectorDataView(v: DuckDBVector): DataView | undefined {
  return raw(v).dataView;
}

/** Width and scale of a DECIMAL type. */
export function decimalShape(t: DuckDBType): { width: number; scale: number } {
  const d = t as unknown as { width?: number; scale?: number };
  if (typeof d.width !== "number" || typeof d.scale !== "number") {
    throw new TypeError(`@duckdb/node-api changed: ${t} has no numeric width/scale`);
  }
  return { width: d.width, scale: d.scale };
}

const native = bindings as unknown as {
  get_data_from_pointer?: (buffer: ArrayBuffer, offset: number, length: number) => Uint8Array;
};

/**
 * Copies `length` bytes from the pointer stored at `offset` of `buffer` (a long DuckDB string's data), or
 * returns undefined when the bindings lack `get_data_from_pointer` (callers then decode the value instead).
 */
export function bytesAtPointer(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | undefined {
  return native.get_data_from_pointer?.(buffer, offset, length);
}

/**
 * Every way the installed DuckDB packages differ from what this module expects, found by reading a small
 * result of each type it handles (empty when all is well).
 */
export async function nativeShapeProblems(): Promise<string[]> {
  const problems: string[] = [];
  if (typeof native.get_data_from_pointer !== "function") {
    problems.push("@duckdb/node-bindings has no get_data_from_pointer");
  }
  const db = await DuckDBInstance.create();
  const c = await db.connect();
  try {
    const long = "a long string of more than twelve bytes";
    const r = await c.run(
      `select 1.5::double as f, 2::int as i, 3::bigint as b, date '2024-01-02' as d,
         timestamp '2024-01-02 03:04:05' as t, 12.34::decimal(9,2) as m, '${long}' as s, null::int as z`,
    );
    const chunk = await r.fetchChunk();
    if (!chunk) return [...problems, "the probe query returned no chunk"];
    const expectItems: Record<number, number | bigint> = { 0: 1.5, 1: 2, 2: 3n, 3: 19724, 4: 1704164645000000n };
    for (const [col, want] of Object.entries(expectItems)) {
      const v = chunk.getColumnVector(Number(col));
      try {
        const got = vectorItems(v)[0];
        if (got !== want) problems.push(`${v.type} items[0] is ${got}, expected ${want}`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    try {
      const z = chunk.getColumnVector(7);
      if (validBytes(z, 1)?.[0] !== 0) problems.push("a null INTEGER is not marked invalid in 'validity'");
    } catch (e) {
      problems.push((e as Error).message);
    }
    const m = chunk.getColumnVector(5);
    try {
      const { width, scale } = decimalShape(m.type);
      const dv = vectorDataView(m);
      if (width !== 9 || scale !== 2) problems.push(`decimal(9,2) reads as width ${width}, scale ${scale}`);
      if (!dv || dv.getInt32(0, true) !== 1234) problems.push("a DECIMAL(9,2) vector's dataView does not hold 1234");
    } catch (e) {
      problems.push((e as Error).message);
    }
    const s = chunk.getColumnVector(6);
    const dv = vectorDataView(s);
    if (!dv) problems.push("a VARCHAR vector has no dataView");
    else {
      if (dv.getUint32(0, true) !== long.length) problems.push("a VARCHAR struct does not start with its length");
      const bytes = bytesAtPointer(dv.buffer as ArrayBuffer, dv.byteOffset + 8, long.length);
      if (bytes && new TextDecoder().decode(bytes) !== long) {
        problems.push("get_data_from_pointer does not copy a long string's bytes");
      }
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return problems;
}
