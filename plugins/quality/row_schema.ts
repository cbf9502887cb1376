/**
 * Row-level schemas in TypeScript (the Pydantic role): typed fields with
 * nullability and constraints, `parse(row)` for a pipeline step (coerces
 * strings from CSV/JSON, throws one clear error naming the field), `check`
 * for a list of problems, and `toSuite()` so the same schema validates a
 * whole table through the engine in one scan.
 *
 * @example
 * ```ts
 * import { defineSchema } from "@mercury/quality/row_schema";
 * import assert from "node:assert/strict";
 *
 * const Order = defineSchema("order", {
 *   id: { type: "integer", min: 1 },
 *   email: { type: "string", nullable: true, pattern: "^[^@]+@[^@]+$" },
 *   amount: { type: "number", min: 0 },
 * });
 * const row = Order.parse({ id: "7", email: null, amount: "12.5" });
 * assert.deepEqual(row, { id: 7, email: null, amount: 12.5 });
 * assert.throws(() => Order.parse({ id: 0, email: "x", amount: 1 }), /order\.id: 0 is below the minimum 1/);
 * ```
 *
 * @module
 */
import type { ExpectationConfig, ExpectationSuite } from "./types.ts";

/** A field of a row schema. */
export interface FieldSpec {
  type: "string" | "integer" | "number" | "boolean" | "timestamp";
  nullable?: boolean;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  oneOf?: readonly (string | number | boolean)[];
  unique?: boolean;
}

type FieldValue<F extends FieldSpec> = F["type"] extends "string" ? string
  : F["type"] extends "integer" | "number" ? number
  : F["type"] extends "boolean" ? boolean
  : Date;

/** The parsed row type of a schema. */
export type RowOf<S extends Record<string, FieldSpec>> = {
  [K in keyof S]: S[K]["nullable"] extends true ? FieldValue<S[K]> | null : FieldValue<S[K]>;
};

/** A schema: parse and check rows, or turn it into a suite. */
export interface RowSchema<S extends Record<string, FieldSpec>> {
  name: string;
  fields: S;
  /** The typed row; throws a `TypeError` naming the first bad field. */
  parse(row: Record<string, unknown>): RowOf<S>;
  /** Every problem of a row (empty when it is valid). */
  check(row: Record<string, unknown>): string[];
  /** The GX expectations that check the same rules over a table. */
  toSuite(): ExpectationSuite;
}

function coerce(name: string, f: FieldSpec, v: unknown): unknown {
  if (v === null || v === undefined || v === "") {
    if (f.nullable) return null;
    throw new TypeError(`${name}: is missing (not nullable)`);
  }
  switch (f.type) {
    case "integer": {
      const n = typeof v === "string" ? Number(v.trim()) : v;
      if (typeof n !== "number" || !Number.isInteger(n)) {
        throw new TypeError(`${name}: ${JSON.stringify(v)} is not an integer`);
      }
      return n;
    }
    case "number": {
      const n = typeof v === "string" ? Number(v.trim()) : v;
      if (typeof n !== "number" || !Number.isFinite(n)) {
        throw new TypeError(`${name}: ${JSON.stringify(v)} is not a number`);
      }
      return n;
    }
    case "boolean":
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "1") return true;
      if (v === "false" || v === "0") return false;
      throw new TypeError(`${name}: ${JSON.stringify(v)} is not a boolean`);
    case "timestamp": {
      const d = v instanceof Date ? v : new Date(String(v));
      if (Number.isNaN(d.getTime())) throw new TypeError(`${name}: ${JSON.stringify(v)} is not a timestamp`);
      return d;
    }
    default:
      if (typeof v !== "string") throw new TypeError(`${name}: ${JSON.stringify(v)} is not a string`);
      return v;
  }
}

function constrain(name: string, f: FieldSpec, v: unknown): void {
  if (v === null) return;
  if (typeof v === "number") {
    if (f.min !== undefined && v < f.min) throw new TypeError(`${name}: ${v} is below the minimum ${f.min}`);
    if (f.max !== undefined && v > f.max) throw new TypeError(`${name}: ${v} is above the maximum ${f.max}`);
  }
  if (typeof v === "string") {
    if (f.minLength !== undefined && v.length < f.minLength) {
      throw new TypeError(`${name}: shorter than ${f.minLength}`);
    }
    if (f.maxLength !== undefined && v.length > f.maxLength) throw new TypeError(`${name}: longer than ${f.maxLength}`);
    if (f.pattern !== undefined && !new RegExp(f.pattern).test(v)) {
      throw new TypeError(`${name}: ${JSON.stringify(v)} does not match /${f.pattern}/`);
    }
  }
  if (f.oneOf && !f.oneOf.includes(v as string)) {
    throw new TypeError(`${name}: ${JSON.stringify(v)} is not one of ${f.oneOf.join(", ")}`);
  }
}

/** Defines a row schema. */
export function defineSchema<S extends Record<string, FieldSpec>>(name: string, fields: S): RowSchema<S> {
  const parseField = (k: string, row: Record<string, unknown>) => {
    const f = fields[k]!;
    const v = coerce(`${name}.${k}`, f, row[k]);
    constrain(`${name}.${k}`, f, v);
    return v;
  };
  return {
    name,
    fields,
    parse(row) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(fields)) out[k] = parseField(k, row);
      return out as RowOf<S>;
    },
    check(row) {
      const problems: string[] = [];
      for (const k of Object.keys(fields)) {
        try {
          parseField(k, row);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      return problems;
    },
    toSuite() {
      const e: ExpectationConfig[] = [
        { type: "expect_table_columns_to_match_set", kwargs: { column_set: Object.keys(fields), exact_match: false } },
      ];
      for (const [column, f] of Object.entries(fields)) {
        if (!f.nullable) e.push({ type: "expect_column_values_to_not_be_null", kwargs: { column } });
        if (f.min !== undefined || f.max !== undefined) {
          e.push({
            type: "expect_column_values_to_be_between",
            kwargs: { column, min_value: f.min ?? null, max_value: f.max ?? null },
          });
        }
        if (f.minLength !== undefined || f.maxLength !== undefined) {
          e.push({
            type: "expect_column_value_lengths_to_be_between",
            kwargs: { column, min_value: f.minLength ?? null, max_value: f.maxLength ?? null },
          });
        }
        if (f.pattern) e.push({ type: "expect_column_values_to_match_regex", kwargs: { column, regex: f.pattern } });
        if (f.oneOf) e.push({ type: "expect_column_values_to_be_in_set", kwargs: { column, value_set: [...f.oneOf] } });
        if (f.unique) e.push({ type: "expect_column_values_to_be_unique", kwargs: { column } });
      }
      return { name, expectations: e };
    },
  };
}
