/**
 * Seasonal ARIMA with automatic order selection as in Hyndman & Khandakar
 * (2008), the algorithm of R's `auto.arima()` and statsforecast's `AutoARIMA`:
 * d by repeated KPSS tests, D by seasonal strength (> 0.64), then a stepwise
 * search over (p,q)(P,Q) and the constant by AICc. Like `auto.arima(approximation
 * = TRUE)` the search uses conditional sum of squares; the chosen model is then
 * re-estimated by exact maximum likelihood with a Kalman filter (Gardner et al.
 * 1980 state space, stationary initial covariance), and forecasts come from
 * the filtered state with ψ-weight variances.
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
import { classicalIndices, mean } from "../stats.ts";

/** An ARIMA order: (p,d,q)(P,D,Q)[m] and whether a constant (mean or drift) is included. */
export interface ArimaOrder {
  p: number;
  d: number;
  q: number;
  P: number;
  D: number;
  Q: number;
  m: number;
  constant: boolean;
}

/** Fitted ARIMA coefficients (R sign conventions: AR 1 − Σφ, MA 1 + Σθ). */
export interface ArimaCoefs {
  ar: number[];
  ma: number[];
  sar: number[];
  sma: number[];
  mu: number;
}

interface ArimaFit {
  order: ArimaOrder;
  coefs: ArimaCoefs;
  sigma2: number;
  loglik: number;
  aicc: number;
  method: "CSS" | "CSS-ML";
  /** Why a non-seasonal model was fitted to a seasonal series (too short, or the season too long), if it was. */
  fallback?: string;
}

/**
 * The longest season AutoARIMA models (longer ones are fitted non-seasonal, and `describe()` says so): with a
 * 365-day season one stepwise search ran over 100 s on a 1,000-point series here (a 52-week one ~2 s).
 */
export const ARIMA_MAX_SEASON = 52;

/** `(1-B)^d (1-B^m)^D` applied to x. */
export function difference(x: number[], d: number, D: number, m: number): number[] {
  let w = x.slice();
  for (let i = 0; i < D; i++) w = w.slice(m).map((v, t) => v - w[t]!);
  for (let i = 0; i < d; i++) w = w.slice(1).map((v, t) => v - w[t]!);
  return w;
}

function partrans(raw: number[]): number[] {
  const p = raw.length;
  const nw = raw.map(Math.tanh);
  const work = nw.slice();
  for (let j = 1; j < p; j++) {
    const a = nw[j]!;
    for (let k = 0; k < j; k++) work[k] = work[k]! - a * nw[j - k - 1]!;
    for (let k = 0; k < j; k++) nw[k] = work[k]!;
  }
  return nw;
}

/** Product of polynomials 1 − Σ a_i B^i and 1 − Σ b_j B^(m j), as lag coefficients [c1..]. */
function expand(a: number[], b: number[], m: number, sign: 1 | -1): number[] {
  // Represent as full polynomials with constant 1 and coefficients sign*a (sign = -1 for AR style).
  const pa = [1, ...a.map((v) => sign * v)];
  const pb = new Array(b.length * m + 1).fill(0);
  pb[0] = 1;
  b.forEach((v, j) => (pb[(j + 1) * m] = sign * v));
  const out = new Array(pa.length + pb.length - 1).fill(0);
  for (let i = 0; i < pa.length; i++) for (let j = 0; j < pb.length; j++) out[i + j] += pa[i]! * pb[j]!;
  return out.slice(1).map((v) => sign * v);
}

function coefsFrom(x: number[], o: ArimaOrder, transform: boolean): ArimaCoefs {
  let i = 0;
  const take = (k: number) => x.slice(i, i += k);
  const t = (v: number[]) => (transform ? partrans(v) : v);
  const ar = t(take(o.p));
  const ma = t(take(o.q)).map((v) => (transform ? -v : v));
  const sar = t(take(o.P));
  const sma = t(take(o.Q)).map((v) => (transform ? -v : v));
  const mu = o.constant ? x[i]! : 0;
  return { ar, ma, sar, sma, mu };
}

function sparse(c: number[]): [number[], number[]] {
  const idx: number[] = [], val: number[] = [];
  c.forEach((v, i) => {
    if (v !== 0) {
      idx.push(i + 1);
      val.push(v);
    }
  });
  return [idx, val];
}

/** Conditional-sum-of-squares residuals of the differenced series. */
function cssResiduals(w: number[], phi: number[], theta: number[], mu: number): { e: number[]; ncond: number } {
  const [ai, av] = sparse(phi);
  const [mi, mv] = sparse(theta);
  const ncond = phi.length;
  const e = new Array<number>(w.length).fill(0);
  for (let t = ncond; t < w.length; t++) {
    let v = w[t]! - mu;
    for (let k = 0; k < ai.length; k++) v -= av[k]! * (w[t - ai[k]!]! - mu);
    for (let k = 0; k < mi.length; k++) {
      const j = t - mi[k]!;
      if (j >= 0) v -= mv[k]! * e[j]!;
    }
    e[t] = v;
  }
  return { e, ncond };
}

/** Stationary covariance of the ARMA state (P = T P T' + R R'), by doubling. */
function stationaryCov(phi: number[], R: number[], r: number): Float64Array {
  const P = new Float64Array(r * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) P[i * r + j] = R[i]! * R[j]!;
  let A = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    A[i * r] = phi[i] ?? 0;
    if (i + 1 < r) A[i * r + i + 1] = 1;
  }
  const mul = (X: Float64Array, Y: Float64Array, transY = false) => {
    const Z = new Float64Array(r * r);
    for (let i = 0; i < r; i++) {
      for (let k = 0; k < r; k++) {
        const x = X[i * r + k]!;
        if (x === 0) continue;
        for (let j = 0; j < r; j++) Z[i * r + j] = Z[i * r + j]! + x * (transY ? Y[j * r + k]! : Y[k * r + j]!);
      }
    }
    return Z;
  };
  for (let it = 0; it < 40; it++) {
    const APAt = mul(mul(A, P), A, true);
    let delta = 0, size = 0;
    for (let i = 0; i < r * r; i++) {
      delta = Math.max(delta, Math.abs(APAt[i]!));
      size = Math.max(size, Math.abs(P[i]!));
      P[i] = P[i]! + APAt[i]!;
    }
    if (delta < 1e-12 * size) break;
    A = mul(A, A);
  }
  return P;
}

/** Exact Gaussian likelihood by Kalman filter; returns −2 log L (σ² concentrated), σ² and the final state. */
function kalman(w: number[], phi: number[], theta: number[], mu: number) {
  const r = Math.max(phi.length, theta.length + 1);
  const ph = Array.from({ length: r }, (_, i) => phi[i] ?? 0);
  const R = Array.from({ length: r }, (_, i) => (i === 0 ? 1 : theta[i - 1] ?? 0));
  let P = stationaryCov(ph, R, r);
  const a = new Float64Array(r);
  const TP = new Float64Array(r * r);
  const n = w.length;
  let ssq = 0, sumlog = 0;
  let lastF = NaN;
  let steady = false;
  const K = new Float64Array(r);
  const e = new Array<number>(n);
  let Fsteady = 1;
  for (let t = 0; t < n; t++) {
    const F = steady ? Fsteady : P[0]!;
    const v = w[t]! - mu - a[0]!;
    e[t] = v;
    ssq += (v * v) / F;
    sumlog += Math.log(F);
    if (!steady) { for (let i = 0; i < r; i++) K[i] = P[i * r]! / F; }
    for (let i = 0; i < r; i++) a[i] = a[i]! + K[i]! * v;
    // predict: a = T a
    const a0 = a[0]!;
    for (let i = 0; i < r - 1; i++) a[i] = ph[i]! * a0 + a[i + 1]!;
    a[r - 1] = ph[r - 1]! * a0;
    if (steady) continue;
    // P = P - P[:,0]P[0,:]/F
    const row0 = P.slice(0, r);
    for (let i = 0; i < r; i++) {
      const ki = P[i * r]! / F;
      if (ki === 0) continue;
      for (let j = 0; j < r; j++) P[i * r + j] = P[i * r + j]! - ki * row0[j]!;
    }
    // P = T P T' + R R'
    for (let j = 0; j < r; j++) {
      const p0 = P[j]!;
      for (let i = 0; i < r; i++) TP[i * r + j] = ph[i]! * p0 + (i + 1 < r ? P[(i + 1) * r + j]! : 0);
    }
    const Pn = new Float64Array(r * r);
    for (let i = 0; i < r; i++) {
      const t0 = TP[i * r]!;
      for (let j = 0; j < r; j++) {
        Pn[i * r + j] = t0 * ph[j]! + (j + 1 < r ? TP[i * r + j + 1]! : 0) + R[i]! * R[j]!;
      }
    }
    P = Pn;
    if (Math.abs(P[0]! - lastF) < 1e-11 * P[0]!) {
      steady = true;
      Fsteady = P[0]!;
      for (let i = 0; i < r; i++) K[i] = P[i * r]! / Fsteady;
    }
    lastF = P[0]!;
  }
  const sigma2 = ssq / n;
  return { m2ll: n * Math.log(2 * Math.PI * sigma2) + sumlog + n, sigma2, a, e };
}

function fitOrder(x: number[], o: ArimaOrder, exact: boolean): ArimaFit | null {
  const w = difference(x, o.d, o.D, o.m);
  const n = w.length;
  const k = o.p + o.q + o.P + o.Q + (o.constant ? 1 : 0);
  const ncondGuess = o.p + o.P * o.m;
  if (n - ncondGuess <= k + 2) return null;
  const wm = mean(w);
  const scale = Math.max(1e-8, Math.sqrt(mean(w.map((v) => (v - wm) ** 2))) || 1);
  const x0 = [...new Array(o.p + o.q + o.P + o.Q).fill(0), ...(o.constant ? [wm / scale] : [])];
  const toCoefs = (v: number[]) => {
    const c = coefsFrom(v, o, true);
    c.mu *= scale;
    return c;
  };
  const polys = (c: ArimaCoefs) => ({
    phi: expand(c.ar, c.sar, o.m, -1),
    theta: expand(c.ma, c.sma, o.m, 1),
  });
  const css = (v: number[]) => {
    const c = toCoefs(v);
    const { phi, theta } = polys(c);
    const { e, ncond } = cssResiduals(w, phi, theta, c.mu);
    let s = 0;
    for (let t = ncond; t < n; t++) s += e[t]! * e[t]!;
    const nu = n - ncond;
    return nu * Math.log(s / nu);
  };
  let opt = nelderMead(css, x0, { maxEval: 100 * Math.max(1, x0.length), tol: 1e-7, step: x0.map(() => 0.1) });
  if (!Number.isFinite(opt.value) || opt.value >= 1e299) return null;
  let coefs = toCoefs(opt.x);
  let method: ArimaFit["method"] = "CSS";
  let m2ll: number, sigma2: number, nEff: number;
  if (exact) {
    const ml = (v: number[]) => {
      const c = toCoefs(v);
      const { phi, theta } = polys(c);
      return kalman(w, phi, theta, c.mu).m2ll;
    };
    opt = nelderMead(ml, opt.x, { maxEval: 30, tol: 1e-7, step: x0.map(() => 0.05) });
    coefs = toCoefs(opt.x);
    const { phi, theta } = polys(coefs);
    const kf = kalman(w, phi, theta, coefs.mu);
    m2ll = kf.m2ll;
    sigma2 = kf.sigma2;
    nEff = n;
    method = "CSS-ML";
  } else {
    const { phi, theta } = polys(coefs);
    const { e, ncond } = cssResiduals(w, phi, theta, coefs.mu);
    nEff = n - ncond;
    let s = 0;
    for (let t = ncond; t < n; t++) s += e[t]! ** 2;
    sigma2 = s / nEff;
    m2ll = nEff * Math.log(2 * Math.PI * sigma2) + nEff;
  }
  const kk = k + 1;
  const aicc = m2ll + 2 * kk + (2 * kk * (kk + 1)) / Math.max(1, nEff - kk - 1);
  return { order: o, coefs, sigma2, loglik: -m2ll / 2, aicc, method };
}

/** KPSS level-stationarity statistic (short lag truncation, as `tseries::kpss.test`). */
export function kpss(x: number[]): number {
  const n = x.length;
  const m = mean(x);
  const e = x.map((v) => v - m);
  let s = 0, num = 0;
  for (const v of e) {
    s += v;
    num += s * s;
  }
  const l = Math.trunc(4 * (n / 100) ** 0.25);
  let s2 = e.reduce((a, v) => a + v * v, 0) / n;
  for (let k = 1; k <= l; k++) {
    let c = 0;
    for (let t = k; t < n; t++) c += e[t]! * e[t - k]!;
    s2 += (2 * (1 - k / (l + 1)) * c) / n;
  }
  return num / (n * n * s2);
}

/** Seasonal strength 1 − Var(remainder)/Var(season + remainder) from a classical decomposition. */
export function seasonalStrength(x: number[], m: number): number {
  if (m <= 1 || x.length < 2 * m + 1) return 0;
  const idx = classicalIndices(x, m, "additive");
  const half = Math.floor(m / 2);
  const sr: number[] = [], rr: number[] = [];
  for (let t = half; t < x.length - half; t++) {
    let tr = 0;
    for (let j = -half; j <= half; j++) tr += ((Math.abs(j) === half && m % 2 === 0) ? 0.5 : 1) * x[t + j]!;
    tr /= m;
    sr.push(x[t]! - tr);
    rr.push(x[t]! - tr - idx[t % m]!);
  }
  const v = (a: number[]) => {
    const mu = mean(a);
    return mean(a.map((q) => (q - mu) ** 2));
  };
  return Math.max(0, 1 - v(rr) / v(sr));
}

/** Options of {@linkcode AutoARIMA}. */
export interface AutoArimaParams {
  maxP?: number;
  maxQ?: number;
  maxSP?: number;
  maxSQ?: number;
  maxOrder?: number;
  /** Fixed d / D instead of the tests. */
  d?: number;
  D?: number;
  /** Exact ML re-estimation of the chosen model (default true). */
  exact?: boolean;
  /** Full order, skipping the search, e.g. `[1,0,1,0,1,1]`. */
  order?: number[];
}

/**
 * Automatic seasonal ARIMA.
 *
 * @example
 * ```ts
 * import { AutoARIMA } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * let v = 0;
 * const y = Array.from({ length: 120 }, (_, t) => (v = 0.7 * v + Math.sin(t * 1.7)) + 10 * Math.sin((2 * Math.PI * t) / 12));
 * const m = new AutoARIMA();
 * await m.fit(y, { season: 12 });
 * assert.match(m.describe(), /^ARIMA\(\d,\d,\d\)/);
 * assert.equal(m.predict(24).mean.length, 24);
 * ```
 */
export class AutoARIMA implements Forecaster {
  readonly algorithm = "auto_arima";
  #params: AutoArimaParams;
  #y: number[] = [];
  #fit: ArimaFit | null = null;

  constructor(params: AutoArimaParams = {}) {
    this.#params = params;
  }

  fit(y: number[], ctx: FitContext): Promise<void> {
    this.#y = y.slice();
    let m = Math.max(1, ctx.season);
    let fallback: string | undefined;
    if (m > ARIMA_MAX_SEASON) fallback = `non-seasonal: season ${m} > ${ARIMA_MAX_SEASON}`;
    else if (m > 1 && y.length < 2 * m + 3) {
      fallback = `non-seasonal: ${y.length} points < ${2 * m + 3} for season ${m}`;
    }
    if (fallback) m = 1;
    const pr = this.#params;
    const exact = pr.exact ?? true;
    if (pr.order) {
      const [p, d, q, P = 0, D = 0, Q = 0] = pr.order;
      const o = { p: p!, d: d!, q: q!, P, D, Q, m, constant: d! + D <= 1 };
      this.#fit = fitOrder(y, o, exact);
      if (!this.#fit) throw new RangeError(`Cannot fit ARIMA${JSON.stringify(pr.order)} to ${y.length} points`);
      if (fallback && (P || D || Q)) this.#fit.fallback = fallback;
      return Promise.resolve();
    }
    const D = pr.D ?? (m > 1 && seasonalStrength(y, m) > 0.64 ? 1 : 0);
    let d = pr.d ?? 0;
    if (pr.d === undefined) {
      let x = difference(y, 0, D, m);
      while (d < 2 && x.length > 10 && kpss(x) > 0.463) {
        d++;
        x = difference(x, 1, 0, m);
      }
    }
    const maxP = pr.maxP ?? 5, maxQ = pr.maxQ ?? 5, maxSP = pr.maxSP ?? 2, maxSQ = pr.maxSQ ?? 2;
    const maxOrder = pr.maxOrder ?? 5;
    const allowConst = d + D <= 1;
    const tried = new Map<string, ArimaFit | null>();
    const key = (o: ArimaOrder) => `${o.p}${o.q}${o.P}${o.Q}${o.constant}`;
    const attempt = (p: number, q: number, P: number, Q: number, constant: boolean): ArimaFit | null => {
      if (p < 0 || q < 0 || P < 0 || Q < 0 || p > maxP || q > maxQ || P > maxSP || Q > maxSQ) return null;
      if (p + q + P + Q > maxOrder || (m === 1 && (P || Q)) || (constant && !allowConst)) return null;
      const o: ArimaOrder = { p, d, q, P, D, Q, m, constant };
      const k = key(o);
      if (!tried.has(k)) tried.set(k, fitOrder(y, o, false));
      return tried.get(k)!;
    };
    const s = m > 1 ? 1 : 0;
    let best: ArimaFit | null = null;
    const consider = (f: ArimaFit | null) => {
      if (f && Number.isFinite(f.aicc) && (!best || f.aicc < best.aicc - 1e-9)) {
        best = f;
        return true;
      }
      return false;
    };
    consider(attempt(2, 2, s, s, allowConst));
    consider(attempt(0, 0, 0, 0, allowConst));
    consider(attempt(1, 0, s, 0, allowConst));
    consider(attempt(0, 1, 0, s, allowConst));
    if (allowConst) consider(attempt(0, 0, 0, 0, false));
    for (let iter = 0; iter < 94 && best; iter++) {
      const o: ArimaOrder = (best as ArimaFit).order;
      const moves: [number, number, number, number, boolean][] = [
        [o.p, o.q, o.P - 1, o.Q, o.constant],
        [o.p, o.q, o.P + 1, o.Q, o.constant],
        [o.p, o.q, o.P, o.Q - 1, o.constant],
        [o.p, o.q, o.P, o.Q + 1, o.constant],
        [o.p, o.q, o.P - 1, o.Q - 1, o.constant],
        [o.p, o.q, o.P + 1, o.Q + 1, o.constant],
        [o.p - 1, o.q, o.P, o.Q, o.constant],
        [o.p + 1, o.q, o.P, o.Q, o.constant],
        [o.p, o.q - 1, o.P, o.Q, o.constant],
        [o.p, o.q + 1, o.P, o.Q, o.constant],
        [o.p - 1, o.q - 1, o.P, o.Q, o.constant],
        [o.p + 1, o.q + 1, o.P, o.Q, o.constant],
        [o.p, o.q, o.P, o.Q, !o.constant],
      ];
      let improved = false;
      for (const mv of moves) {
        if (consider(attempt(...mv))) {
          improved = true;
          break;
        }
      }
      if (!improved) break;
    }
    if (!best) {
      best = fitOrder(y, { p: 0, d, q: 0, P: 0, D, Q: 0, m, constant: allowConst }, false) ??
        fitOrder(y, { p: 0, d: 1, q: 0, P: 0, D: 0, Q: 0, m: 1, constant: false }, false);
    }
    if (!best) throw new RangeError(`Cannot fit any ARIMA model to ${y.length} points`);
    const chosen: ArimaFit = best;
    this.#fit = exact ? (fitOrder(y, chosen.order, true) ?? chosen) : chosen;
    if (fallback) this.#fit.fallback = fallback;
    return Promise.resolve();
  }

  #need(): ArimaFit {
    if (!this.#fit) throw new Error("AutoARIMA: fit() first");
    return this.#fit;
  }

  #state() {
    const f = this.#need();
    const o = f.order;
    const phi = expand(f.coefs.ar, f.coefs.sar, o.m, -1);
    const theta = expand(f.coefs.ma, f.coefs.sma, o.m, 1);
    const w = difference(this.#y, o.d, o.D, o.m);
    return { f, o, phi, theta, w, kf: kalman(w, phi, theta, f.coefs.mu) };
  }

  fitted(): number[] {
    const { o, w, kf } = this.#state();
    const lag = this.#y.length - w.length;
    // One-step fitted value of x: x_t − innovation_t (the innovation of w equals that of x).
    return this.#y.map((v, t) => (t < lag ? NaN : v - kf.e[t - lag]!)).map((v) => (o ? v : v));
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    const { f, o, phi, theta, kf } = this.#state();
    const r = kf.a.length;
    const a = Float64Array.from(kf.a);
    const wf: number[] = [];
    for (let i = 0; i < h; i++) {
      wf.push(a[0]! + f.coefs.mu);
      const a0 = a[0]!;
      for (let j = 0; j < r - 1; j++) a[j] = (phi[j] ?? 0) * a0 + a[j + 1]!;
      a[r - 1] = (phi[r - 1] ?? 0) * a0;
    }
    // Integrate: x_t = w_t + Σ δ_i x_{t−i}, δ from (1−B)^d (1−B^m)^D.
    let delta = [1];
    const mulPoly = (p: number[], q: number[]) => {
      const out = new Array(p.length + q.length - 1).fill(0);
      p.forEach((a1, i) => q.forEach((b1, j) => (out[i + j] += a1 * b1)));
      return out;
    };
    for (let i = 0; i < o.d; i++) delta = mulPoly(delta, [1, -1]);
    for (let i = 0; i < o.D; i++) {
      const s = new Array(o.m + 1).fill(0);
      s[0] = 1;
      s[o.m] = -1;
      delta = mulPoly(delta, s);
    }
    const x = this.#y.slice();
    const mean: number[] = [];
    for (let i = 0; i < h; i++) {
      let v = wf[i]!;
      for (let k = 1; k < delta.length; k++) v -= delta[k]! * x[x.length - k]!;
      x.push(v);
      mean.push(v);
    }
    // ψ-weights of θ(B) / (φ(B) δ(B)).
    const fullAr = mulPoly([1, ...phi.map((v) => -v)], delta).slice(1).map((v) => -v);
    const psi = [1];
    for (let j = 1; j < h; j++) {
      let v = theta[j - 1] ?? 0;
      for (let i = 1; i <= Math.min(j, fullAr.length); i++) v += fullAr[i - 1]! * psi[j - i]!;
      psi.push(v);
    }
    let cum = 0;
    const sd = psi.map((p) => Math.sqrt(f.sigma2 * (cum += p * p)));
    return { mean, intervals: normalIntervals(mean, sd, levels) };
  }

  describe(): string {
    const f = this.#fit;
    if (!f) return "AutoARIMA (not fitted)";
    const o = f.order;
    const c = o.constant ? (o.d + o.D === 1 ? " with drift" : " with mean") : "";
    const text = `ARIMA(${o.p},${o.d},${o.q})${o.m > 1 ? `(${o.P},${o.D},${o.Q})[${o.m}]` : ""}${c}`;
    return f.fallback ? `${text} [${f.fallback}]` : text;
  }

  /** The chosen order, coefficients, σ², log-likelihood and AICc. */
  get model(): Readonly<ArimaFit> {
    return this.#need();
  }

  toJSON(): ModelState {
    return {
      algorithm: this.algorithm,
      params: { ...this.#params },
      season: this.#need().order.m,
      state: { y: this.#y, fit: this.#need() },
    };
  }

  /** Restores a model written by `toJSON()`. */
  static fromState(s: ModelState): AutoARIMA {
    const m = new AutoARIMA(s.params as AutoArimaParams);
    const st = s.state as { y: number[]; fit: ArimaFit };
    m.#y = st.y;
    m.#fit = st.fit;
    return m;
  }
}
