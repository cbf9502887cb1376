/**
 * Exponential smoothing state-space models (ETS, Hyndman et al. 2008): error
 * additive/multiplicative, trend none/additive/damped, season
 * none/additive/multiplicative, smoothing parameters and initial level/trend
 * estimated by maximum likelihood (Nelder–Mead), the model chosen by AICc —
 * the procedure of R's `ets()` and statsforecast's `AutoETS`, with two
 * differences: the initial seasonal states are not optimised but taken from a
 * classical decomposition of the last four cycles (aligned to the cycle, so
 * they are the states the forecast origin most depends on), and a series that
 * passes M4's seasonality test is only offered seasonal models.
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
} from "../forecaster.ts";
import { nelderMead } from "../optim.ts";
import { classicalIndices, linearFit, seasonalityTest } from "../stats.ts";

/** One ETS specification, e.g. `{ error: "M", trend: "Ad", season: "M" }`. */
export interface EtsSpec {
  error: "A" | "M";
  trend: "N" | "A" | "Ad";
  season: "N" | "A" | "M";
}

interface EtsFit {
  spec: EtsSpec;
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  l0: number;
  b0: number;
  s0: number[];
  sigma2: number;
  aicc: number;
}

const name = (s: EtsSpec) => `ETS(${s.error},${s.trend},${s.season})`;

/** Parses `"MAdM"`, `"ANN"`, `"ZZZ"`-style strings (Z = choose). */
export function parseEtsModel(model: string): { error: string; trend: string; season: string } {
  const m = /^([AMZ])(N|A|Ad|Z)([NAMZ])$/.exec(model);
  if (!m) throw new RangeError(`Cannot parse ETS model "${model}": expected e.g. ZZZ, AAdA, MNM`);
  return { error: m[1]!, trend: m[2]!, season: m[3]! };
}

function run(y: number[], f: EtsFit, m: number, keepFitted = false) {
  const { alpha, beta, gamma, phi } = f;
  const trend = f.spec.trend !== "N";
  const damped = f.spec.trend === "Ad" ? phi : 1;
  const seas = f.spec.season;
  let l = f.l0, b = trend ? f.b0 : 0;
  const s = seas === "N" ? [] : f.s0.slice();
  let sse = 0, slog = 0;
  const fitted = keepFitted ? new Array<number>(y.length) : [];
  for (let t = 0; t < y.length; t++) {
    const si = seas === "N" ? (0) : s[t % m]!;
    const base = l + damped * b;
    const yhat = seas === "M" ? base * si : base + si;
    if (keepFitted) fitted[t] = yhat;
    const e = y[t]! - yhat;
    if (f.spec.error === "M") {
      if (!(yhat > 0)) return { sse: Infinity, slog: 0, l, b, s, fitted };
      sse += (e / yhat) ** 2;
      slog += Math.log(Math.abs(yhat));
    } else sse += e * e;
    if (seas === "M") {
      l = base + (alpha * e) / si;
      b = damped * b + (beta * e) / si;
      s[t % m] = si + (gamma * e) / base;
    } else {
      l = base + alpha * e;
      b = damped * b + beta * e;
      if (seas === "A") s[t % m] = si + gamma * e;
    }
  }
  return { sse, slog, l, b, s, fitted };
}

function fitSpec(y: number[], spec: EtsSpec, m: number): EtsFit | null {
  const n = y.length;
  const seasonal = spec.season !== "N";
  if (seasonal && n < 2 * m + 2) return null;
  if ((spec.error === "M" || spec.season === "M") && y.some((v) => v <= 0)) return null;
  let s0: number[] = [];
  let adj = y.slice(0, Math.min(n, Math.max(2 * m, 10)));
  if (seasonal) {
    const head = n >= 4 * m ? y.slice(n - 4 * m - (n % m)) : y.slice(0, n - (n % m));
    s0 = classicalIndices(head, m, spec.season === "M" ? "multiplicative" : "additive");
    adj = y.slice(0, 2 * m).map((v, t) => (spec.season === "M" ? v / s0[t % m]! : v - s0[t % m]!));
  }
  const [a0, b0] = linearFit(adj);
  const trend = spec.trend !== "N";
  const damped = spec.trend === "Ad";
  const scale = Math.max(1e-8, Math.abs(a0));
  // x = [alpha, beta, gamma, phi, l0/scale, b0/scale] (unused entries dropped)
  const pack = (x: number[]): EtsFit => {
    let i = 0;
    const alpha = x[i++]!;
    const beta = trend ? x[i++]! : 0;
    const gamma = seasonal ? x[i++]! : 0;
    const phi = damped ? x[i++]! : 1;
    const l0 = x[i++]! * scale;
    const bb = trend ? x[i++]! * scale : 0;
    return { spec, alpha, beta, gamma, phi, l0, b0: bb, s0, sigma2: 0, aicc: 0 };
  };
  const x0 = [
    0.1,
    ...(trend ? [0.01] : []),
    ...(seasonal ? [0.01] : []),
    ...(damped ? [0.95] : []),
    a0 / scale,
    ...(trend ? [b0 / scale] : []),
  ];
  const objective = (x: number[]) => {
    const f = pack(x);
    if (!(f.alpha > 1e-4 && f.alpha < 0.9999)) return Infinity;
    if (trend && !(f.beta > 1e-4 && f.beta < f.alpha)) return Infinity;
    if (seasonal && !(f.gamma > 1e-4 && f.gamma < 1 - f.alpha)) return Infinity;
    if (damped && !(f.phi >= 0.8 && f.phi <= 0.98)) return Infinity;
    const r = run(y, f, m);
    if (!Number.isFinite(r.sse) || r.sse <= 0) return Infinity;
    return n * Math.log(r.sse / n) + 2 * r.slog;
  };
  const opt = nelderMead(objective, x0, { maxEval: 250 * x0.length, tol: 1e-7 });
  if (!Number.isFinite(opt.value) || opt.value >= 1e299) return null;
  const fit = pack(opt.x);
  const r = run(y, fit, m);
  const k = x0.length + (seasonal ? m - 1 : 0) + 1;
  const lik = opt.value + n * Math.log(2 * Math.PI * Math.E);
  const aic = lik + 2 * k;
  fit.aicc = n - k - 1 > 0 ? aic + (2 * k * (k + 1)) / (n - k - 1) : Infinity;
  fit.sigma2 = r.sse / Math.max(1, n - k);
  return fit;
}

/**
 * Automatic ETS: fits every admissible model of the `model` pattern (`ZZZ` =
 * all) and keeps the lowest AICc.
 *
 * @example
 * ```ts
 * import { AutoETS } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 60 }, (_, t) => 50 + t + 10 * Math.sin((2 * Math.PI * t) / 12));
 * const m = new AutoETS();
 * await m.fit(y, { season: 12 });
 * const f = m.predict(12, [95]);
 * assert.equal(f.mean.length, 12);
 * assert.ok(f.mean[0]! > 100 && f.mean[0]! < 125);
 * ```
 */
export class AutoETS implements Forecaster {
  readonly algorithm = "auto_ets";
  #model: string;
  #damped: boolean | undefined;
  #y: number[] = [];
  #m = 1;
  #fit: EtsFit | null = null;

  /** `model`: an ETS pattern such as `ZZZ` (default), `AAdA`, `MZM`; `damped` forces or forbids damping. */
  constructor(params: { model?: string; damped?: boolean } = {}) {
    this.#model = params.model ?? "ZZZ";
    this.#damped = params.damped;
    parseEtsModel(this.#model);
  }

  fit(y: number[], ctx: FitContext): Promise<void> {
    this.#y = y.slice();
    this.#m = Math.max(1, ctx.season);
    const p = parseEtsModel(this.#model);
    const errors = p.error === "Z" ? ["A", "M"] : [p.error];
    let trends = p.trend === "Z" ? ["N", "A", "Ad"] : [p.trend];
    if (this.#damped === true) trends = trends.filter((t) => t === "Ad");
    if (this.#damped === false) trends = trends.filter((t) => t !== "Ad");
    // A series that passes M4's seasonality test gets a seasonal model (AICc's 23 extra
    // seasonal states for m = 24 otherwise let a non-seasonal model win on a few series).
    const seasons = this.#m === 1
      ? ["N"]
      : p.season === "Z"
      ? (seasonalityTest(y, this.#m) ? ["A", "M"] : ["N", "A", "M"])
      : [p.season];
    let best: EtsFit | null = null;
    for (const error of errors) {
      for (const trend of trends) {
        for (const season of seasons) {
          if (error === "A" && season === "M") continue; // unstable combination, excluded as in ets()
          const f = fitSpec(y, { error, trend, season } as EtsSpec, this.#m);
          if (f && (!best || f.aicc < best.aicc)) best = f;
        }
      }
    }
    if (!best) best = fitSpec(y, { error: "A", trend: "N", season: "N" }, 1);
    if (!best) throw new RangeError(`Cannot fit any ETS model to ${y.length} points`);
    this.#fit = best;
    return Promise.resolve();
  }

  #need(): EtsFit {
    if (!this.#fit) throw new Error("AutoETS: fit() first");
    return this.#fit;
  }

  fitted(): number[] {
    return run(this.#y, this.#need(), this.#m, true).fitted;
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    const f = this.#need();
    const m = this.#m;
    const n = this.#y.length;
    const st = run(this.#y, f, m);
    const damped = f.spec.trend === "Ad" ? f.phi : 1;
    const mean: number[] = [];
    const sd: number[] = [];
    let phiSum = 0;
    let cum = 0;
    for (let i = 1; i <= h; i++) {
      phiSum += damped ** i;
      const base = st.l + (f.spec.trend === "N" ? 0 : phiSum * st.b);
      const si = f.spec.season === "N" ? null : st.s[(n + i - 1) % m]!;
      const yhat = si === null ? base : f.spec.season === "M" ? base * si : base + si;
      mean.push(yhat);
      // Class-1 variance (exact for additive models; a first-order approximation otherwise).
      const v = f.sigma2 * (1 + cum);
      sd.push(Math.sqrt(v) * (f.spec.error === "M" ? Math.abs(yhat) : 1));
      const cj = f.alpha * (1 + (f.spec.trend === "N" ? 0 : (f.beta / f.alpha) * phiSum)) +
        (f.spec.season !== "N" && i % m === 0 ? f.gamma : 0);
      cum += cj * cj;
    }
    return { mean, intervals: normalIntervals(mean, sd, levels) };
  }

  describe(): string {
    return this.#fit ? name(this.#fit.spec) : "AutoETS (not fitted)";
  }

  toJSON(): ModelState {
    return {
      algorithm: this.algorithm,
      params: { model: this.#model, ...(this.#damped === undefined ? {} : { damped: this.#damped }) },
      season: this.#m,
      state: { y: this.#y, fit: this.#need() },
    };
  }

  /** Restores a model written by `toJSON()` without refitting. */
  static fromState(s: ModelState): AutoETS {
    const m = new AutoETS(s.params as { model?: string; damped?: boolean });
    const st = s.state as { y: number[]; fit: EtsFit };
    m.#y = st.y;
    m.#m = s.season;
    m.#fit = st.fit;
    return m;
  }
}
