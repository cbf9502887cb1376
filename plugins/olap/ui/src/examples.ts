/**
 * Example queries made from the catalog: a preview, a top-N of a category, an hourly series through the
 * `ts_bucket` macro, DuckDB's `summarize`, for the first tables; and a few that need no table.
 *
 * @example
 * ```ts
 * import { examplesFor } from "./examples.ts";
 * import assert from "node:assert/strict";
 *
 * const ex = examplesFor([{ name: "sales", columns: [{ name: "ts", type: "TIMESTAMP" }, { name: "qty", type: "BIGINT" }] }]);
 * assert.ok(ex.some((e) => e.sql.includes("ts_bucket(interval 1 hour, ts)")));
 * ```
 *
 * @module
 */
import { quoteIdent } from "@mercury/core/sql";
import { kindOf, type ResultColumn } from "./chart_pick.ts";

/** One example. */
export interface Example {
  title: string;
  sql: string;
}

/** What an example needs of a table. */
export interface ExampleTable {
  name: string;
  columns: readonly ResultColumn[];
}

/** A name as SQL: bare when it is a plain lower-case identifier, quoted otherwise. */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdent(name);
}

/** Examples for `tables` (the first three), then general ones. */
export function examplesFor(tables: readonly ExampleTable[]): Example[] {
  const out: Example[] = [];
  for (const t of tables.slice(0, 3)) {
    const n = sqlName(t.name);
    const first = (k: string) => t.columns.find((c) => kindOf(c.type) === k);
    const time = first("temporal"), num = t.columns.findLast((c) => kindOf(c.type) === "quantitative");
    const cat = t.columns.find((c) => kindOf(c.type) === "nominal");
    out.push({ title: `Preview ${t.name}`, sql: `select * from ${n} limit 100` });
    if (time && num) {
      const tc = sqlName(time.name), nc = sqlName(num.name);
      out.push({
        title: `${t.name}: ${num.name} per hour`,
        sql: `select ts_bucket(interval 1 hour, ${tc}) as hour, count(*) as rows, sum(${nc}) as ${
          sqlName(`total_${num.name}`)
        }\nfrom ${n}\ngroup by all\norder by hour`,
      });
    }
    if (cat) {
      const cc = sqlName(cat.name);
      out.push({
        title: `${t.name}: top ${cat.name}`,
        sql:
          `select ${cc}, count(*) as rows${num ? `, round(avg(${sqlName(num.name)}), 2) as avg_${num.name}` : ""}\n` +
          `from ${n}\ngroup by ${cc}\norder by rows desc\nlimit 20`,
      });
    }
    out.push({ title: `${t.name}: column statistics`, sql: `summarize ${n}` });
  }
  out.push({
    title: "A generated series",
    sql: "select i, i * i as square, if(i % 2 = 0, 'even', 'odd') as parity\nfrom range(1, 21) t(i)",
  });
  return out;
}
