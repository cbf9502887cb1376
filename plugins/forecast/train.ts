/**
 * Training one series into a saved model: validate the series length for the
 * algorithm and season, optionally clean anomalies, backtest for metrics,
 * fit on all data, and describe it as a {@linkcode ModelFile}.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { algorithm } from "./algorithms.ts";
import { backtest } from "./backtest.ts";
import type { Frequency, Series } from "./data.ts";
import { stepMs } from "./data.ts";
import { cleanSeries, detectAnomalies } from "./detect.ts";
import { createForecaster, type Ensemble } from "./ensemble.ts";
import type { Forecaster } from "./forecaster.ts";
import { fingerprint, FORMAT_VERSION, type ModelFile } from "./model_file.ts";
import { maseScale } from "./metrics.ts";

/** This package's version, written into model files. */
export const VERSION = "0.1.0";

/** Options of {@linkcode trainModel}. */
export interface TrainOptions {
  algorithm: string;
  params?: Record<string, unknown>;
  season: number;
  freq: Frequency;
  /** Backtest horizon for the stored metrics (default 2 seasons, 0 = skip). */
  horizon?: number;
  /** Backtest windows (default 2). */
  windows?: number;
  /** Replace anomalies (robust z > 3.5, decomposition method) before fitting. */
  clean?: boolean;
  /** Model semantic version (default 1.0.0). */
  version?: string;
  source?: string;
}

/**
 * Checks a series is long enough for an algorithm (for an ensemble: for each member); throws a MercuryError naming
 * the series.
 *
 * @example
 * ```ts
 * import { checkLength } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const s = { id: "a", ds: [1, 2, 3], y: [1, 2, 3], filled: 0 };
 * checkLength(s, "naive", 1);
 * assert.throws(() => checkLength(s, "seasonal_naive", 12), /series a has 3 points; seasonal_naive with season 12 needs at least 13/);
 * checkLength({ ...s, ds: [1, 2, 3, 4], y: [1, 2, 3, 4] }, "auto_ets", 12); // shorter than two seasons: non-seasonal ETS
 * assert.throws(
 *   () => checkLength(s, "ensemble", 1, "d.csv", { members: ["naive", "auto_arima"] }),
 *   /ensemble member auto_arima with season 1 needs at least 8/,
 * );
 * ```
 */
export function checkLength(
  s: Series,
  name: string,
  season: number,
  source = "data",
  params: Record<string, unknown> = {},
): void {
  const members = name === "ensemble" ? (createForecaster(name, params) as Ensemble).members : [name];
  for (const member of members) {
    const need = algorithm(member).minPoints(season);
    if (s.y.length < need) {
      const what = name === "ensemble" ? `ensemble member ${member}` : member;
      throw new MercuryError(
        "input",
        `series ${s.id} has ${s.y.length} points; ${what} with season ${season} needs at least ${need}`,
        {
          where: source,
          hint: `give more history, a smaller --season, or a simpler --algorithm (naive, drift)`,
        },
      );
    }
  }
}

/**
 * Fits a model on one series and returns the fitted model and its file.
 *
 * @example
 * ```ts
 * import { trainModel } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 96 }, (_, t) => 5 + (t % 12));
 * const s = { id: "a", ds: y.map((_, t) => t), y, filled: 0 };
 * const { file } = await trainModel(s, { algorithm: "seasonal_naive", season: 12, freq: { unit: "index", step: 1 } });
 * assert.equal(file.algorithm, "seasonal_naive");
 * assert.equal(file.metrics.rmse, 0);
 * ```
 */
export async function trainModel(s: Series, o: TrainOptions): Promise<{ model: Forecaster; file: ModelFile }> {
  checkLength(s, o.algorithm, o.season, o.source, o.params);
  let y = s.y;
  if (o.clean) {
    const d = await detectAnomalies(y, { method: "decomposition", season: o.season });
    y = cleanSeries(y, d.anomaly);
  }
  const ctx = { season: o.season, ds: s.ds, stepMs: stepMs(o.freq) };
  const params = o.params ?? {};
  let metrics: Record<string, number> = {};
  const h = o.horizon ?? 2 * Math.max(1, o.season);
  if (h > 0) {
    try {
      const r = await backtest(y, () => createForecaster(o.algorithm, params), { ...ctx, h, windows: o.windows ?? 2 });
      metrics = {
        ...r.metrics,
        ...Object.fromEntries(Object.entries(r.coverage).map(([k, v]) => [`coverage${k}`, v])),
        horizon: h,
      };
    } catch { /* too short for a backtest: no metrics */ }
  }
  const model = createForecaster(o.algorithm, params);
  await model.fit(y, ctx);
  const file: ModelFile = {
    format: "mercury-forecast-model",
    formatVersion: FORMAT_VERSION,
    version: o.version ?? "1.0.0",
    writer: VERSION,
    createdAt: new Date().toISOString(),
    algorithm: model.algorithm,
    description: model.describe(),
    params,
    series: {
      id: s.id,
      freq: o.freq,
      season: o.season,
      points: y.length,
      start: s.ds[0]!,
      end: s.ds[s.ds.length - 1]!,
      source: o.source,
      maseScale: maseScale(y, o.season),
    },
    fingerprint: await fingerprint(s.ds, y),
    metrics,
    model: model.toJSON(),
  };
  return { model, file };
}
