/**
 * Statistics the models share: the normal quantile, autocorrelations, the
 * M4 seasonality test and classical (R `decompose()`) seasonal indices.
 *
 * @module
 */

/**
 * The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9
 * after one Newton step).
 *
 * @example
 * ```ts
 * import { qnorm } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Math.abs(qnorm(0.975) - 1.959964) < 1e-5);
 * ```
 */
export function qnorm(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  let x: number;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - pl) {
    const q = p - 0.5;
    const r = q * q;
    x = (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** The complementary error function (Numerical Recipes erfcc, |error| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 +
      t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
                          t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? r : 2 - r;
}

/** Mean of finite values. */
export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/**
 * Sample autocorrelations at lags 1..maxLag (R `acf()` definition).
 *
 * @example
 * ```ts
 * import { acf } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const r = acf([1, 2, 1, 2, 1, 2, 1, 2], 2);
 * assert.ok(r[0]! < -0.8 && r[1]! > 0.7);
 * ```
 */
export function acf(x: ArrayLike<number>, maxLag: number): number[] {
  const n = x.length;
  const m = mean(x);
  let d = 0;
  for (let i = 0; i < n; i++) d += (x[i]! - m) ** 2;
  const out: number[] = [];
  for (let k = 1; k <= maxLag; k++) {
    let s = 0;
    for (let i = k; i < n; i++) s += (x[i]! - m) * (x[i - k]! - m);
    out.push(d === 0 ? 0 : s / d);
  }
  return out;
}

/**
 * The M4 competition's seasonality test: the lag-`m` autocorrelation is
 * significant at 90% (Bartlett's formula), on series of at least 3m points.
 */
export function seasonalityTest(x: ArrayLike<number>, m: number): boolean {
  if (m <= 1 || x.length < 3 * m) return false;
  const r = acf(x, m);
  let s = 0;
  for (let k = 0; k < m - 1; k++) s += r[k]! ** 2;
  const limit = 1.645 * Math.sqrt((1 + 2 * s) / x.length);
  return Math.abs(r[m - 1]!) > limit;
}

/**
 * Multiplicative seasonal indices of R's `decompose(type = "multiplicative")$figure`
 * (centred moving average), one per position 0..m-1 of the cycle (position
 * of index 0 = 0). `average: "median"` takes the median of each position's
 * detrended values instead of the mean, so one outlier cannot move an index.
 */
export function classicalIndices(
  x: ArrayLike<number>,
  m: number,
  type: "multiplicative" | "additive" = "multiplicative",
  average: "mean" | "median" = "mean",
): number[] {
  const n = x.length;
  const half = Math.floor(m / 2);
  const w = new Array(m + (m % 2 === 0 ? 1 : 0)).fill(1 / m);
  if (m % 2 === 0) w[0] = w[m] = 0.5 / m;
  const byPos: number[][] = Array.from({ length: m }, () => []);
  for (let t = half; t < n - half; t++) {
    let tr = 0;
    for (let j = 0; j < w.length; j++) tr += w[j]! * x[t - half + j]!;
    const s = type === "multiplicative" ? x[t]! / tr : x[t]! - tr;
    if (!Number.isFinite(s)) continue;
    byPos[t % m]!.push(s);
  }
  const avg = (v: number[]) => {
    if (!v.length) return type === "multiplicative" ? 1 : 0;
    if (average === "mean") return v.reduce((a, b) => a + b, 0) / v.length;
    const s = v.slice().sort((a, b) => a - b);
    const k = s.length >> 1;
    return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
  };
  const fig = byPos.map(avg);
  const c = mean(fig);
  return type === "multiplicative" ? fig.map((f) => f / c) : fig.map((f) => f - c);
}

/** Least-squares line through (0..n-1, x): `[intercept, slope]`. */
export function linearFit(x: ArrayLike<number>): [number, number] {
  const n = x.length;
  const tm = (n - 1) / 2;
  const ym = mean(x);
  let sxy = 0, sxx = 0;
  for (let t = 0; t < n; t++) {
    sxy += (t - tm) * (x[t]! - ym);
    sxx += (t - tm) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return [ym - b * tm, b];
}

/** The p-quantile (type 7, as R's default) of values. */
export function quantile(values: ArrayLike<number>, p: number): number {
  const s = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)]!) - s[lo]!);
}
