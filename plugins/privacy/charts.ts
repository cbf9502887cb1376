/**
 * Privacy-preserving charts: a DP histogram, a DP heat map and a DP time
 * series, each drawn from noisy counts with the noise shown (error bars or
 * an interval per cell) and small cells suppressed. The counts are computed
 * by DuckDB over public bins (given categories, a fixed time grid), noised
 * with exact discrete Laplace noise, and only then looked at: suppression is
 * a post-processing of the noisy counts, so it costs no extra budget.
 *
 * @example
 * ```ts
 * import { dpCounts, dpHistogramChart } from "@mercury/privacy/charts";
 * import { openDuckDB } from "@mercury/core/services/duckdb";
 * import assert from "node:assert/strict";
 *
 * using db = await openDuckDB();
 * await db.connection.run("create table t as select i % 5 as k from range(5000) r(i)");
 * const cells = await dpCounts(db.connection, "select k::varchar as x from t", { epsilon: 1, x: ["0", "1", "2", "3", "4"] });
 * assert.equal(cells.length, 5);
 * assert.ok("layer" in dpHistogramChart(cells));
 * ```
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { TopLevelSpec } from "vega-lite";
import { MercuryError } from "@mercury/core/plugin";
import { floatToRational, sampleDiscreteLaplace } from "./mechanisms/samplers.ts";

/** One noisy cell. */
export interface DpCell {
  x: string;
  y?: string;
  /** The noisy count (null when suppressed). */
  count: number | null;
  /** The 95% interval of the noise around the count. */
  lo: number | null;
  hi: number | null;
  suppressed: boolean;
}

/** Options of {@link dpCounts}. */
export interface CountOptions {
  epsilon: number;
  /** The public x categories (cells not listed are dropped; missing ones get a noisy 0). */
  x: readonly string[];
  /** The public y categories (heat maps). */
  y?: readonly string[];
  /** Rows one privacy unit contributes at most (the sensitivity; default 1). */
  maxRowsPerUnit?: number;
  /** Suppress cells whose noisy count is below this (default: the 95% half-width, i.e. not clearly above 0). */
  suppressBelow?: number;
}

/**
 * ε-DP counts of `relation` (a SQL query with columns `x` and, for a heat
 * map, `y`) over public categories, with suppression of small cells.
 */
export async function dpCounts(conn: DuckDBConnection, relation: string, o: CountOptions): Promise<DpCell[]> {
  if (!(Number.isFinite(o.epsilon) && o.epsilon > 0)) {
    throw new MercuryError("usage", `epsilon must be a finite number > 0, got ${o.epsilon}`, { hint: "e.g. 1.0" });
  }
  const r = o.maxRowsPerUnit ?? 1;
  const b = r / o.epsilon, half = b * Math.log(20);
  const floor = o.suppressBelow ?? half;
  const twoD = o.y !== undefined;
  const res = (await conn.runAndReadAll(
    `select x::varchar as x, ${twoD ? "y::varchar" : "''"} as y, count(*) as n from (${relation}) group by 1, 2`,
  )).getRowObjects();
  const exact = new Map(res.map((row) => [`${row.x}\u0000${row.y}`, Number(row.n)]));
  const { num, den } = floatToRational(b);
  const out: DpCell[] = [];
  for (const y of o.y ?? [""]) {
    for (const x of o.x) {
      const c = (exact.get(`${x}\u0000${y}`) ?? 0) + Number(sampleDiscreteLaplace(num, den));
      const suppressed = c < floor;
      out.push({
        x,
        ...(twoD ? { y } : {}),
        count: suppressed ? null : c,
        lo: suppressed ? null : Math.max(0, c - half),
        hi: suppressed ? null : c + half,
        suppressed,
      });
    }
  }
  return out;
}

const base = { $schema: "https://vega.github.io/schema/vega-lite/v5.json", width: 420, height: 240 };

/** Bars of noisy counts with 95% error bars; suppressed bins marked. */
export function dpHistogramChart(cells: readonly DpCell[], o: { title?: string; x?: string } = {}): TopLevelSpec {
  const values = cells.map((c) => ({ ...c, shown: c.count ?? 0, label: c.suppressed ? "suppressed" : "" }));
  const x = { field: "x", type: "ordinal" as const, title: o.x ?? "", sort: null };
  return {
    ...base,
    title: o.title ?? "DP histogram (95% noise interval; small cells suppressed)",
    data: { values },
    layer: [
      {
        mark: { type: "bar", color: "#4c78a8" },
        encoding: { x, y: { field: "shown", type: "quantitative", title: "noisy count" } },
      },
      {
        mark: { type: "errorbar", color: "#222" },
        encoding: { x, y: { field: "lo", type: "quantitative", title: "noisy count" }, y2: { field: "hi" } },
      },
      {
        mark: { type: "text", dy: -6, color: "#c0392b", fontSize: 10 },
        encoding: { x, y: { datum: 0 }, text: { field: "label" } },
      },
    ],
  } as TopLevelSpec;
}

/** A heat map of noisy counts; suppressed cells are grey and labelled. */
export function dpHeatmapChart(
  cells: readonly DpCell[],
  o: { title?: string; x?: string; y?: string } = {},
): TopLevelSpec {
  const values = cells.map((c) => ({ ...c, text: c.suppressed ? "–" : String(c.count) }));
  const enc = {
    x: { field: "x", type: "ordinal" as const, title: o.x ?? "", sort: null },
    y: { field: "y", type: "ordinal" as const, title: o.y ?? "", sort: null },
  };
  return {
    ...base,
    title: o.title ?? "DP heat map (– = suppressed)",
    data: { values },
    layer: [
      {
        transform: [{ filter: "!datum.suppressed" }],
        mark: "rect",
        encoding: { ...enc, color: { field: "count", type: "quantitative", title: "noisy count" } },
      },
      {
        transform: [{ filter: "datum.suppressed" }],
        mark: { type: "rect", color: "#d9d9d9" },
        encoding: enc,
      },
      { mark: { type: "text", fontSize: 9 }, encoding: { ...enc, text: { field: "text" } } },
    ],
  } as TopLevelSpec;
}

/** A time series of noisy counts with 95% error bars; suppressed points left out of the line. */
export function dpTimeSeriesChart(cells: readonly DpCell[], o: { title?: string; x?: string } = {}): TopLevelSpec {
  const values = cells.filter((c) => !c.suppressed);
  const x = { field: "x", type: "temporal" as const, title: o.x ?? "" };
  return {
    ...base,
    title: o.title ?? "DP time series (95% noise interval)",
    data: { values },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: { x, y: { field: "count", type: "quantitative", title: "noisy count" } },
      },
      {
        mark: { type: "errorbar" },
        encoding: { x, y: { field: "lo", type: "quantitative", title: "noisy count" }, y2: { field: "hi" } },
      },
    ],
  } as TopLevelSpec;
}
