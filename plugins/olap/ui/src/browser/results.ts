/// <reference lib="dom" />
/**
 * The result grid: column names with their DuckDB types and null counts in the header, numbers right-aligned,
 * NULL shown as such, nested values as JSON.
 *
 * @module
 */
import { kindOf } from "../chart_pick.ts";
import { type Answer, display, type NullCounts, type SortOrder } from "../null_counts.ts";
import { h } from "./_dom.ts";

function cell(v: unknown, type: string): Node {
  if (v === null || v === undefined) return h("span", { class: "null" }, "NULL");
  return document.createTextNode(display(v, type));
}

/** The grid of `a`'s first `limit` rows. */
export function grid(
  a: Answer,
  limit: number,
  nulls?: NullCounts,
  sort?: SortOrder,
  onSort?: (column: string) => void,
): HTMLElement {
  const numeric = a.columns.map((c) => kindOf(c.type) === "quantitative");
  const head = h(
    "tr",
    {},
    ...a.columns.map((c, i) => {
      const n = nulls?.nulls[i];
      const label = n === undefined ? "" : n === 0 ? "no nulls" : `${n.toLocaleString()} null${n === 1 ? "" : "s"}`;
      const th = h(
        "th",
        { class: numeric[i] ? "num" : "", title: `sort by ${c.name}` },
        c.name,
        sort?.column === c.name ? h("span", { class: "arrow" }, sort.desc ? " ▼" : " ▲") : "",
        h("span", { class: "ty" }, c.type),
        h("span", { class: `nulls${n ? " some" : ""}` }, label + (nulls && !nulls.exact && label ? " (shown)" : "")),
      );
      if (onSort) th.addEventListener("click", () => onSort(c.name));
      return th;
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
