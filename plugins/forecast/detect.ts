/**
 * Anomaly detection with a score per point. `residual`: fit a model, score
 * each point by its one-step residual as a robust z-score (median/MAD).
 * `decomposition`: a robust additive decomposition (running-median trend,
 * median seasonal index per position), score the remainder the same way. Points scoring
 * above the threshold are anomalies; {@linkcode cleanSeries} replaces them by
 * interpolation before training.
 *
 * @module
 */
import { createForecaster } from "./ensemble.ts";

/** Options of {@linkcode detectAnomalies}. */
export interface DetectOptions {
  method?: "residual" | "decomposition";
  season: number;
  /** Robust z above which a point is an anomaly (default 3.5). */
  threshold?: number;
  /** Model for the residual method (default auto_ets). */
  algorithm?: string;
  /**
   * Its parameters. Default for auto_ets: `{ states: "fixed" }` — initial seasonal states from the robust (median)
   * decomposition; fitted by likelihood they would absorb part of a spike and shift that hour in every cycle.
   */
  params?: Record<string, unknown>;
}

/** Scores and flags per point. */
export interface Detection {
  /** Expected value per point (fitted or trend + season). */
  expected: number[];
  score: number[];
  anomaly: boolean[];
  threshold: number;
}

const median = (v: number[]) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return 0;
  const k = s.length >> 1;
  return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
};

/**
 * Trend + season that a spike cannot drag along: the trend is a running
 * median over one season, the seasonal index the median detrended value per
 * position of the cycle.
 */
function robustDecomposition(y: number[], m: number): number[] {
  const half = Math.max(1, Math.floor(m / 2));
  const runMed = (x: number[]) =>
    x.map((_, t) => median(x.slice(Math.max(0, t - half), Math.min(x.length, t + half + 1))));
  let trend = runMed(y);
  let season = new Array<number>(y.length).fill(0);
  if (m > 1 && y.length >= 2 * m) {
    const idx = Array.from(
      { length: m },
      (_, p) => median(y.filter((_, t) => t % m === p).map((v, j) => v - trend[p + j * m]!)),
    );
    const c = median(idx);
    season = y.map((_, t) => idx[t % m]! - c);
    trend = runMed(y.map((v, t) => v - season[t]!));
  }
  return trend.map((tr, t) => tr + season[t]!);
}

function robustZ(r: number[]): number[] {
  const f = r.filter(Number.isFinite).sort((a, b) => a - b);
  const med = f[f.length >> 1] ?? 0;
  const dev = f.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
  const mad = 1.4826 * (dev[dev.length >> 1] ?? 0) || 1e-12;
  return r.map((v) => (Number.isFinite(v) ? Math.abs(v - med) / mad : 0));
}

/**
 * Scores every point of `y`.
 *
 * @example
 * ```ts
 * import { detectAnomalies } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 96 }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 24) + ((t * 7) % 5) / 10);
 * y[50] = 30;
 * const d = await detectAnomalies(y, { method: "decomposition", season: 24 });
 * assert.ok(d.anomaly[50]);
 * assert.equal(d.anomaly.filter(Boolean).length, 1);
 * ```
 */
export async function detectAnomalies(y: number[], options: DetectOptions): Promise<Detection> {
  const threshold = options.threshold ?? 3.5;
  const m = options.season;
  let expected: number[];
  if ((options.method ?? "residual") === "decomposition") {
    expected = robustDecomposition(y, m);
  } else {
    const algorithm = options.algorithm ?? "auto_ets";
    const model = createForecaster(algorithm, options.params ?? (algorithm === "auto_ets" ? { states: "fixed" } : {}));
    await model.fit(y, { season: m });
    expected = model.fitted();
  }
  const score = robustZ(y.map((v, t) => v - expected[t]!));
  return { expected, score, anomaly: score.map((s) => s > threshold), threshold };
}

/**
 * Replaces flagged points by linear interpolation between their unflagged neighbours.
 *
 * @example
 * ```ts
 * import { cleanSeries } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(cleanSeries([1, 99, 3], [false, true, false]), [1, 2, 3]);
 * ```
 */
export function cleanSeries(y: number[], anomaly: boolean[]): number[] {
  const out = y.slice();
  for (let i = 0; i < y.length; i++) {
    if (!anomaly[i]) continue;
    let j = i;
    while (j < y.length && anomaly[j]) j++;
    const a = i > 0 ? out[i - 1]! : undefined, b = j < y.length ? y[j]! : undefined;
    for (let k = i; k < j; k++) {
      out[k] = a === undefined ? b! : b === undefined ? a : a + ((b - a) * (k - i + 1)) / (j - i + 1);
    }
    i = j;
  }
  return out;
}
