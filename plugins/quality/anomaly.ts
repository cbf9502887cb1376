/**
 * Anomaly checks on a metric's history (row count, null share, mean …), as
 * Deequ's `AnomalyDetector` runs them: the newest value is compared with what
 * the earlier values lead one to expect.
 *
 * - `relative_change`: Deequ's RelativeRateOfChangeStrategy — anomalous when
 *   value / previous is below `maxRateDecrease` or above `maxRateIncrease`.
 * - `absolute_change`: AbsoluteChangeStrategy — value − previous outside
 *   `[-maxDecrease, maxIncrease]`.
 * - `z_score`: the simple form of OnlineNormalStrategy — |value − mean| over
 *   the history's standard deviation above `threshold` (default 3).
 * - `forecast`: fits one of the forecast plugin's models (`auto_ets` by
 *   default, any name `createForecaster` knows) to the history and flags a
 *   value outside its one-step prediction interval at `level` % (default 99).
 *
 * @module
 */
import { createForecaster } from "@mercury/forecast";

/** A strategy and its parameters. */
export type AnomalyStrategy =
  | { type: "relative_change"; maxRateDecrease?: number; maxRateIncrease?: number }
  | { type: "absolute_change"; maxDecrease?: number; maxIncrease?: number }
  | { type: "z_score"; threshold?: number }
  | { type: "forecast"; algorithm?: string; level?: number; season?: number };

/** The verdict on one value. */
export interface AnomalyVerdict {
  strategy: AnomalyStrategy["type"];
  anomaly: boolean;
  value: number;
  /** What the strategy expected, when it has a point estimate. */
  expected?: number;
  /** The band the value had to fall in. */
  lower: number;
  upper: number;
  /** Why it was not judged (too little history), when it was not. */
  skipped?: string;
  detail: string;
}

const MIN_FORECAST_HISTORY = 6;

/**
 * Judges `value` against `history` (oldest first, without the value).
 *
 * @example
 * ```ts
 * import { checkAnomaly } from "./anomaly.ts";
 * import assert from "node:assert/strict";
 *
 * const history = [100, 102, 98, 101, 99, 100, 103, 97];
 * assert.equal((await checkAnomaly(history, 101, { type: "z_score" })).anomaly, false);
 * assert.equal((await checkAnomaly(history, 160, { type: "z_score" })).anomaly, true);
 * assert.equal((await checkAnomaly(history, 50, { type: "relative_change", maxRateDecrease: 0.9 })).anomaly, true);
 * ```
 */
export async function checkAnomaly(
  history: number[],
  value: number,
  strategy: AnomalyStrategy,
): Promise<AnomalyVerdict> {
  const h = history.filter(Number.isFinite);
  const skip = (why: string): AnomalyVerdict => ({
    strategy: strategy.type,
    anomaly: false,
    value,
    lower: -Infinity,
    upper: Infinity,
    skipped: why,
    detail: `not judged: ${why}`,
  });
  const verdict = (lower: number, upper: number, expected: number | undefined, what: string): AnomalyVerdict => {
    const anomaly = value < lower || value > upper;
    return {
      strategy: strategy.type,
      anomaly,
      value,
      expected,
      lower,
      upper,
      detail: `${value} ${anomaly ? "outside" : "within"} [${fmt(lower)}, ${fmt(upper)}] (${what})`,
    };
  };
  switch (strategy.type) {
    case "relative_change": {
      const prev = h.at(-1);
      if (prev === undefined) return skip("no previous value");
      const lo = strategy.maxRateDecrease ?? -Infinity;
      const hi = strategy.maxRateIncrease ?? Infinity;
      const a = prev * lo;
      const b = prev * hi;
      return verdict(Math.min(a, b), Math.max(a, b), prev, `rate of change against ${prev} within [${lo}, ${hi}]`);
    }
    case "absolute_change": {
      const prev = h.at(-1);
      if (prev === undefined) return skip("no previous value");
      const dn = strategy.maxDecrease ?? Infinity;
      const up = strategy.maxIncrease ?? Infinity;
      return verdict(prev - dn, prev + up, prev, `change against ${prev} within [-${dn}, +${up}]`);
    }
    case "z_score": {
      if (h.length < 3) return skip(`z-score needs 3 earlier values, has ${h.length}`);
      const mean = h.reduce((s, x) => s + x, 0) / h.length;
      const sd = Math.sqrt(h.reduce((s, x) => s + (x - mean) ** 2, 0) / (h.length - 1));
      const z = strategy.threshold ?? 3;
      return verdict(mean - z * sd, mean + z * sd, mean, `mean ± ${z}σ of ${h.length} values, σ = ${fmt(sd)}`);
    }
    case "forecast": {
      if (h.length < MIN_FORECAST_HISTORY) {
        return skip(`a forecast needs ${MIN_FORECAST_HISTORY} earlier values, has ${h.length}`);
      }
      const level = strategy.level ?? 99;
      const model = createForecaster(strategy.algorithm ?? "auto_ets");
      await model.fit(h, { season: strategy.season ?? 1 });
      const f = model.predict(1, [level]);
      const iv = f.intervals[0]!;
      const mean = f.mean[0]!;
      // A flat history gives a zero-width interval: widen it to the values' own rounding.
      const pad = Math.max(1e-9, Math.abs(mean) * 1e-9);
      return verdict(iv.lower[0]! - pad, iv.upper[0]! + pad, mean, `${model.describe()} ${level} % interval`);
    }
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
}

/** Where anomaly checks read histories from (the store implements it). */
export interface MetricHistorySource {
  metricHistory(
    suite: string,
    metric: string,
    source?: string,
  ): Promise<{ at: string; value: number; run_id: string }[]>;
}

/** One metric's verdicts on its newest value. */
export interface MetricAnomalies {
  metric: string;
  at: string;
  value: number;
  verdicts: AnomalyVerdict[];
  anomaly: boolean;
}

/**
 * Checks the newest value of each metric of a suite against its earlier
 * values with every strategy given.
 */
export async function checkMetrics(
  store: MetricHistorySource,
  suite: string,
  metrics: string[],
  strategies: AnomalyStrategy[],
  source?: string,
): Promise<MetricAnomalies[]> {
  const out: MetricAnomalies[] = [];
  for (const metric of metrics) {
    const hist = await store.metricHistory(suite, metric, source);
    const last = hist.at(-1);
    if (!last) continue;
    const earlier = hist.slice(0, -1).map((x) => x.value);
    const verdicts = [];
    for (const s of strategies) verdicts.push(await checkAnomaly(earlier, last.value, s));
    out.push({ metric, at: last.at, value: last.value, verdicts, anomaly: verdicts.some((v) => v.anomaly) });
  }
  return out;
}
