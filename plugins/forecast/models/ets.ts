/**
 * Exponential smoothing state-space models (ETS, Hyndman et al. 2008): error
 * additive/multiplicative, trend none/additive/damped, season
 * none/additive/multiplicative, fitted by maximum likelihood and chosen by
 * AICc — statsforecast's `AutoETS` (R's `ets()`) step by step: the initial
 * level, trend and seasonal states (from a classical decomposition of the
 * whole series) optimised with the smoothing parameters by a bounded adaptive
 * Nelder–Mead (1000 iterations, `tol_std` 1e-4), the usual bounds plus the
 * admissible region (characteristic roots, by a Schur–Cohn test), the same
 * starting values and the same shared beta/gamma bounds across the models.
 * One difference, measured on M4 Hourly: a series that passes M4's 90%
 * seasonality test is offered only seasonal models (`seasonalOnly`, default
 * on) — the joint 25-dimensional search often stops near its start, and AICc
 * then prefers a random walk (ETS(A,N,N)) on clearly seasonal series.
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
import { nelderMeadBounded } from "../optim.ts";
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
  /** Why a simpler model than the pattern asked for was fitted (e.g. too short for seasonal models), if it was. */
  fallback?: string;
}

/**
 * The longest season whose initial seasonal states AutoETS searches jointly with the smoothing parameters: for a
 * 52- or 365-step season that search stays at its start, the level barely moves and forecasts start far from the
 * recent level. Longer seasons keep the decomposition's seasonal states (`states: "fixed"`). Measured on the
 * synthetic weekly set (40 series, `deno run -A data/forecast_dev_eval.ts weekly 40 auto_ets`): mean MASE 0.99
 * with the joint search, 1.03 with seasonality ignored (R's and statsforecast's rule for m > 24), 0.71 fixed.
 */
export const ETS_MAX_SEASON = 24;

/** The fewest points for which seasonal ETS models are offered: two seasons plus two (else non-seasonal). */
export const etsSeasonalMinPoints = (m: number): number => 2 * m + 2;

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

/**
 * −2 log-likelihood (up to a constant) of one ETS model: n·log(SSE) (+ 2·Σ log|ŷ| for multiplicative errors), the
 * criterion R's `ets` and statsforecast minimise. `s` is a scratch buffer of m seasonal states, overwritten.
 */
function negLogLik(
  y: Float64Array,
  m: number,
  errM: boolean,
  trend: boolean,
  phi: number,
  season: 0 | 1 | 2,
  alpha: number,
  beta: number,
  gamma: number,
  l0: number,
  b0: number,
  s: Float64Array,
): number {
  let l = l0, b = trend ? b0 : 0;
  let sse = 0, slog = 0;
  const n = y.length;
  let j = 0;
  for (let t = 0; t < n; t++) {
    const base = l + phi * b;
    const si = season === 0 ? 0 : s[j]!;
    const yhat = season === 2 ? base * si : base + si;
    const e = y[t]! - yhat;
    if (errM) {
      if (!(yhat > 0)) return Infinity;
      const r = e / yhat;
      sse += r * r;
      slog += Math.log(yhat);
    } else sse += e * e;
    if (season === 2) {
      const es = e / si;
      l = base + alpha * es;
      b = phi * b + beta * es;
      s[j] = si + (gamma * e) / base;
    } else {
      l = base + alpha * e;
      b = phi * b + beta * e;
      if (season === 1) s[j] = si + gamma * e;
    }
    if (++j === m) j = 0;
  }
  if (!(sse > 0) || !Number.isFinite(sse)) return Infinity;
  return n * Math.log(sse) + 2 * slog;
}

/** Schur–Cohn test: every root of `c[0] + c[1] z + … + c[d] z^d` lies inside the unit circle (1e-10 slack). */
function rootsInsideUnitCircle(c: number[]): boolean {
  let p = c.slice();
  while (p.length > 1) {
    const d = p.length - 1;
    const k = p[0]! / p[d]!;
    if (!(Math.abs(k) < 1 + 1e-10)) return false;
    if (Math.abs(k) >= 1) return true; // on the circle within the slack
    const q = new Array<number>(d);
    for (let i = 0; i < d; i++) q[i] = p[i + 1]! - k * p[d - 1 - i]!;
    p = q;
  }
  return true;
}

/**
 * The admissible region of Hyndman et al. (2008) (the forecastability of the
 * state-space model), as R's `ets(bounds = "both")` and statsforecast check it.
 * Pass `NaN` for a parameter the model does not have (beta without trend,
 * gamma without season) and phi = 1 without damping.
 *
 * @example
 * ```ts
 * import { etsAdmissible } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(etsAdmissible(0.2, NaN, 0.1, 1, 24), true); // ETS(·,N,A), alpha 0.2, gamma 0.1
 * assert.equal(etsAdmissible(1.95, NaN, 0.5, 1, 24), false);
 * ```
 */
export function etsAdmissible(alpha: number, beta: number, gamma: number, phi: number, m: number): boolean {
  if (phi < 0 || phi > 1 + 1e-8) return false;
  if (Number.isNaN(gamma)) {
    if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi) return false;
    if (!Number.isNaN(beta) && (beta < alpha * (phi - 1) || beta > (1 + phi) * (2 - alpha))) return false;
    return true;
  }
  if (m <= 1) return true;
  const b = Number.isNaN(beta) ? 0 : beta;
  if (gamma < Math.max(1 - 1 / phi - alpha, 0) || gamma > 1 + 1 / phi - alpha) return false;
  if (alpha < 1 - 1 / phi - (gamma * (1 - m + phi + phi * m)) / (2 * phi * m)) return false;
  if (b < -(1 - phi) * (gamma / m + alpha)) return false;
  // characteristic polynomial, increasing powers (degree m + 1)
  const P = new Array<number>(m + 2);
  P[0] = phi * (1 - alpha - gamma);
  P[1] = alpha + b - alpha * phi + gamma - 1;
  for (let i = 2; i < m; i++) P[i] = alpha + b - alpha * phi;
  P[m] = alpha + b - phi;
  P[m + 1] = 1;
  return rootsInsideUnitCircle(P);
}

const LOWER = 1e-4, UPPER = 0.9999, PHI_LOWER = 0.8, PHI_UPPER = 0.98, HUGE = 1e10;

/**
 * Upper bounds of beta and gamma shared by the models of one automatic fit:
 * as in statsforecast (and R's `ets`), the start of a model's search tightens
 * them (beta ≤ its starting alpha, gamma ≤ 1 − its starting alpha) and the
 * later models inherit the tighter bound.
 */
interface SharedBounds {
  beta: number;
  gamma: number;
}

/** Initial level, trend and seasonal states (statsforecast's `initstate`): a decomposition of the whole series. */
function initialStates(y: number[], m: number, spec: EtsSpec): { l0: number; b0: number; s0: number[] } {
  const n = y.length;
  let s0: number[] = [];
  let ysa = y;
  if (spec.season !== "N") {
    s0 = classicalIndices(y, m, spec.season === "M" ? "multiplicative" : "additive", "median");
    if (spec.season === "M") s0 = s0.map((v) => Math.max(v, 1e-2));
    ysa = y.map((v, t) => (spec.season === "M" ? v / s0[t % m]! : v - s0[t % m]!));
  }
  const maxn = Math.min(Math.max(10, 2 * (spec.season === "N" ? 1 : m)), n);
  const head = ysa.slice(0, maxn);
  if (spec.trend === "N") return { l0: head.reduce((a, b) => a + b, 0) / maxn, b0: 0, s0 };
  const [a, b] = linearFit(head); // intercept at the first point; the state before it is a − b
  let l0 = a - b, b0 = b;
  if (Math.abs(l0 + b0) < 1e-8) (l0 *= 1 + 1e-3), (b0 *= 1 - 1e-3);
  return { l0, b0, s0 };
}

/** How the initial seasonal states are estimated (see {@linkcode AutoETS}). */
export type EtsStates = "joint" | "fixed" | "two-stage";

function fitSpec(y: number[], spec: EtsSpec, m: number, shared: SharedBounds, states: EtsStates): EtsFit | null {
  const n = y.length;
  const seasonal = spec.season !== "N";
  if (seasonal && n < 2 * m + 2) return null;
  if ((spec.error === "M" || spec.season === "M") && y.some((v) => v <= 0)) return null;
  const trend = spec.trend !== "N";
  const damped = spec.trend === "Ad";
  const mm = seasonal ? m : 1;
  // starting values and bounds (statsforecast's initparam)
  const alpha0 = LOWER + (0.2 * (UPPER - LOWER)) / mm;
  let beta0 = NaN, gamma0 = NaN;
  if (trend) {
    shared.beta = Math.min(shared.beta, alpha0);
    beta0 = LOWER + 0.1 * (shared.beta - LOWER);
  }
  if (seasonal) {
    shared.gamma = Math.min(shared.gamma, 1 - alpha0);
    gamma0 = LOWER + 0.05 * (shared.gamma - LOWER);
  }
  const phi0 = PHI_LOWER + 0.99 * (PHI_UPPER - PHI_LOWER);
  const init = initialStates(y, m, spec);
  const x0: number[] = [alpha0];
  const lo: number[] = [LOWER];
  const hi: number[] = [UPPER];
  if (trend) x0.push(beta0), lo.push(LOWER), hi.push(shared.beta);
  if (seasonal) x0.push(gamma0), lo.push(LOWER), hi.push(shared.gamma);
  if (damped) x0.push(phi0), lo.push(PHI_LOWER), hi.push(PHI_UPPER);
  const nPar = x0.length;
  x0.push(init.l0);
  if (trend) x0.push(init.b0);
  const nBase = x0.length; // smoothing parameters, l0, b0; the seasonal states follow when they are optimised
  while (lo.length < nBase + (seasonal ? m - 1 : 0)) lo.push(-Infinity), hi.push(Infinity);
  const nStates = 1 + (trend ? 1 : 0) + (seasonal ? m - 1 : 0);
  if (nPar + nStates >= n - 1) return null;
  const pack = (x: number[]): EtsFit | null => {
    let i = 0;
    const alpha = x[i++]!;
    const beta = trend ? x[i++]! : 0;
    const gamma = seasonal ? x[i++]! : 0;
    const phi = damped ? x[i++]! : 1;
    const l0 = x[i++]!;
    const bb = trend ? x[i++]! : 0;
    let s0 = init.s0;
    if (seasonal && x.length > nBase) {
      s0 = new Array<number>(m);
      let sum = 0;
      for (let j = 1; j < m; j++) (s0[j] = x[i++]!), (sum += s0[j]!);
      s0[0] = (spec.season === "M" ? m : 0) - sum;
      if (spec.season === "M" && s0.some((v) => v < 0)) return null;
    }
    return { spec, alpha, beta, gamma, phi, l0, b0: bb, s0, sigma2: 0, aicc: 0 };
  };
  const yy = Float64Array.from(y);
  const sbuf = new Float64Array(m);
  const seasonCode = spec.season === "N" ? 0 : spec.season === "A" ? 1 : 2;
  const objective = (x: number[]) => {
    const alpha = x[0]!;
    let i = 1;
    const beta = trend ? x[i++]! : 0;
    const gamma = seasonal ? x[i++]! : 0;
    const phi = damped ? x[i++]! : 1;
    if (alpha < LOWER || alpha > UPPER) return HUGE;
    if (trend && (beta < LOWER || beta > alpha || beta > shared.beta)) return HUGE;
    if (damped && (phi < PHI_LOWER || phi > PHI_UPPER)) return HUGE;
    if (seasonal && (gamma < LOWER || gamma > 1 - alpha || gamma > shared.gamma)) return HUGE;
    if (!etsAdmissible(alpha, trend ? beta : NaN, seasonal ? gamma : NaN, damped ? phi : 1, mm)) return HUGE;
    const l0 = x[i++]!;
    const bb = trend ? x[i++]! : 0;
    if (seasonal) {
      if (x.length > nBase) {
        let sum = 0;
        for (let j = 1; j < m; j++) (sbuf[j] = x[i++]!), (sum += sbuf[j]!);
        sbuf[0] = (spec.season === "M" ? m : 0) - sum;
        if (spec.season === "M") { for (let j = 0; j < m; j++) if (sbuf[j]! < 0) return HUGE; }
      } else sbuf.set(init.s0);
    }
    const v = negLogLik(yy, m, spec.error === "M", trend, phi, seasonCode, alpha, beta, gamma, l0, bb, sbuf);
    return Number.isFinite(v) ? v : HUGE;
  };
  // "joint" (statsforecast, R): everything, the seasonal states included, from the heuristic start — 1000
  // Nelder–Mead iterations in 25+ dimensions, which stay near the start's small alpha and gamma. "fixed": the
  // decomposition's seasonal states, the rest optimised. "two-stage": "fixed", then "joint" from its optimum.
  const joint = seasonal && states !== "fixed";
  let opt = states === "joint" && seasonal
    ? nelderMeadBounded(objective, [...x0, ...init.s0.slice(1)], { lower: lo, upper: hi, maxIter: 1000 })
    : nelderMeadBounded(objective, x0, { lower: lo.slice(0, nBase), upper: hi.slice(0, nBase), maxIter: 1000 });
  if (joint && states === "two-stage" && opt.value < HUGE) {
    const o2 = nelderMeadBounded(objective, [...opt.x, ...init.s0.slice(1)], { lower: lo, upper: hi, maxIter: 1000 });
    if (o2.value <= opt.value) opt = o2;
  }
  if (!(opt.value < HUGE)) return null;
  const fit = pack(opt.x);
  if (!fit) return null;
  const r = run(y, fit, m);
  const k = nPar + nStates + 1;
  const lik = n * Math.log(r.sse / n) + 2 * r.slog + n * Math.log(2 * Math.PI * Math.E);
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

  #states: EtsStates;
  #seasonalOnly: boolean;

  /**
   * `model`: an ETS pattern such as `ZZZ` (default), `AAdA`, `MZM`; `damped` forces or forbids damping;
   * `states`: how the initial seasonal states are estimated — `joint` (default; with the other parameters from the
   * decomposition's values, as statsforecast and R), `fixed` (the decomposition's), `two-stage` (fixed, then
   * joint); `seasonalOnly` (default true) offers only seasonal models to a series that passes M4's
   * 90% seasonality test.
   */
  constructor(params: { model?: string; damped?: boolean; states?: EtsStates; seasonalOnly?: boolean } = {}) {
    this.#model = params.model ?? "ZZZ";
    this.#damped = params.damped;
    this.#states = params.states ?? "joint";
    this.#seasonalOnly = params.seasonalOnly ?? true;
    parseEtsModel(this.#model);
  }

  fit(y: number[], ctx: FitContext): Promise<void> {
    this.#y = y.slice();
    this.#m = Math.max(1, ctx.season);
    const p = parseEtsModel(this.#model);
    const errors = p.error === "Z" ? ["A", "M"] : [p.error];
    const trends = p.trend === "Z" ? ["N", "A"] : [p.trend === "Ad" ? "A" : p.trend];
    let damping = p.trend === "Ad" ? [true] : p.trend === "A" ? [false] : [true, false];
    if (this.#damped !== undefined) damping = [this.#damped];
    // A series that passes M4's seasonality test is offered only seasonal models (seasonalOnly).
    // Seasonal models need a season of at most ETS_MAX_SEASON and two seasons of data; otherwise the fit falls
    // back to non-seasonal models, as statsforecast does, and says so (describe(), the fitted state).
    let fallback: string | undefined;
    if (this.#m > 1 && p.season !== "N") {
      if (y.length < etsSeasonalMinPoints(this.#m)) {
        fallback = `${y.length} points < ${etsSeasonalMinPoints(this.#m)} for season ${this.#m}`;
      }
    }
    const seasons = this.#m === 1 || fallback
      ? ["N"]
      : p.season === "Z"
      ? (this.#seasonalOnly && seasonalityTest(y, this.#m) ? ["A", "M"] : ["N", "A", "M"])
      : [p.season];
    // A long season's m − 1 initial seasonal states cannot be searched jointly with the rest (the search stays at
    // its start, the level barely moves): they are the decomposition's, the rest is optimised.
    const states = this.#m > ETS_MAX_SEASON ? "fixed" : this.#states;
    const shared = { beta: UPPER, gamma: UPPER };
    let best: EtsFit | null = null;
    // The order of statsforecast's loop (error, trend, season, damped first): the shared bounds depend on it.
    for (const error of errors) {
      for (const trend of trends) {
        for (const season of seasons) {
          for (const damped of trend === "N" ? [false] : damping) {
            if (error === "A" && season === "M") continue; // unstable combination, excluded as in ets()
            const spec = { error, trend: trend === "N" ? "N" : damped ? "Ad" : "A", season } as EtsSpec;
            const f = fitSpec(y, spec, fallback ? 1 : this.#m, shared, states);
            if (f && (!best || f.aicc < best.aicc)) best = f;
          }
        }
      }
    }
    if (!best) best = fitSpec(y, { error: "A", trend: "N", season: "N" }, 1, { beta: UPPER, gamma: UPPER }, "fixed");
    if (!best) throw new RangeError(`Cannot fit any ETS model to ${y.length} points`);
    if (fallback && best.spec.season === "N") best.fallback = `non-seasonal: ${fallback}`;
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
    if (!this.#fit) return "AutoETS (not fitted)";
    return this.#fit.fallback ? `${name(this.#fit.spec)} [${this.#fit.fallback}]` : name(this.#fit.spec);
  }

  /**
   * Why a simpler model than asked for was fitted — `"non-seasonal: season 52 > 24"`,
   * `"non-seasonal: 80 points < 106 for season 52"` — or undefined.
   */
  get fallback(): string | undefined {
    return this.#need().fallback;
  }

  toJSON(): ModelState {
    return {
      algorithm: this.algorithm,
      params: {
        model: this.#model,
        ...(this.#damped === undefined ? {} : { damped: this.#damped }),
        ...(this.#states === "joint" ? {} : { states: this.#states }),
        ...(this.#seasonalOnly ? {} : { seasonalOnly: false }),
      },
      season: this.#m,
      state: { y: this.#y, fit: this.#need() },
    };
  }

  /** Restores a model written by `toJSON()` without refitting. */
  static fromState(s: ModelState): AutoETS {
    const m = new AutoETS(s.params as ConstructorParameters<typeof AutoETS>[0]);
    const st = s.state as { y: number[]; fit: EtsFit };
    m.#y = st.y;
    m.#m = s.season;
    m.#fit = st.fit;
    return m;
  }
}
