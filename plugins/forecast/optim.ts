/**
 * Nelder–Mead simplex minimisation, the optimiser R's `optim()` and
 * statsforecast use for ETS, Theta and ARIMA parameters.
 *
 * @module
 */

/** Options of {@linkcode nelderMead}. */
export interface NelderMeadOptions {
  /** Maximum function evaluations (default 200 × dimension). */
  maxEval?: number;
  /** Stop when the simplex values differ by less than this (relative; default 1e-8). */
  tol?: number;
  /** Initial step per coordinate (default 0.1, or 10% of |x|). */
  step?: number[];
}

/**
 * Minimises `f` from `x0`; returns the best point and its value.
 *
 * @example
 * ```ts
 * import { nelderMead } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const r = nelderMead((x) => (x[0]! - 3) ** 2 + (x[1]! + 1) ** 2, [0, 0]);
 * assert.ok(Math.abs(r.x[0]! - 3) < 1e-3 && Math.abs(r.x[1]! + 1) < 1e-3);
 * ```
 */
export function nelderMead(
  f: (x: number[]) => number,
  x0: number[],
  options: NelderMeadOptions = {},
): { x: number[]; value: number; evals: number } {
  const n = x0.length;
  const maxEval = options.maxEval ?? 200 * Math.max(1, n);
  const tol = options.tol ?? 1e-8;
  let evals = 0;
  const F = (x: number[]) => {
    evals++;
    const v = f(x);
    return Number.isFinite(v) ? v : 1e300;
  };
  if (n === 0) return { x: [], value: F([]), evals };
  const pts: number[][] = [x0.slice()];
  for (let i = 0; i < n; i++) {
    const p = x0.slice();
    const s = options.step?.[i] ?? (Math.abs(p[i]!) > 1e-3 ? 0.1 * Math.abs(p[i]!) : 0.1);
    p[i] = p[i]! + s;
    pts.push(p);
  }
  let vals = pts.map(F);
  while (evals < maxEval) {
    const order = vals.map((_, i) => i).sort((a, b) => vals[a]! - vals[b]!);
    const sp = order.map((i) => pts[i]!);
    vals = order.map((i) => vals[i]!);
    pts.splice(0, pts.length, ...sp);
    if (Math.abs(vals[n]! - vals[0]!) <= tol * (Math.abs(vals[0]!) + tol)) break;
    const c = new Array(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[j] += pts[i]![j]! / n;
    const along = (t: number) => c.map((cj, j) => cj + t * (pts[n]![j]! - cj));
    const xr = along(-1);
    const fr = F(xr);
    if (fr < vals[0]!) {
      const xe = along(-2);
      const fe = F(xe);
      if (fe < fr) [pts[n], vals[n]] = [xe, fe];
      else [pts[n], vals[n]] = [xr, fr];
    } else if (fr < vals[n - 1]!) {
      [pts[n], vals[n]] = [xr, fr];
    } else {
      const outside = fr < vals[n]!;
      const xc = along(outside ? -0.5 : 0.5);
      const fc = F(xc);
      if (fc < (outside ? fr : vals[n]!)) [pts[n], vals[n]] = [xc, fc];
      else {
        for (let i = 1; i <= n; i++) {
          pts[i] = pts[i]!.map((v, j) => pts[0]![j]! + 0.5 * (v - pts[0]![j]!));
          vals[i] = F(pts[i]!);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= n; i++) if (vals[i]! < vals[best]!) best = i;
  return { x: pts[best]!, value: vals[best]!, evals };
}

/** Options of {@linkcode nelderMeadBounded}. */
export interface BoundedNelderMeadOptions {
  /** Lower bound per coordinate (default −∞). */
  lower?: number[];
  /** Upper bound per coordinate (default +∞). */
  upper?: number[];
  /** Relative initial step: vertex i moves coordinate i by `initStep`·|x_i| (default 0.05). */
  initStep?: number;
  /** Step for a coordinate that starts at 0 (default 1e-4). */
  zeroPert?: number;
  /** Maximum iterations (default 1000). */
  maxIter?: number;
  /** Stop when the standard deviation of the simplex values is below this (default 1e-4). */
  tolStd?: number;
  /** Gao–Han dimension-dependent coefficients (default true), which keep the simplex from collapsing in high dimension. */
  adaptive?: boolean;
}

/**
 * Nelder–Mead with box constraints (every trial point clamped into the box),
 * Gao–Han adaptive coefficients and a stop on the spread of the simplex values
 * — the optimiser statsforecast's ETS uses (`init_step` 0.05, `tol_std` 1e-4,
 * 1000 iterations), suited to the 25–30 parameters of a seasonal ETS model
 * whose initial states are optimised.
 *
 * @example
 * ```ts
 * import { nelderMeadBounded } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const r = nelderMeadBounded((x) => (x[0]! - 3) ** 2 + (x[1]! + 1) ** 2, [1, 1], {
 *   lower: [0, 0],
 *   upper: [10, 10],
 *   tolStd: 1e-12,
 * });
 * assert.ok(Math.abs(r.x[0]! - 3) < 1e-3 && Math.abs(r.x[1]!) < 1e-3); // y is held at its bound 0
 * ```
 */
export function nelderMeadBounded(
  f: (x: number[]) => number,
  x0: number[],
  options: BoundedNelderMeadOptions = {},
): { x: number[]; value: number; evals: number; iterations: number } {
  const n = x0.length;
  const lower = options.lower ?? x0.map(() => -Infinity);
  const upper = options.upper ?? x0.map(() => Infinity);
  const initStep = options.initStep ?? 0.05;
  const zeroPert = options.zeroPert ?? 1e-4;
  const maxIter = options.maxIter ?? 1000;
  const tolStd = options.tolStd ?? 1e-4;
  const adaptive = options.adaptive ?? true;
  const alpha = 1;
  const gamma = adaptive && n > 0 ? 1 + 2 / n : 2;
  const rho = adaptive && n > 0 ? 0.75 - 1 / (2 * n) : 0.5;
  const sigma = adaptive && n > 0 ? 1 - 1 / n : 0.5;
  let evals = 0;
  const lo = Float64Array.from(lower), hi = Float64Array.from(upper);
  const clamp = (x: Float64Array) => {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      x[i] = v < lo[i]! ? lo[i]! : v > hi[i]! ? hi[i]! : v;
    }
    return x;
  };
  const arg: number[] = new Array(n);
  const F = (x: Float64Array) => {
    evals++;
    for (let i = 0; i < n; i++) arg[i] = x[i]!;
    const v = f(arg);
    return Number.isFinite(v) ? v : 1e300;
  };
  if (n === 0) return { x: [], value: f([]), evals: 1, iterations: 0 };
  const start = clamp(Float64Array.from(x0));
  // vertex i < n moves coordinate i; vertex n is the start (statsforecast's layout, which its shrink step depends on)
  const pts: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i] !== 0 ? p[i]! * (1 + initStep) : zeroPert;
    pts.push(clamp(p));
  }
  pts.push(start.slice());
  const vals = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) vals[i] = F(pts[i]!);
  const order = Array.from({ length: n + 1 }, (_, i) => i);
  const c = new Float64Array(n);
  const xr = new Float64Array(n), xe = new Float64Array(n), xc = new Float64Array(n);
  const replaceWorst = (x: Float64Array, v: number) => {
    pts[order[n]!]!.set(x);
    vals[order[n]!] = v;
  };
  let it = 0;
  for (; it < maxIter; it++) {
    // vertices by value, ties by position (a stable sort)
    for (let i = 0; i <= n; i++) order[i] = i;
    for (let i = 1; i <= n; i++) {
      const k = order[i]!;
      const v = vals[k]!;
      let j = i - 1;
      while (j >= 0 && vals[order[j]!]! > v) (order[j + 1] = order[j]!), j--;
      order[j + 1] = k;
    }
    let mu = 0;
    for (let i = 0; i <= n; i++) mu += vals[i]!;
    mu /= n + 1;
    let sd = 0;
    for (let i = 0; i <= n; i++) sd += (vals[i]! - mu) ** 2;
    if (Math.sqrt(sd / (n + 1)) < tolStd) break;
    c.fill(0);
    for (let k = 0; k < n; k++) {
      const p = pts[order[k]!]!;
      for (let j = 0; j < n; j++) c[j] = c[j]! + p[j]!;
    }
    for (let j = 0; j < n; j++) c[j] = c[j]! / n;
    const worst = pts[order[n]!]!;
    const best = vals[order[0]!]!, second = vals[order[n - 1]!]!, worstV = vals[order[n]!]!;
    for (let j = 0; j < n; j++) xr[j] = c[j]! + alpha * (c[j]! - worst[j]!);
    const fr = F(clamp(xr));
    if (best <= fr && fr < second) {
      replaceWorst(xr, fr);
      continue;
    }
    if (fr < best) {
      for (let j = 0; j < n; j++) xe[j] = c[j]! + gamma * (xr[j]! - c[j]!);
      const fe = F(clamp(xe));
      if (fe < fr) replaceWorst(xe, fe);
      else replaceWorst(xr, fr);
      continue;
    }
    if (fr < worstV) {
      for (let j = 0; j < n; j++) xc[j] = c[j]! + rho * (xr[j]! - c[j]!);
      const fc = F(clamp(xc));
      if (fc <= fr) {
        replaceWorst(xc, fc);
        continue;
      }
    } else {
      for (let j = 0; j < n; j++) xc[j] = c[j]! + rho * (worst[j]! - c[j]!);
      const fc = F(clamp(xc));
      if (fc < worstV) {
        replaceWorst(xc, fc);
        continue;
      }
    }
    // shrink towards the best vertex; like statsforecast, vertices 1..n by position (vertex 0 stays unless best)
    const b0 = pts[order[0]!]!.slice();
    for (let k = 1; k <= n; k++) {
      const p = pts[k]!;
      for (let j = 0; j < n; j++) p[j] = b0[j]! + sigma * (p[j]! - b0[j]!);
      vals[k] = F(clamp(p));
    }
  }
  let best = 0;
  for (let i = 1; i <= n; i++) if (vals[i]! < vals[best]!) best = i;
  return { x: Array.from(pts[best]!), value: vals[best]!, evals, iterations: it };
}
