/**
 * Models from Grafana's augurs (npm `@bsull/augurs`, Rust compiled to wasm):
 * Prophet — the real Prophet model, its Stan program compiled to wasm
 * (`@bsull/augurs-prophet-wasmstan`), fitted by MAP/L-BFGS exactly as Python
 * Prophet's `optimizing()` — and MSTL (multiple STL seasonal decomposition,
 * the trend forecast by ETS). Their fitted state lives in wasm memory, so
 * `toJSON()` keeps the training data and restoring refits (deterministic).
 *
 * @module
 */
import initMstl, { MSTL } from "@bsull/augurs/mstl";
import initProphet, { Prophet as AugursProphet, type ProphetHoliday } from "@bsull/augurs/prophet";
import { optimizer } from "@bsull/augurs-prophet-wasmstan";
import {
  DEFAULT_LEVELS,
  type FitContext,
  type Forecast,
  type Forecaster,
  type Interval,
  type ModelState,
  normalIntervals,
  residualSd,
} from "../forecaster.ts";
import { AutoETS } from "./ets.ts";

let ready: Promise<unknown> | null = null;
/** Loads the augurs wasm modules once. */
export function initAugurs(): Promise<unknown> {
  return ready ??= Promise.all([initMstl(), initProphet()]);
}

/** Options of {@linkcode Prophet}. */
export interface ProphetParams {
  changepointPriorScale?: number;
  seasonalityPriorScale?: number;
  nChangepoints?: number;
  seasonalityMode?: "additive" | "multiplicative";
  /** Holidays: name → occurrences as [start, end) epoch-ms pairs, and an optional prior scale. */
  holidays?: Record<string, { occurrences: [number, number][]; priorScale?: number }>;
}

/**
 * Prophet: piecewise-linear trend with changepoints, Fourier seasonalities
 * (daily/weekly/yearly chosen by the data's span and step, as Prophet does),
 * holidays; MAP fit by the Stan model. Uses the series' timestamps when known,
 * else an hourly clock (`stepMs`).
 *
 * @example
 * ```ts
 * import { Prophet } from "@mercury/forecast/prophet";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 96 }, (_, t) => 20 + 5 * Math.sin((2 * Math.PI * t) / 24));
 * const m = new Prophet();
 * await m.fit(y, { season: 24, stepMs: 3_600_000 });
 * const f = m.predict(24, [80]);
 * assert.equal(f.mean.length, 24);
 * assert.ok(Math.abs(f.mean[6]! - 25) < 1.5);
 * ```
 */
export class Prophet implements Forecaster {
  readonly algorithm = "prophet";
  #params: ProphetParams;
  #y: number[] = [];
  #ds: number[] = [];
  #m = 1;
  #stepMs = 3_600_000;
  #model: AugursProphet | null = null;
  #fittedValues: number[] = [];

  constructor(params: ProphetParams = {}) {
    this.#params = params;
  }

  async fit(y: number[], ctx: FitContext): Promise<void> {
    await initAugurs();
    this.#y = y.slice();
    this.#m = ctx.season;
    this.#stepMs = ctx.stepMs ?? (ctx.ds && ctx.ds.length > 1 ? ctx.ds[1]! - ctx.ds[0]! : 3_600_000);
    this.#ds = ctx.ds?.slice() ?? y.map((_, i) => Date.UTC(2020, 0, 1) + i * this.#stepMs);
    const p = this.#params;
    const holidays = p.holidays
      ? new Map<string, ProphetHoliday>(
        Object.entries(p.holidays).map(([name, h]) => [name, {
          occurrences: h.occurrences.map(([a, b]) => ({ start: Math.floor(a / 1000), end: Math.floor(b / 1000) })),
          priorScale: h.priorScale,
        } as ProphetHoliday]),
      )
      : undefined;
    const model = new AugursProphet({
      optimizer,
      changepointPriorScale: p.changepointPriorScale,
      seasonalityPriorScale: p.seasonalityPriorScale,
      nChangepoints: p.nChangepoints,
      seasonalityMode: p.seasonalityMode,
      holidays,
      uncertaintySamples: 0,
    });
    model.fit({ ds: this.#ds.map((d) => Math.floor(d / 1000)), y: this.#y });
    this.#model = model;
    this.#fittedValues = model.predict().yhat.point;
  }

  fitted(): number[] {
    return this.#fittedValues.slice();
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    if (!this.#model) throw new Error("Prophet: fit() first");
    const last = this.#ds[this.#ds.length - 1]!;
    const ds = Array.from({ length: h }, (_, i) => Math.floor((last + (i + 1) * this.#stepMs) / 1000));
    const mean = this.#model.predict({ ds }).yhat.point;
    // Prophet's own intervals simulate trend changes; we use the in-sample residual scale (Gaussian).
    const s = residualSd(this.#y.map((v, i) => v - this.#fittedValues[i]!));
    const intervals: Interval[] = normalIntervals(mean, mean.map(() => s), levels);
    return { mean, intervals };
  }

  describe(): string {
    return `Prophet(changepoint_prior=${this.#params.changepointPriorScale ?? 0.05})`;
  }

  toJSON(): ModelState {
    return {
      algorithm: this.algorithm,
      params: { ...this.#params },
      season: this.#m,
      state: { y: this.#y, ds: this.#ds, stepMs: this.#stepMs },
    };
  }

  /** Restores by refitting on the stored series (the Stan fit is deterministic). */
  static async fromState(s: ModelState): Promise<Prophet> {
    const m = new Prophet(s.params as ProphetParams);
    const st = s.state as { y: number[]; ds: number[]; stepMs: number };
    await m.fit(st.y, { season: s.season, ds: st.ds, stepMs: st.stepMs });
    return m;
  }
}

/** Options of {@linkcode Mstl}. */
export interface MstlParams {
  /** Seasonal periods (default: the series' season, plus 7× it when the data is hourly-like and long enough). */
  periods?: number[];
  /** Periods as multiples of the series' season (e.g. [1, 7]: daily and weekly on hourly data); `periods` wins. */
  multiples?: number[];
}

/**
 * MSTL: STL decomposition for several seasonal periods, the deseasonalised
 * series forecast by AutoETS (augurs).
 *
 * @example
 * ```ts
 * import { Mstl } from "@mercury/forecast/prophet";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 96 }, (_, t) => 20 + 5 * Math.sin((2 * Math.PI * t) / 24));
 * const m = new Mstl();
 * await m.fit(y, { season: 24 });
 * assert.ok(Math.abs(m.predict(24).mean[6]! - 25) < 1);
 * ```
 */
export class Mstl implements Forecaster {
  readonly algorithm = "mstl";
  #params: MstlParams;
  #y: number[] = [];
  #m = 1;
  #periods: number[] = [];
  #model: MSTL | null = null;
  /** A series shorter than two of every period has nothing for STL to decompose: non-seasonal AutoETS instead. */
  #fallback: AutoETS | null = null;

  constructor(params: MstlParams = {}) {
    this.#params = params;
  }

  async fit(y: number[], ctx: FitContext): Promise<void> {
    await initAugurs();
    this.#y = y.slice();
    this.#m = ctx.season;
    const periods = this.#params.periods ??
      this.#params.multiples?.map((k) => Math.round(k * ctx.season)) ??
      (ctx.season > 1 ? (ctx.season === 24 && y.length >= 3 * 168 ? [24, 168] : [ctx.season]) : []);
    this.#periods = periods.filter((p) => p > 1 && y.length >= 2 * p);
    this.#model = null;
    this.#fallback = null;
    if (this.#periods.length === 0) {
      this.#fallback = new AutoETS({ model: "ZZN" });
      await this.#fallback.fit(y, { season: 1 });
      return;
    }
    const model = MSTL.ets(this.#periods);
    model.fit(y);
    this.#model = model;
  }

  fitted(): number[] {
    if (this.#fallback) return this.#fallback.fitted();
    if (!this.#model) throw new Error("MSTL: fit() first");
    return this.#model.predictInSample().point;
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    if (this.#fallback) return this.#fallback.predict(h, levels);
    if (!this.#model) throw new Error("MSTL: fit() first");
    const mean = this.#model.predict(h).point;
    const intervals = levels.map((level) => {
      const f = this.#model!.predict(h, level / 100);
      return { level, lower: f.intervals!.lower, upper: f.intervals!.upper };
    });
    return { mean, intervals };
  }

  describe(): string {
    if (this.#fallback) {
      return `MSTL(periods=none: ${this.#y.length} points < 2×${this.#m}) → ${this.#fallback.describe()}`;
    }
    return `MSTL(periods=${this.#periods.join(",") || "none"}, trend=AutoETS)`;
  }

  toJSON(): ModelState {
    return { algorithm: this.algorithm, params: { ...this.#params }, season: this.#m, state: { y: this.#y } };
  }

  /** Restores by refitting on the stored series. */
  static async fromState(s: ModelState): Promise<Mstl> {
    const m = new Mstl(s.params as MstlParams);
    await m.fit((s.state as { y: number[] }).y, { season: s.season });
    return m;
  }
}
