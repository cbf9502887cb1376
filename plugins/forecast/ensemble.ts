/**
 * Ensembles: several algorithms fitted on the same series, combined by the
 * mean, the median, or weights from cross-validation error (inverse backtest
 * MASE). Intervals combine the members' bounds the same way (quantile
 * averaging).
 *
 * @module
 */
import { algorithm } from "./algorithms.ts";
import { backtest } from "./backtest.ts";
import { DEFAULT_LEVELS, type FitContext, type Forecast, type Forecaster, type ModelState } from "./forecaster.ts";

/** The default members and combination, chosen on the validation series (never on the test set). */
export const DEFAULT_MEMBERS: readonly string[] = ["auto_arima", "mstl"];
export const DEFAULT_COMBINATION = "median" as const;

/** Options of {@linkcode Ensemble}. */
export interface EnsembleParams {
  /**
   * Member algorithms (default auto_arima and mstl: of the 52 member sets compared on the M4 Hourly validation series,
   * the median of these two scored best; see the forecast README, "Validation").
   */
  members?: string[];
  /**
   * `median` (default, chosen on validation with the members), `mean`, `weighted` (inverse CV MASE) or `select`
   * (the member with the lowest CV MASE, per series). `weighted` and `select` backtest every member first.
   */
  combination?: "weighted" | "select" | "mean" | "median";
  /** Backtest windows used for the weights (default 2). */
  windows?: number;
  /** Backtest horizon for the weights (default 2 seasons). */
  horizon?: number;
  /** Per-member parameters. */
  memberParams?: Record<string, Record<string, unknown>>;
  /**
   * Forecasts of members computed elsewhere, by member name: `forecastBatch` trains a global member (N-BEATS) once
   * over all series and hands each series' forecast in here. Such a member combines by mean or median only (its
   * weight would need a per-series backtest).
   */
  given?: Record<string, Forecast>;
}

/** A member whose forecast was computed elsewhere (a global model); it only slices what it was given. */
class GivenForecast implements Forecaster {
  constructor(readonly algorithm: string, readonly f: Forecast, readonly n: number) {}
  fit(): Promise<void> {
    return Promise.resolve();
  }
  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    if (h > this.f.mean.length) {
      throw new RangeError(`${this.algorithm} was given ${this.f.mean.length} steps, ${h} asked`);
    }
    return {
      mean: this.f.mean.slice(0, h),
      intervals: levels.map((level) => {
        const iv = this.f.intervals.find((i) => i.level === level);
        if (!iv) throw new RangeError(`${this.algorithm} was given no ${level}% interval`);
        return { level, lower: iv.lower.slice(0, h), upper: iv.upper.slice(0, h) };
      }),
    };
  }
  fitted(): number[] {
    return new Array(this.n).fill(NaN);
  }
  describe(): string {
    return `${this.algorithm}(global)`;
  }
  toJSON(): ModelState {
    throw new Error(`${this.algorithm}: a member given by a batch cannot be saved; train it on its own`);
  }
}

const median = (v: number[]) => {
  const s = v.slice().sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
};

/**
 * A combination of forecasters.
 *
 * @example
 * ```ts
 * import { Ensemble } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 60 }, (_, t) => 10 + (t % 6));
 * const e = new Ensemble({ members: ["seasonal_naive", "naive2"], combination: "mean" });
 * await e.fit(y, { season: 6 });
 * assert.equal(e.predict(6).mean.length, 6);
 * ```
 */
export class Ensemble implements Forecaster {
  readonly algorithm = "ensemble";
  #p: EnsembleParams;
  #members: Forecaster[] = [];
  #weights: number[] = [];

  constructor(params: EnsembleParams = {}) {
    this.#p = params;
  }

  get members(): string[] {
    return this.#p.members ?? [...DEFAULT_MEMBERS];
  }

  /** The members' weights (sum 1). */
  get weights(): number[] {
    return this.#weights.slice();
  }

  async fit(y: number[], ctx: FitContext): Promise<void> {
    const make = (name: string) => algorithm(name).create(this.#p.memberParams?.[name] ?? {});
    this.#members = [];
    const comb = this.#p.combination ?? DEFAULT_COMBINATION;
    for (const name of this.members) {
      const given = this.#p.given?.[name];
      if (given && (comb === "weighted" || comb === "select")) {
        throw new RangeError(`ensemble member ${name} is a global model: combine it by mean or median`);
      }
      const m = given ? new GivenForecast(name, given, y.length) : make(name);
      await m.fit(y, ctx);
      this.#members.push(m);
    }
    if (comb === "weighted" || comb === "select") {
      const h = this.#p.horizon ?? Math.max(1, 2 * ctx.season);
      const errs: number[] = [];
      for (const name of this.members) {
        try {
          const r = await backtest(y, () => make(name), {
            h,
            windows: this.#p.windows ?? 2,
            season: ctx.season,
            stepMs: ctx.stepMs,
            ds: ctx.ds,
          });
          errs.push(r.metrics.mase);
        } catch {
          errs.push(Infinity);
        }
      }
      const inv = errs.map((e) => (Number.isFinite(e) && e > 0 ? 1 / e : 0));
      const s = inv.reduce((a, b) => a + b, 0);
      const best = errs.indexOf(Math.min(...errs));
      if (comb === "select" && Number.isFinite(errs[best]!)) this.#weights = errs.map((_, i) => (i === best ? 1 : 0));
      else this.#weights = s > 0 ? inv.map((v) => v / s) : errs.map(() => 1 / errs.length);
    } else this.#weights = this.members.map(() => 1 / this.members.length);
  }

  #combine(values: number[][]): number[] {
    const comb = this.#p.combination ?? DEFAULT_COMBINATION;
    return values[0]!.map((_, i) => {
      const col = values.map((v) => v[i]!);
      return comb === "median" ? median(col) : col.reduce((s, v, k) => s + this.#weights[k]! * v, 0);
    });
  }

  fitted(): number[] {
    return this.#combine(this.#members.map((m) => m.fitted()));
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    const fs = this.#members.map((m) => m.predict(h, [...levels]));
    return {
      mean: this.#combine(fs.map((f) => f.mean)),
      intervals: levels.map((level, i) => ({
        level,
        lower: this.#combine(fs.map((f) => f.intervals[i]!.lower)),
        upper: this.#combine(fs.map((f) => f.intervals[i]!.upper)),
      })),
    };
  }

  describe(): string {
    const comb = this.#p.combination ?? DEFAULT_COMBINATION;
    return `Ensemble[${comb}](${
      this.#members.map((m, i) => `${m.describe()}×${this.#weights[i]!.toFixed(2)}`).join(", ")
    })`;
  }

  toJSON(): ModelState {
    return {
      algorithm: this.algorithm,
      params: { ...this.#p, given: undefined, members: this.members },
      season: this.#members[0]?.toJSON().season ?? 1,
      state: { members: this.#members.map((m) => m.toJSON()), weights: this.#weights },
    };
  }

  /** Restores an ensemble and its members. */
  static async fromState(s: ModelState): Promise<Ensemble> {
    const e = new Ensemble(s.params as EnsembleParams);
    const st = s.state as { members: ModelState[]; weights: number[] };
    e.#members = [];
    for (const m of st.members) e.#members.push(await algorithm(m.algorithm).restore(m));
    e.#weights = st.weights;
    return e;
  }
}

/**
 * Builds any model by name, `ensemble` included.
 *
 * @example
 * ```ts
 * import { createForecaster } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(createForecaster("ets").algorithm, "auto_ets");
 * assert.equal(createForecaster("ensemble", { combination: "median" }).algorithm, "ensemble");
 * ```
 */
export function createForecaster(name: string, params: Record<string, unknown> = {}): Forecaster {
  if (name === "ensemble") return new Ensemble(params as EnsembleParams);
  return algorithm(name).create(params);
}

/** Restores any model (ensembles included) from its `toJSON()` output. */
export function restoreForecaster(state: ModelState): Promise<Forecaster> | Forecaster {
  if (state.algorithm === "ensemble") return Ensemble.fromState(state);
  return algorithm(state.algorithm).restore(state);
}
