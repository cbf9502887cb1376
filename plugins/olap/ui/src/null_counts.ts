/**
 * What the result grid shows besides the values: null counts per column (of the rows shown, or of the whole answer
 * through one `count(columns(*))` query), and values printed readably. Pure: the page and the tests use it.
 *
 * @example Nulls of a page, and the query that counts them over the whole answer
 * ```ts
 * import { countNulls, nullCountSql } from "./null_counts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(countNulls([{ name: "a", type: "INTEGER" }], [[1], [null], [null]]), [2]);
 * assert.equal(nullCountSql("select 1 as a;"), "select count(*) as __rows, count(columns(*)) from (\nselect 1 as a\n) as __q");
 * ```
 *
 * @module
 */
import { quoteIdent } from "@mercury/core/sql";
import type { ResultColumn } from "./chart_pick.ts";

/** A `POST /query` JSON answer. */
export interface Answer {
  columns: ResultColumn[];
  rows: unknown[][];
  rowCount?: number;
}

/** Null counts per column, and over how many rows they were counted. */
export interface NullCounts {
  nulls: number[];
  rows: number;
  /** True when counted over the whole result, false when over the rows shown. */
  exact: boolean;
}

/** Counts the nulls of `rows` per column. */
export function countNulls(columns: readonly ResultColumn[], rows: readonly (readonly unknown[])[]): number[] {
  return columns.map((_, i) => rows.reduce<number>((n, r) => n + (r[i] === null ? 1 : 0), 0));
}

/**
 * The SQL that counts a query's rows and each column's non-null values in one pass (DuckDB's `COLUMNS(*)`), so the
 * header can show null counts of the whole result, not only of a page.
 */
export function nullCountSql(sql: string): string {
  const body = sql.trim().replace(/;+\s*$/, "");
  // The newline ends a trailing line comment of the user's query before the closing parenthesis.
  return `select count(*) as __rows, count(columns(*)) from (\n${body}\n) as __q`;
}

/** How a value reads in the grid: times without the ISO `T`/`Z` noise, doubles to 12 significant digits. */
export function display(v: unknown, type: string): string {
  const t = type.toUpperCase();
  if (typeof v === "string" && /^DATE$/.test(t)) return v.slice(0, 10);
  if (typeof v === "string" && /^TIMESTAMP/.test(t) && /^\d{4}-\d\d-\d\dT/.test(v)) {
    const s = v.replace("T", " ").replace(/(\.000)?Z$/, "");
    return /TZ|TIME ZONE/.test(t) ? `${s} UTC` : s;
  }
  if (typeof v === "number" && /^(DOUBLE|FLOAT|REAL)$/.test(t) && !Number.isInteger(v)) {
    return String(Number(v.toPrecision(12)));
  }
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** The order a header click asks for. */
export interface SortOrder {
  column: string;
  desc: boolean;
}

/**
 * `sql` ordered by one of its result's columns (nulls last), as the grid's header clicks ask: the query runs as a
 * subquery, so paging, exports and charts of the sorted answer go through the server like any query.
 */
export function sortedSql(sql: string, order: SortOrder): string {
  const body = sql.trim().replace(/;+\s*$/, "");
  return `select * from (\n${body}\n) as __q order by ${quoteIdent(order.column)} ${
    order.desc ? "desc" : "asc"
  } nulls last`;
}
