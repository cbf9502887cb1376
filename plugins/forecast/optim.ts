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
