/**
 * A sequential A/B test that may be watched after every observation without
 * inflating false positives: the mixture sequential probability ratio test
 * (mSPRT) of Johari, Pekelis & Walsh, "Always Valid Inference" (2017), on
 * the difference of means θ = μ_B − μ_A with a normal mixing distribution
 * N(0, τ²). With θ̂ the observed difference and V = s²_A/n_A + s²_B/n_B its
 * variance, Λₙ = √(V/(V+τ²))·exp(θ̂²τ²/(2V(V+τ²))); the always-valid p-value
 * is pₙ = min(pₙ₋₁, 1/Λₙ) and the always-valid confidence interval is
 * θ̂ ± √(2V(V+τ²)/τ² · (ln(1/α) + ½ln((V+τ²)/V))). Proportions are means of
 * 0/1 values. Sums are kept incrementally; `update` is O(1).
 *
 * The guarantee is exact for normal data with known variance; here the
 * variance is estimated (plug-in, as in practice), so the test waits for
 * `minSamples` per arm. `tests/observe/abtest_sequential_test.ts` measures
 * the false-positive rate over 2,000 A/A runs.
 *
 * @example
 * ```ts
 * import { SequentialTest } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const t = new SequentialTest({ tau: 0.05, minSamples: 10 });
 * for (let i = 0; i < 2000; i++) { t.add("A", i % 10 < 1 ? 1 : 0); t.add("B", i % 10 < 3 ? 1 : 0); }
 * const r = t.result();
 * assert.equal(r.decision, "B");
 * assert.ok(r.pValue < 0.001 && r.ci[0] > 0);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** Options of a {@linkcode SequentialTest}. */
export interface SequentialTestOptions {
  /** Significance level α (0.05). */
  alpha?: number;
  /** Standard deviation of the mixing distribution, in the metric's units: the size of effect worth finding. */
  tau: number;
  /** Observations per arm before any decision (100). */
  minSamples?: number;
}

/** The state of a sequential test. */
export interface SequentialResult {
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
  /** θ̂ = mean_B − mean_A. */
  difference: number;
  /** Always-valid p-value (non-increasing). */
  pValue: number;
  /** Always-valid (1 − α) confidence interval of the difference. */
  ci: [number, number];
  /** "A" or "B" when significant (the better arm by the sign of θ̂), else "continue". */
  decision: "A" | "B" | "continue";
}

/** mSPRT on the difference of two means; see the module doc. */
export class SequentialTest {
  readonly alpha: number;
  readonly tau: number;
  readonly minSamples: number;
  #n = [0, 0];
  #sum = [0, 0];
  #sq = [0, 0];
  #p = 1;

  constructor(options: SequentialTestOptions) {
    this.alpha = options.alpha ?? 0.05;
    this.tau = options.tau;
    this.minSamples = options.minSamples ?? 100;
    if (!(this.tau > 0) || !(this.alpha > 0 && this.alpha < 1)) {
      throw new MercuryError(
        "input",
        `sequential test needs tau > 0 and 0 < alpha < 1 (got tau ${this.tau}, alpha ${this.alpha})`,
        {
          where: "SequentialTest options",
          hint: "tau is the effect size worth detecting, in the metric's units",
        },
      );
    }
  }

  /** Adds one observation to arm A or B. */
  add(arm: "A" | "B", value: number): void {
    if (!Number.isFinite(value)) {
      throw new MercuryError("input", `observation ${value} for arm ${arm} is not a finite number`, {
        where: `arm ${arm}`,
        hint: "send 0/1 for conversions or a finite metric value",
      });
    }
    const k = arm === "A" ? 0 : 1;
    this.#n[k]!++;
    this.#sum[k]! += value;
    this.#sq[k]! += value * value;
    this.#update();
  }

  #update(): void {
    const [nA, nB] = this.#n as [number, number];
    if (nA < this.minSamples || nB < this.minSamples) return;
    const { difference, v } = this.#moments();
    if (v <= 0) return;
    const t2 = this.tau * this.tau;
    const logLambda = 0.5 * Math.log(v / (v + t2)) + (difference * difference * t2) / (2 * v * (v + t2));
    this.#p = Math.min(this.#p, Math.exp(-logLambda), 1);
  }

  #moments() {
    const [nA, nB] = this.#n as [number, number];
    const mA = nA ? this.#sum[0]! / nA : NaN, mB = nB ? this.#sum[1]! / nB : NaN;
    const varA = nA > 1 ? Math.max(0, (this.#sq[0]! - nA * mA * mA) / (nA - 1)) : NaN;
    const varB = nB > 1 ? Math.max(0, (this.#sq[1]! - nB * mB * mB) / (nB - 1)) : NaN;
    // a floor keeps V > 0 when an arm has seen only one value so far
    const floor = 1e-12 + (this.tau * this.tau) * 1e-6;
    return { mA, mB, difference: mB - mA, v: Math.max(varA / nA + varB / nB, floor) };
  }

  /** The current p-value, interval and decision. */
  result(): SequentialResult {
    const [nA, nB] = this.#n as [number, number];
    const { mA, mB, difference, v } = this.#moments();
    const t2 = this.tau * this.tau;
    const ready = nA >= this.minSamples && nB >= this.minSamples;
    const half = ready
      ? Math.sqrt((2 * v * (v + t2) / t2) * (Math.log(1 / this.alpha) + 0.5 * Math.log((v + t2) / v)))
      : Infinity;
    const significant = this.#p <= this.alpha;
    return {
      nA,
      nB,
      meanA: mA,
      meanB: mB,
      difference,
      pValue: this.#p,
      ci: [difference - half, difference + half],
      decision: significant ? (difference > 0 ? "B" : "A") : "continue",
    };
  }
}
