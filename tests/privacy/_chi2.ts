/** Chi-squared goodness of fit for the sampler tests: fixed significance, so a wrong sampler fails. */

/** Upper quantile of χ²(df) at significance `alpha` (Wilson–Hilferty, good to ~1% for df ≥ 3). */
export function chi2Critical(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** z for an upper tail of 1e-4 (the tests' fixed significance). */
export const Z_1E4 = 3.719;

/**
 * The χ² statistic of integer samples against a pmf, on the bins lo…hi with
 * both tails merged into one bin each; returns statistic and degrees of freedom.
 * Edge bins whose expected count is under 5 are merged into their tail first
 * (the χ² approximation needs it: a tail bin expecting 0.03 draws turned a
 * single draw at x = −8 of the discrete Gaussian σ² = 5/2 into χ² ≈ 80, about
 * one run in thirty).
 */
export function chi2Integer(
  samples: ArrayLike<number>,
  pmf: (x: number) => number,
  lo: number,
  hi: number,
  support = 200,
): { stat: number; df: number } {
  const n = samples.length;
  let z0 = 0;
  for (let x = -support; x <= support; x++) z0 += pmf(x);
  const below = (b: number) => {
    let t = 0;
    for (let x = -support; x < b; x++) t += pmf(x) / z0;
    return t;
  };
  const above = (b: number) => {
    let t = 0;
    for (let x = b + 1; x <= support; x++) t += pmf(x) / z0;
    return t;
  };
  while (lo < hi && n * below(lo) < 5) lo++;
  while (hi > lo && n * above(hi) < 5) hi--;
  const obs = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const x = Math.min(hi + 1, Math.max(lo - 1, samples[i]!));
    obs.set(x, (obs.get(x) ?? 0) + 1);
  }
  let z = 0;
  for (let x = -support; x <= support; x++) z += pmf(x);
  let lowTail = 0, highTail = 0;
  for (let x = -support; x < lo; x++) lowTail += pmf(x) / z;
  for (let x = hi + 1; x <= support; x++) highTail += pmf(x) / z;
  let stat = 0, bins = 0;
  const add = (o: number, p: number) => {
    const e = n * p;
    if (e === 0) {
      if (o > 0) stat = Infinity; // a draw where the pmf is 0
      return;
    }
    stat += ((o - e) * (o - e)) / e;
    bins++;
  };
  add(obs.get(lo - 1) ?? 0, lowTail);
  for (let x = lo; x <= hi; x++) add(obs.get(x) ?? 0, pmf(x) / z);
  add(obs.get(hi + 1) ?? 0, highTail);
  return { stat, df: bins - 1 };
}
