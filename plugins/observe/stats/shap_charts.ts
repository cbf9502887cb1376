/**
 * The SHAP plots people know, as vega-lite specs (render with
 * `chartSvg`/`chart` from `@mercury/core/display`): a bar of mean |SHAP| per
 * feature, a beeswarm (one dot per row and feature, coloured by the feature's
 * value, jittered vertically) and a waterfall for one prediction (from the
 * base value, each feature's push up in red or down in blue, largest first).
 *
 * @example
 * ```ts
 * import { shapBarSpec, shapWaterfallSpec } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const shap = { values: [[0.5, -0.1], [-0.3, 0.2]], baseValue: 1, data: [[1, 2], [3, 4]] };
 * const bar = shapBarSpec(shap, ["age", "income"]);
 * assert.deepEqual((bar.data as { values: { feature: string }[] }).values.map((v) => v.feature), ["age", "income"]);
 * assert.equal(shapWaterfallSpec(shap, ["age", "income"], 0).title, "Why row 0: 1.000 → 1.400");
 * ```
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { ShapValues } from "./shap.ts";

const UP = "#e3445c", DOWN = "#2f7fd8";

/** Bar chart of mean |SHAP| per feature, most important on top. */
export function shapBarSpec(shap: ShapValues, features: string[], title = "Mean |SHAP| per feature"): TopLevelSpec {
  const values = features.map((feature, j) => ({
    feature,
    meanAbs: shap.values.reduce((s, row) => s + Math.abs(row[j]!), 0) / Math.max(1, shap.values.length),
  })).sort((a, b) => b.meanAbs - a.meanAbs);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 420,
    height: { step: 22 },
    data: { values },
    mark: { type: "bar", color: UP },
    encoding: {
      y: { field: "feature", type: "nominal", sort: "-x", title: null },
      x: { field: "meanAbs", type: "quantitative", title: "mean |SHAP value|" },
      tooltip: [{ field: "feature" }, { field: "meanAbs", format: ".4f" }],
    },
  };
}

/** Beeswarm: SHAP value per row and feature, colour = feature value (normalised per feature). */
export function shapBeeswarmSpec(shap: ShapValues, features: string[], title = "SHAP values by feature"): TopLevelSpec {
  const order = features.map((f, j) => ({ f, m: shap.values.reduce((s, r) => s + Math.abs(r[j]!), 0) }))
    .sort((a, b) => b.m - a.m).map((x) => x.f);
  const values: { feature: string; shap: number; value: number; jitter: number }[] = [];
  features.forEach((feature, j) => {
    const col = shap.data.map((r) => r[j]!);
    const lo = Math.min(...col), hi = Math.max(...col);
    shap.values.forEach((row, i) => {
      // deterministic jitter (golden-ratio sequence) so the chart is reproducible
      values.push({
        feature,
        shap: row[j]!,
        value: hi > lo ? (col[i]! - lo) / (hi - lo) : 0.5,
        jitter: ((i * 0.618034) % 1) - 0.5,
      });
    });
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 420,
    height: { step: 34 },
    data: { values },
    mark: { type: "circle", size: 22, opacity: 0.8 },
    encoding: {
      y: { field: "feature", type: "nominal", sort: order, title: null },
      yOffset: { field: "jitter", type: "quantitative", scale: { domain: [-0.6, 0.6] } },
      x: { field: "shap", type: "quantitative", title: "SHAP value (impact on output)" },
      color: {
        field: "value",
        type: "quantitative",
        scale: { range: [DOWN, UP] },
        legend: { title: "feature value", format: ".1f" },
      },
    },
  } as TopLevelSpec;
}

/** Waterfall of one row's prediction: base value plus each feature's contribution, largest |φ| first. */
export function shapWaterfallSpec(shap: ShapValues, features: string[], row: number, maxFeatures = 12): TopLevelSpec {
  const phi = shap.values[row];
  if (!phi) throw new RangeError(`Cannot draw row ${row}: only ${shap.values.length} rows were explained`);
  const order = features.map((f, j) => ({ f, v: phi[j]!, x: shap.data[row]![j]! }))
    .sort((a, b) => Math.abs(b.v) - Math.abs(a.v));
  const shown = order.slice(0, maxFeatures);
  const rest = order.slice(maxFeatures).reduce((s, o) => s + o.v, 0);
  if (order.length > maxFeatures) shown.push({ f: `${order.length - maxFeatures} other features`, v: rest, x: NaN });
  let at = shap.baseValue;
  const values = shown.map((o) => {
    const start = at;
    at += o.v;
    return {
      label: Number.isNaN(o.x) ? o.f : `${o.f} = ${+o.x.toPrecision(4)}`,
      start,
      end: at,
      labelAt: Math.max(start, at),
      contribution: o.v,
      direction: o.v >= 0 ? "raises" : "lowers",
    };
  });
  const output = at;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `Why row ${row}: ${shap.baseValue.toFixed(3)} → ${output.toFixed(3)}`,
    width: 420,
    height: { step: 24 },
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: { field: "label", type: "nominal", sort: null, title: null },
          x: { field: "start", type: "quantitative", title: "model output", scale: { zero: false } },
          x2: { field: "end" },
          color: {
            field: "direction",
            type: "nominal",
            scale: { domain: ["raises", "lowers"], range: [UP, DOWN] },
            legend: { title: null },
          },
          tooltip: [{ field: "label" }, { field: "contribution", format: "+.4f" }],
        },
      },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 10 },
        encoding: {
          y: { field: "label", type: "nominal", sort: null },
          x: { field: "labelAt", type: "quantitative" },
          text: { field: "contribution", type: "quantitative", format: "+.3f" },
        },
      },
    ],
  } as TopLevelSpec;
}
