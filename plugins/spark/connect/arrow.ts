/**
 * Rows of an Arrow table as plain values: decimals become numbers (Arrow JS
 * gives the unscaled integer; the field's scale is applied here), dates become
 * `YYYY-MM-DD` strings, 64-bit integers stay `bigint`.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { tableRows } from "@mercury/spark/connect/arrow";
 * import assert from "node:assert/strict";
 *
 * const t = tableFromArrays({ x: Float64Array.from([1.5]) });
 * assert.deepEqual(tableRows(t), [{ x: 1.5 }]);
 * ```
 *
 * @module
 */
import { type Table, Type } from "apache-arrow";

/** The rows of `table` with decimals scaled and dates as ISO days. */
export function tableRows(table: Table): Record<string, unknown>[] {
  const fields = table.schema.fields;
  const convert = fields.map((f) => {
    const t = f.type as { typeId: Type; scale?: number };
    if (t.typeId === Type.Decimal) {
      const scale = 10 ** (t.scale ?? 0);
      return (v: unknown) => (v === null || v === undefined ? null : Number(String(v)) / scale);
    }
    if (t.typeId === Type.Date) {
      return (v: unknown) =>
        v === null || v === undefined
          ? null
          : new Date(v instanceof Date ? v.getTime() : Number(v)).toISOString().slice(0, 10);
    }
    return (v: unknown) => v;
  });
  const cols = fields.map((f) => table.getChild(f.name)!);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    fields.forEach((f, j) => (row[f.name] = convert[j]!(cols[j]!.get(i))));
    out.push(row);
  }
  return out;
}
