/**
 * The benchmarks: naive, seasonal naive, random walk with drift (analytical
 * intervals from Hyndman & Athanasopoulos, *FPP3* §5.5), and M4's Naive2
 * (naive on the series seasonally adjusted by classical multiplicative
 * decomposition when the M4 seasonality test says so).
 *
 * @module
 */
import {
  DEFAULT_LEVELS,
  type FitContext,
  type Forecast,
  type Forecaster,
  type ModelState,
  normalIntervals,
  residualSd,
} from "../forecaster.ts";
import { classicalIndices, seasonalityTest } from "../stats.ts";

type Kind = "naive" | "seasonal_naive" | "drift" | "naive2";

/**
 * Naive-family forecasters.
 *
 * @example
 * ```ts
 * import { Baseline } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const m = new Baseline("seasonal_naive");
 * await m.fit([1, 2, 3, 1, 2, 3], { season: 3 });
 * assert.deepEqual(m.predict(4).mean, [1, 2, 3, 1]);
 * ```
 */
export class Baseline implements Forecaster {
  readonly algorithm: Kind;
  #y: number[] = [];
  #season = 1;
  #indices: number[] | null = null;

  constructor(kind: Kind) {
    this.algorithm = kind;
  }

  fit(y: number[], ctx: FitContext): Promise<void> {
    this.#y = y.slice();
    this.#season = Math.max(1, ctx.season);
    this.#indices = this.algorithm === "naive2" && seasonalityTest(y, this.#season)
      ? classicalIndices(y, this.#season)
      : null;
    return Promise.resolve();
  }

  /** Seasonal index for absolute position t (0 = first training point). */
  #si(t: number): number {
    return this.#indices ? this.#indices[t % this.#season]! : 1;
  }

  fitted(): number[] {
    const y = this.#y;
    const m = this.#season;
    return y.map((_, t) => {
      switch (this.algorithm) {
        case "seasonal_naive":
          return t >= m ? y[t - m]! : NaN;
        case "naive2":
          return t >= 1 ? (y[t - 1]! / this.#si(t - 1)) * this.#si(t) : NaN;
        default:
          return t >= 1 ? y[t - 1]! : NaN;
      }
    });
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    const y = this.#y;
    const n = y.length;
    const m = this.#season;
    const last = y[n - 1]!;
    const resid = this.fitted().map((f, t) => y[t]! - f);
    let mean: number[];
    let sd: number[];
    if (this.algorithm === "seasonal_naive") {
      mean = Array.from({ length: h }, (_, i) => y[n - m + (i % m)] ?? last);
      const s = residualSd(resid);
      sd = mean.map((_, i) => s * Math.sqrt(Math.floor(i / m) + 1));
    } else if (this.algorithm === "drift") {
      const b = n > 1 ? (last - y[0]!) / (n - 1) : 0;
      mean = Array.from({ length: h }, (_, i) => last + b * (i + 1));
      const s = residualSd(resid.map((r) => r - b), 1);
      sd = mean.map((_, i) => s * Math.sqrt((i + 1) * (1 + (i + 1) / Math.max(1, n - 1))));
    } else {
      const base = this.algorithm === "naive2" ? last / this.#si(n - 1) : last;
      mean = Array.from({ length: h }, (_, i) => base * this.#si(n + i));
      const s = residualSd(resid);
      sd = mean.map((_, i) => s * Math.sqrt(i + 1));
    }
    return { mean, intervals: normalIntervals(mean, sd, levels) };
  }

  describe(): string {
    return this.algorithm === "naive2"
      ? `Naive2 (${this.#indices ? "seasonally adjusted" : "not seasonal"})`
      : this.algorithm;
  }

  toJSON(): ModelState {
    return { algorithm: this.algorithm, params: {}, season: this.#season, state: { y: this.#y } };
  }
}
