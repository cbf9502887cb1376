/**
 * The per-column drift statistics Evidently uses, with its exact semantics
 * (evidently 0.7.23 `legacy/calculations/stattests`, on scipy 1.17):
 *
 * | test | statistic (Evidently's value) | drift when |
 * | --- | --- | --- |
 * | `ks` | two-sample Kolmogorov–Smirnov p-value (scipy `ks_2samp`, method auto: exact when both samples ≤ 10,000) | p ≤ threshold (0.05) |
 * | `chisquare` | Pearson χ² p-value, expected = reference counts × n_cur/n_ref | p < threshold (0.05) |
 * | `z` | two-sided Z-test for two proportions (first sorted value vs the rest) | p < threshold (0.05) |
 * | `wasserstein` | scipy `wasserstein_distance` ÷ max(std_ref, 0.001) (population std) | value ≥ threshold (0.1) |
 * | `jensenshannon` | scipy `jensenshannon` (natural log) of binned shares, no zero filling | value ≥ threshold (0.1) |
 * | `psi` | Σ (r − c)·ln(r/c) of binned shares, zeros filled | value ≥ threshold (0.1) |
 * | `kl_div` | scipy `entropy(r, c)` of binned shares, zeros filled | value ≥ threshold (0.1) |
 *
 * Binning (`get_binned_data`): a numerical column with more than 20 distinct
 * reference values is cut at numpy's Sturges edges of reference ∪ current;
 * otherwise each distinct value is a bin. Zero shares are filled with
 * min(non-zero)/10⁶ when that minimum is ≤ 10⁻⁴, else with 10⁻⁴.
 *
 * When either sample exceeds 10,000 rows the KS p-value comes, as in scipy,
 * from the finite-n Kolmogorov distribution `kstwo` at n = round(n₁n₂/(n₁+n₂))
 * (`_kstwo.ts`, equal to scipy's to ~1e-14).
 *
 * @example
 * ```ts
 * import { ks2samp, wassersteinNormed } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const a = Float64Array.from([1, 2, 3, 4]), b = Float64Array.from([5, 6, 7, 8]);
 * assert.equal(ks2samp(a, b).statistic, 1);
 * assert.ok(Math.abs(ks2samp(a, b).pValue - 0.028571428571428) < 1e-12);
 * assert.ok(wassersteinNormed(a, b) > 3);
 * ```
 *
 * @module
 */
import { chi2Sf, normalSf } from "./_special.ts";
import { kstwoSf } from "./_kstwo.ts";

/** Names of the drift tests, as Evidently names them. */
export type DriftTestName = "ks" | "chisquare" | "z" | "wasserstein" | "jensenshannon" | "psi" | "kl_div";

/** A category value. */
export type Category = string | number | boolean;

function sorted(xs: Float64Array): Float64Array {
  return Float64Array.from(xs).sort();
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D ≥ h/n) for two samples of equal size n (scipy `_compute_prob_outside_square`). */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = (n - k * h - j) * p1 / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * Share of lattice paths from (0,0) to (m,n) leaving the band |x/m − y/n| < h/lcm
 * (Hodges' inside method computing 1 − p directly, Viehmann 2021; scipy's algorithm).
 */
function probOutsideBand(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g, ng = n / g;
  let minj = 0, maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj, lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** Result of the two-sample KS test. */
export interface KsResult {
  statistic: number;
  pValue: number;
  method: "exact" | "asymp";
}

/** Two-sided two-sample Kolmogorov–Smirnov test as scipy's `ks_2samp(method="auto")`. */
export function ks2samp(reference: Float64Array, current: Float64Array, presorted = false): KsResult {
  const a = presorted ? reference : sorted(reference), b = presorted ? current : sorted(current);
  const n1 = a.length, n2 = b.length;
  // max |F1 − F2| over the merged sample (cdfs taken "right": after all ties)
  let i = 0, j = 0, d = 0;
  while (i < n1 || j < n2) {
    const x = i < n1 && (j >= n2 || a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i] === x) i++;
    while (j < n2 && b[j] === x) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  const g = gcd(n1, n2);
  if (Math.max(n1, n2) <= 10000) {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, method: "exact" };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: d, pValue: p, method: "exact" };
  }
  const en = (n1 * n2) / (n1 + n2);
  return {
    statistic: d,
    pValue: kstwoSf(Math.round(en), d),
    method: "asymp",
  };
}

/** Counts of each category. */
export function countValues(values: ArrayLike<Category>): Map<Category, number> {
  const m = new Map<Category, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

function unionKeys(a: Map<Category, number>, b: Map<Category, number>): Category[] {
  const keys = new Set<Category>(a.keys());
  for (const k of b.keys()) keys.add(k);
  return [...keys];
}

/** Pearson χ² test of current counts against reference shares (Evidently's `chisquare`). */
export function chiSquare(
  reference: Map<Category, number>,
  current: Map<Category, number>,
): { statistic: number; pValue: number; df: number } {
  const keys = unionKeys(reference, current);
  let nRef = 0, nCur = 0;
  for (const v of reference.values()) nRef += v;
  for (const v of current.values()) nCur += v;
  const k = nCur / nRef;
  let stat = 0;
  for (const key of keys) {
    const e = (reference.get(key) ?? 0) * k, o = current.get(key) ?? 0;
    stat += e === 0 ? (o === 0 ? NaN : Infinity) : (o - e) ** 2 / e;
  }
  const df = keys.length - 1;
  return { statistic: stat, pValue: df > 0 ? chi2Sf(stat, df) : NaN, df };
}

function compareKeys(a: Category, b: Category): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a), y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Two-sided Z-test for the share of the first (sorted) value in reference vs current (Evidently's `z`). */
export function zTestProportions(
  reference: Map<Category, number>,
  current: Map<Category, number>,
): { statistic: number; pValue: number } {
  if (reference.size === 1 && current.size === 1 && [...reference.keys()][0] === [...current.keys()][0]) {
    return { statistic: 0, pValue: 1 };
  }
  const first = unionKeys(reference, current).sort(compareKeys)[0]!;
  let n1 = 0, n2 = 0;
  for (const v of reference.values()) n1 += v;
  for (const v of current.values()) n2 += v;
  // Evidently codes the first value 0 and the rest 1, then compares shares of 1s
  const p1 = (n1 - (reference.get(first) ?? 0)) / n1, p2 = (n2 - (current.get(first) ?? 0)) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic: z, pValue: 2 * normalSf(Math.abs(z)) };
}

/** First Wasserstein distance of two samples (scipy `wasserstein_distance`), from sorted inputs. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length, n2 = b.length;
  let i = 0, j = 0, dist = 0;
  let prev = Math.min(a[0]!, b[0]!);
  while (i < n1 || j < n2) {
    const x = i < n1 && (j >= n2 || a[i]! <= b[j]!) ? a[i]! : b[j]!;
    dist += Math.abs(i / n1 - j / n2) * (x - prev);
    prev = x;
    while (i < n1 && a[i] === x) i++;
    while (j < n2 && b[j] === x) j++;
  }
  return dist;
}

/** Population standard deviation (numpy `std`, ddof 0). */
export function populationStd(xs: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < xs.length; i++) mean += xs[i]!;
  mean /= xs.length;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - mean) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Wasserstein distance normed by the reference's std (at least 0.001), Evidently's `wasserstein`. */
export function wassersteinNormed(reference: Float64Array, current: Float64Array, presorted = false): number {
  const a = presorted ? reference : sorted(reference), b = presorted ? current : sorted(current);
  return wassersteinSorted(a, b) / Math.max(populationStd(reference), 0.001);
}

/** numpy's Sturges bin edges of the union of two sorted samples (`histogram_bin_edges(…, "sturges")`). */
export function sturgesEdges(a: Float64Array, b: Float64Array): Float64Array {
  const n = a.length + b.length;
  let first = Math.min(a[0]!, b[0]!), last = Math.max(a[a.length - 1]!, b[b.length - 1]!);
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = (last - first) / (Math.log2(n) + 1);
  const bins = width ? Math.ceil((last - first) / width) : 1;
  const step = (last - first) / bins;
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/** numpy `histogram` counts of a sorted sample over `edges` (the last bin closed). */
export function histogramSorted(xs: Float64Array, edges: Float64Array): Float64Array {
  const k = edges.length - 1;
  const counts = new Float64Array(k);
  const lower = (v: number) => { // first index with xs[i] >= v
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (xs[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upper = (v: number) => { // first index with xs[i] > v
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (xs[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let prev = lower(edges[0]!);
  for (let i = 0; i < k; i++) {
    const next = i === k - 1 ? upper(edges[k]!) : lower(edges[i + 1]!);
    counts[i] = next - prev;
    prev = next;
  }
  return counts;
}

/** Reference and current shares per bin. */
export interface Binned {
  reference: Float64Array;
  current: Float64Array;
}

/** Evidently's `get_binned_data` for a numerical column given sorted samples. */
export function binNumerical(a: Float64Array, b: Float64Array, fillZeros: boolean): Binned {
  let distinct = a.length ? 1 : 0;
  for (let i = 1; i < a.length && distinct <= 20; i++) if (a[i] !== a[i - 1]) distinct++;
  if (distinct > 20) {
    const edges = sturgesEdges(a, b);
    const r = histogramSorted(a, edges), c = histogramSorted(b, edges);
    for (let i = 0; i < r.length; i++) {
      r[i]! /= a.length;
      c[i]! /= b.length;
    }
    return fill({ reference: r, current: c }, fillZeros);
  }
  return binCategorical(countValues(a), countValues(b), fillZeros);
}

/** Evidently's `get_binned_data` for counts of distinct values. */
export function binCategorical(ref: Map<Category, number>, cur: Map<Category, number>, fillZeros: boolean): Binned {
  const keys = unionKeys(ref, cur);
  let nRef = 0, nCur = 0;
  for (const v of ref.values()) nRef += v;
  for (const v of cur.values()) nCur += v;
  const r = new Float64Array(keys.length), c = new Float64Array(keys.length);
  keys.forEach((k, i) => {
    r[i] = (ref.get(k) ?? 0) / nRef;
    c[i] = (cur.get(k) ?? 0) / nCur;
  });
  return fill({ reference: r, current: c }, fillZeros);
}

function fill(b: Binned, fillZeros: boolean): Binned {
  if (!fillZeros) return b;
  for (const xs of [b.reference, b.current]) {
    let min = Infinity;
    for (const x of xs) if (x !== 0 && x < min) min = x;
    const v = min <= 0.0001 ? min / 1e6 : 0.0001;
    for (let i = 0; i < xs.length; i++) if (xs[i] === 0) xs[i] = v;
  }
  return b;
}

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** scipy `distance.jensenshannon(p, q)` with the natural log. */
export function jensenShannon(p: Float64Array, q: Float64Array): number {
  let sp = 0, sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  let left = 0, right = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp, b = q[i]! / sq, m = (a + b) / 2;
    left += relEntr(a, m);
    right += relEntr(b, m);
  }
  return Math.sqrt((left + right) / 2);
}

/** Population stability index Σ (r − c)·ln(r/c) of filled shares. */
export function psi(r: Float64Array, c: Float64Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return s;
}

/** scipy `stats.entropy(r, c)`: KL divergence of the normalised shares. */
export function klDivergence(r: Float64Array, c: Float64Array): number {
  let sr = 0, sc = 0;
  for (let i = 0; i < r.length; i++) {
    sr += r[i]!;
    sc += c[i]!;
  }
  let s = 0;
  for (let i = 0; i < r.length; i++) s += relEntr(r[i]! / sr, c[i]! / sc);
  return s;
}
