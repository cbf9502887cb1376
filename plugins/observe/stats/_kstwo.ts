/**
 * Survival function of the two-sided one-sample Kolmogorov–Smirnov statistic
 * Dₙ for finite n (scipy's `kstwo.sf`), by the algorithm selection of Simard
 * & L'Ecuyer (2011) as scipy 1.17 implements it: Ruben–Gambino closed forms
 * at the ends, 2 × the exact one-sided Smirnov probability (Birnbaum–Tingey
 * sum) in the tail, the Durbin matrix (Marsaglia–Tsang–Wang) for small n·x²
 * and the Pelz–Good expansion otherwise. Where scipy uses Pomeranz's
 * recursion (n ≤ 140, 0.754693 < n·x² ≤ 4) this uses the Durbin matrix,
 * which is also exact. `ks2samp` needs it for its asymptotic branch.
 * Private to `stats/`.
 *
 * @module
 */
import { logGamma } from "./_special.ts";

/** One-sided exact Smirnov P(Dₙ⁺ ≥ d) by the Birnbaum–Tingey sum (all terms positive). */
export function smirnovSf(n: number, d: number): number {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  const top = Math.floor(n * (1 - d) + 1e-12);
  const lnN = logGamma(n + 1);
  let s = 0;
  for (let j = 0; j <= top; j++) {
    const a = 1 - d - j / n, b = d + j / n;
    if (a <= 0) {
      if (n - j === 0) s += Math.exp(lnN - logGamma(j + 1) - logGamma(n - j + 1) + (j - 1) * Math.log(b));
      continue;
    }
    s += Math.exp(lnN - logGamma(j + 1) - logGamma(n - j + 1) + (n - j) * Math.log(a) + (j - 1) * Math.log(b));
  }
  return Math.min(1, Math.max(0, d * s));
}

/** Durbin-matrix CDF P(Dₙ < d) (Marsaglia, Tsang & Wang 2003). */
function durbinCdf(n: number, d: number): number {
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd), h = k - nd, m = 2 * k - 1;
  const H = new Float64Array(m * m);
  const v = new Float64Array(m), w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;
  const mul = (a: Float64Array, b: Float64Array) => {
    const out = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const x = a[i * m + l]!;
        if (x === 0) continue;
        for (let j = 0; j < m; j++) out[i * m + j]! += x * b[l * m + j]!;
      }
    }
    return out;
  };
  let P = new Float64Array(m * m);
  for (let i = 0; i < m; i++) P[i * m + i] = 1;
  let Hp = H, nn = n, expnt = 0, hExpnt = 0;
  const E = 128, EP = 2 ** 128;
  while (nn > 0) {
    if (nn % 2) {
      P = mul(P, Hp);
      expnt += hExpnt;
    }
    Hp = mul(Hp, Hp);
    hExpnt *= 2;
    if (Math.abs(Hp[(k - 1) * m + k - 1]!) > EP) {
      for (let i = 0; i < Hp.length; i++) Hp[i]! /= EP;
      hExpnt += E;
    }
    nn = Math.floor(nn / 2);
  }
  let p = P[(k - 1) * m + k - 1]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 2 ** -128) {
      p *= EP;
      expnt -= E;
    }
  }
  return p * 2 ** expnt;
}

/** Pelz–Good asymptotic expansion of P(Dₙ ≤ x), returned as the survival function. */
function pelzGoodSf(n: number, x: number): number {
  const PI2 = Math.PI ** 2, PI4 = PI2 * PI2, PI6 = PI4 * PI2, SQRT2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x, z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 1;
  let q = Math.exp(qlog);
  const k1a = -z2, k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4, k2b = ((2 * z4 - 5 * z2) * PI2) / 4, k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64, k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4, k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const qp = q ** (8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + c[i]!;
  }
  const den = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / den[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0, k3extra = 0;
  const s3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const qk = q ** (k * k);
    k2extra += k * k * qk;
    k3extra += (s3z + Math.PI * k) * (s3z - Math.PI * k) * k * k * qk;
  }
  K[2]! += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3]! += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  for (let i = 0; i < 4; i++) K[i] = K[i]! / n ** (i / 2);
  return 1 - (K[0]! + K[1]! + K[2]! + K[3]!);
}

const clip = (p: number) => Math.min(1, Math.max(0, p));

/** P(Dₙ > x) for the two-sided one-sample KS statistic (scipy `kstwo.sf(x, n)`). */
export function kstwoSf(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= (i / n) * (2 * t - 1);
    } else prob = Math.exp(logGamma(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1));
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip(1 - durbinCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  if (nx2 >= 18) return 0;
  if (n <= 100000 && n * x ** 1.5 <= 1.4) return clip(1 - durbinCdf(n, x));
  return clip(pelzGoodSf(n, x));
}
