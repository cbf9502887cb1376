/**
 * The vega-lite specs the `forecast` commands render: a fan chart of history
 * and forecast with its intervals (`predict --chart`) and several models'
 * forecasts as lines (`compare --chart`). Plain objects: rendering them to
 * SVG (vega) is the caller's business.
 *
 * @module
 */

/**
 * A vega-lite fan chart of history + forecast with intervals.
 *
 * @example
 * ```ts
 * import { fanChart } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const spec = fanChart([1, 2, 3], { mean: [4, 5], intervals: [{ level: 95, lower: [3, 3], upper: [5, 7] }] }, "demo");
 * assert.equal(spec.title, "demo");
 * assert.equal((spec.layer as unknown[]).length, 2);
 * ```
 */
export function fanChart(
  history: number[],
  f: { mean: number[]; intervals: { level: number; lower: number[]; upper: number[] }[] },
  title: string,
): Record<string, unknown> {
  const n = history.length;
  const hist = history.map((y, t) => ({ t: t - n + 1, y, kind: "history" }));
  const fc = f.mean.map((y, i) => ({ t: i + 1, y, kind: "forecast" }));
  const bands = f.intervals.slice().sort((a, b) => b.level - a.level).flatMap((iv) =>
    iv.lower.map((lo, i) => ({ t: i + 1, lo, hi: iv.upper[i], level: `${iv.level}%` }))
  );
  return {
    title,
    width: 640,
    height: 240,
    layer: [
      {
        data: { values: bands },
        mark: { type: "area", opacity: 0.25 },
        encoding: {
          x: { field: "t", type: "quantitative", title: "step" },
          y: { field: "lo", type: "quantitative" },
          y2: { field: "hi" },
          color: { field: "level", type: "nominal", title: "interval" },
        },
      },
      {
        data: { values: [...hist, ...fc] },
        mark: "line",
        encoding: {
          x: { field: "t", type: "quantitative" },
          y: { field: "y", type: "quantitative", title: "value" },
          strokeDash: { field: "kind", type: "nominal" },
        },
      },
    ],
  };
}

/** A vega-lite line chart of several models' forecasts (`lines`: step, value, model label). */
export function forecastsChart(lines: { t: number; y: number; model: string }[]): Record<string, unknown> {
  return {
    title: "forecasts",
    width: 640,
    height: 240,
    data: { values: lines },
    mark: "line",
    encoding: {
      x: { field: "t", type: "quantitative", title: "step" },
      y: { field: "y", type: "quantitative" },
      color: { field: "model", type: "nominal" },
    },
  };
}
