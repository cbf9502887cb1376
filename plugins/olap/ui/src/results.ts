/// <reference lib="dom" />
/**
 * The result grid: column names with their DuckDB types and null counts in the header, numbers right-aligned,
 * NULL shown as such, nested values as JSON.
 *
 * @module
 */
import { kindOf, type ResultColumn } from "./chart_pick.ts";
import { h } from "./_dom.ts";

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

function cell(v: unknown, type: string): Node {
  if (v === null || v === undefined) return h("span", { class: "null" }, "NULL");
  return document.createTextNode(display(v, type));
}

/** The grid of `a`'s first `limit` rows. */
export function grid(a: Answer, limit: number, nulls?: NullCounts): HTMLElement {
  const numeric = a.columns.map((c) => kindOf(c.type) === "quantitative");
  const head = h(
    "tr",
    {},
    ...a.columns.map((c, i) => {
      const n = nulls?.nulls[i];
      const label = n === undefined ? "" : n === 0 ? "no nulls" : `${n.toLocaleString()} null${n === 1 ? "" : "s"}`;
      return h(
        "th",
        { class: numeric[i] ? "num" : "", title: nulls && !nulls.exact ? "nulls among the rows shown" : "" },
        c.name,
        h("span", { class: "ty" }, c.type),
        h("span", { class: `nulls${n ? " some" : ""}` }, label + (nulls && !nulls.exact && label ? " (shown)" : "")),
      );
    }),
  );
  const body = h(
    "tbody",
    {},
    ...a.rows.slice(0, limit).map((r) =>
      h(
        "tr",
        {},
        ...r.map((v, i) =>
          h("td", {
            class: numeric[i] ? "num" : "",
            title: v !== null && typeof v === "object" ? JSON.stringify(v) : String(v),
          }, cell(v, a.columns[i]!.type))
        ),
      )
    ),
  );
  return h("table", { class: "grid", id: "result-grid" }, h("thead", {}, head), body);
}
