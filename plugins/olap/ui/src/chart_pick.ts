/**
 * Picks a chart for a query result from its column types: a line over time when there is a time column and a
 * measure, bars for a category and a measure, a scatter for two measures, a histogram for one. Pure: the web UI
 * calls it on each result and the tests call it directly.
 *
 * @example A time column and a measure make a line, split by a small category
 * ```ts
 * import { pickChart } from "./chart_pick.ts";
 * import assert from "node:assert/strict";
 *
 * const c = pickChart(
 *   [{ name: "day", type: "DATE" }, { name: "region", type: "VARCHAR" }, { name: "qty", type: "BIGINT" }],
 *   [["2024-01-01", "eu", 3], ["2024-01-01", "us", 4]],
 * );
 * assert.equal(c?.mark, "line");
 * assert.deepEqual([c?.x.field, c?.y.field, c?.color?.field], ["day", "qty", "region"]);
 * ```
 *
 * @module
 */

/** A result column as `POST /query` names it. */
export interface ResultColumn {
  name: string;
  type: string;
}

/** How a column is encoded: vega-lite's measurement types. */
export type FieldKind = "temporal" | "quantitative" | "nominal";

/** One encoding channel. */
export interface Channel {
  field: string;
  type: FieldKind;
  /** A histogram's x is binned and its y is a count. */
  bin?: boolean;
  aggregate?: "count";
  /** A time axis's label format (d3 time format): dates without a time of day. */
  format?: string;
}

/** A chart picked for a result. */
export interface ChartChoice {
  mark: "line" | "bar" | "point" | "area";
  x: Channel;
  y: Channel;
  color?: Channel;
  /** Why this chart, for the UI's caption. */
  reason: string;
}

/** Series or stacks beyond this many distinct values are not coloured (a legend of 200 entries helps nobody). */
export const MAX_COLOR_VALUES = 12;

/** The measurement type of a DuckDB type, or undefined for nested and binary types that are not charted. */
export function kindOf(type: string): FieldKind | undefined {
  const t = type.toUpperCase();
  if (/[[\]]|^(STRUCT|MAP|UNION|BLOB|BIT)\b/.test(t)) return undefined;
  if (/^(DATE|TIMESTAMP|TIMESTAMPTZ|TIMESTAMP WITH TIME ZONE|TIMESTAMP_(S|MS|NS))\b/.test(t)) return "temporal";
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL|NUMERIC)\b/.test(t)) return "quantitative";
  return "nominal";
}

function distinct(rows: readonly (readonly unknown[])[], i: number): number {
  const seen = new Set<unknown>();
  for (const r of rows) {
    seen.add(r[i]);
    if (seen.size > MAX_COLOR_VALUES) break;
  }
  return seen.size;
}

/**
 * The chart for `columns` (with `rows` to size the colour channel), or undefined when nothing is chartable.
 * `measure` names the column to plot when the caller knows it (a moving aggregate's output, a funnel's users).
 */
export function pickChart(
  columns: readonly ResultColumn[],
  rows: readonly (readonly unknown[])[] = [],
  measure?: string,
): ChartChoice | undefined {
  const kinds = columns.map((c) => kindOf(c.type));
  const of = (k: FieldKind) => columns.flatMap((c, i) => (kinds[i] === k ? [{ c, i }] : []));
  const time = of("temporal"), nums = of("quantitative"), cats = of("nominal");
  const ch = (c: ResultColumn, type: FieldKind): Channel => ({
    field: c.name,
    type,
    ...(type === "temporal" ? { format: /^DATE$/i.test(c.type) ? "%Y-%m-%d" : "%Y-%m-%d %H:%M" } : {}),
  });
  const smallCat = (skip?: string) =>
    cats.find(({ c, i }) => c.name !== skip && distinct(rows, i) <= MAX_COLOR_VALUES && distinct(rows, i) > 1);
  // The measure: the one named, else the first numeric column with the fewest nulls (a mostly-empty column makes a
  // sparse chart).
  const nullsOf = (i: number) => rows.reduce<number>((n, r) => n + (r[i] === null || r[i] === undefined ? 1 : 0), 0);
  const named = nums.find(({ c }) => c.name === measure);
  const m = named ?? [...nums].sort((a, b) => nullsOf(a.i) - nullsOf(b.i))[0];
  if (time[0] && m) {
    const color = smallCat();
    return {
      mark: "line",
      x: ch(time[0].c, "temporal"),
      y: ch(m.c, "quantitative"),
      ...(color ? { color: ch(color.c, "nominal") } : {}),
      reason: `${time[0].c.name} is ${time[0].c.type} and ${m.c.name} is ${m.c.type}: a line over time`,
    };
  }
  if (cats[0] && m) {
    const color = smallCat(cats[0].c.name);
    return {
      mark: "bar",
      x: ch(cats[0].c, "nominal"),
      y: ch(m.c, "quantitative"),
      ...(color ? { color: ch(color.c, "nominal") } : {}),
      reason: `${cats[0].c.name} is a category and ${m.c.name} a measure: bars`,
    };
  }
  if (nums.length >= 2) {
    const color = smallCat();
    return {
      mark: "point",
      x: ch(nums[0]!.c, "quantitative"),
      y: ch(nums[1]!.c, "quantitative"),
      ...(color ? { color: ch(color.c, "nominal") } : {}),
      reason: `${nums[0]!.c.name} and ${nums[1]!.c.name} are both measures: a scatter plot`,
    };
  }
  if (nums[0]) {
    return {
      mark: "bar",
      x: { ...ch(nums[0].c, "quantitative"), bin: true },
      y: { field: nums[0].c.name, type: "quantitative", aggregate: "count" },
      reason: `${nums[0].c.name} is the only measure: its histogram`,
    };
  }
  if (cats[0]) {
    return {
      mark: "bar",
      x: ch(cats[0].c, "nominal"),
      y: { field: cats[0].c.name, type: "quantitative", aggregate: "count" },
      reason: `${cats[0].c.name} is the only category: rows per value`,
    };
  }
  return undefined;
}

/** A vega-lite spec drawing `choice` over `rows` (objects keyed by column name), `width` pixels wide. */
export function chartSpec(choice: ChartChoice, rows: readonly Record<string, unknown>[], width: number) {
  const enc = (c: Channel) => ({
    field: c.field,
    type: c.type,
    ...(c.bin ? { bin: { maxbins: 30 } } : {}),
    ...(c.aggregate ? { aggregate: c.aggregate, title: "rows" } : {}),
    ...(c.type === "temporal"
      ? { scale: { type: "utc" }, axis: { format: c.format ?? "%Y-%m-%d %H:%M", labelAngle: -30 } }
      : {}),
    ...(c.type === "nominal" && !c.aggregate ? { sort: null } : {}),
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width,
    height: 300,
    data: { values: rows },
    mark: {
      type: choice.mark,
      tooltip: true,
      ...(choice.mark === "line" ? { point: rows.length <= 200, strokeWidth: 2 } : {}),
      ...(choice.mark === "point" ? { filled: true, opacity: 0.7 } : {}),
      ...(choice.mark === "bar" ? { cornerRadiusEnd: 2 } : {}),
    },
    encoding: {
      x: enc(choice.x),
      y: enc(choice.y),
      ...(choice.color ? { color: { ...enc(choice.color), scale: { scheme: "tableau10" } } } : {}),
    },
    config: {
      font: "system-ui, sans-serif",
      axis: { labelColor: "#4a5168", titleColor: "#1d2330", gridColor: "#eef0f5", domainColor: "#c9cedb" },
      view: { stroke: null },
      range: { category: ["#3b5bdb", "#f08c00", "#2b8a3e", "#c2255c", "#7048e8", "#1098ad", "#e8590c", "#5c940d"] },
    },
  };
}
