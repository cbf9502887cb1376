/**
 * Multivariate drift by PCA reconstruction error (NannyML's
 * `DataReconstructionDriftCalculator`): on the reference, impute missing
 * values with the column mean, standardise, keep the principal components
 * that explain 65 % of the variance; a chunk's reconstruction error is the
 * mean Euclidean distance between its standardised rows and their
 * projection back from the kept components. Thresholds are the reference
 * chunks' mean error ± 3 standard deviations; a chunk outside them drifted.
 * It catches changes in the correlation between features that per-column
 * tests cannot see.
 *
 * @example
 * ```ts
 * import { PcaDrift } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const rows = (n: number, sign: number) => Array.from({ length: n }, (_, i) => { const a = Math.sin(i * 1.7), b = Math.cos(i * 0.3); return [a, sign * a + 0.1 * b, b]; });
 * const pca = PcaDrift.fit(rows(1000, 1), { chunkSize: 100 });
 * assert.equal(pca.check(rows(100, 1)).drifted, false);
 * assert.equal(pca.check(rows(100, -1)).drifted, true);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { symmetricEigen } from "./_linalg.ts";

/** Options of {@linkcode PcaDrift.fit}. */
export interface PcaDriftOptions {
  /** Share of variance the kept components explain (0.65). */
  varianceKept?: number;
  /** Reference rows per chunk for the thresholds (a tenth of the reference by default). */
  chunkSize?: number;
  /** Width of the band in reference standard deviations (3). */
  sigmas?: number;
}

/** A chunk's reconstruction error against the band. */
export interface PcaDriftResult {
  error: number;
  lower: number;
  upper: number;
  drifted: boolean;
}

/** Fitted PCA reconstruction-error drift detector. */
export class PcaDrift {
  readonly components: number;
  readonly lower: number;
  readonly upper: number;
  readonly referenceError: number;
  readonly #mean: Float64Array;
  readonly #sd: Float64Array;
  readonly #basis: Float64Array; // d × k, row-major
  readonly #d: number;

  private constructor(mean: Float64Array, sd: Float64Array, basis: Float64Array, k: number, band: number[]) {
    this.#mean = mean;
    this.#sd = sd;
    this.#basis = basis;
    this.#d = mean.length;
    this.components = k;
    [this.referenceError, this.lower, this.upper] = band as [number, number, number];
  }

  /** Fits on reference rows (row-major; NaN allowed, imputed with the mean). */
  static fit(reference: number[][], options: PcaDriftOptions = {}): PcaDrift {
    const n = reference.length, d = reference[0]?.length ?? 0;
    const chunk = options.chunkSize ?? Math.max(1, Math.floor(n / 10));
    if (n < 2 * chunk || d < 2) {
      throw new MercuryError(
        "input",
        `PCA drift needs ≥ 2 features and ≥ 2 chunks of ${chunk} reference rows (got ${n} rows × ${d})`,
        {
          where: "PcaDrift.fit",
          hint: "widen the reference or lower chunkSize",
        },
      );
    }
    const mean = new Float64Array(d), count = new Float64Array(d), sd = new Float64Array(d);
    for (const r of reference) {
      for (let j = 0; j < d; j++) {
        if (Number.isFinite(r[j])) {
          mean[j]! += r[j]!;
          count[j]!++;
        }
      }
    }
    for (let j = 0; j < d; j++) mean[j]! /= count[j]! || 1;
    for (const r of reference) {
      for (let j = 0; j < d; j++) sd[j]! += ((Number.isFinite(r[j]) ? r[j]! : mean[j]!) - mean[j]!) ** 2;
    }
    for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]! / n) || 1;
    const cov = new Float64Array(d * d);
    const z = new Float64Array(d);
    for (const r of reference) {
      for (let j = 0; j < d; j++) z[j] = ((Number.isFinite(r[j]) ? r[j]! : mean[j]!) - mean[j]!) / sd[j]!;
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b]! += z[a]! * z[b]!;
    }
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b]! /= n;
    const { values, vectors } = symmetricEigen(cov, d);
    const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
    let k = 0, acc = 0;
    while (k < d && acc / total < (options.varianceKept ?? 0.65)) acc += Math.max(values[k++]!, 0);
    const basis = new Float64Array(d * k);
    for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) basis[j * k + c] = vectors[j * d + c]!;
    const probe = new PcaDrift(mean, sd, basis, k, [0, 0, 0]);
    const errors: number[] = [];
    for (let s = 0; s + chunk <= n; s += chunk) errors.push(probe.error(reference.slice(s, s + chunk)));
    const m = errors.reduce((a, b) => a + b, 0) / errors.length;
    const sdev = Math.sqrt(errors.reduce((a, b) => a + (b - m) ** 2, 0) / (errors.length - 1));
    const w = options.sigmas ?? 3;
    return new PcaDrift(mean, sd, basis, k, [m, m - w * sdev, m + w * sdev]);
  }

  /** Mean reconstruction error of rows. */
  error(rows: number[][]): number {
    const d = this.#d, k = this.components;
    const z = new Float64Array(d), proj = new Float64Array(k);
    let total = 0;
    for (const r of rows) {
      if (r.length !== d) {
        throw new MercuryError("input", `row has ${r.length} features, the reference ${d}`, {
          where: "PcaDrift",
          hint: "pass rows with the reference's columns in the same order",
        });
      }
      for (let j = 0; j < d; j++) {
        z[j] = ((Number.isFinite(r[j]) ? r[j]! : this.#mean[j]!) - this.#mean[j]!) / this.#sd[j]!;
      }
      proj.fill(0);
      for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) proj[c]! += z[j]! * this.#basis[j * k + c]!;
      let e = 0;
      for (let j = 0; j < d; j++) {
        let back = 0;
        for (let c = 0; c < k; c++) back += proj[c]! * this.#basis[j * k + c]!;
        e += (z[j]! - back) ** 2;
      }
      total += Math.sqrt(e);
    }
    return total / rows.length;
  }

  /** Checks one chunk against the reference band. */
  check(rows: number[][]): PcaDriftResult {
    const error = this.error(rows);
    return { error, lower: this.lower, upper: this.upper, drifted: error < this.lower || error > this.upper };
  }
}
