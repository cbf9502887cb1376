/**
 * Selection mechanisms on exact integer noise: report-noisy-max, the
 * exponential mechanism and the sparse vector technique (AboveThreshold).
 *
 * Report-noisy-max and the sparse vector technique round scores to a grid
 * of 2^k (2^−20 of the noise scale) and draw the noise exactly in grid
 * units, as in {@link ./float.ts} (ε-DP for sensitivity Δ + 2^k). The
 * exponential mechanism is sampled exactly by rejection with
 * Bernoulli(e^−γ) on rationals, with no noise added to floats at all.
 *
 * @example
 * ```ts
 * import { exponentialMechanism } from "@mercury/privacy/mechanisms/selection";
 * import assert from "node:assert/strict";
 *
 * // One score far above the others wins almost surely at ε = 10.
 * assert.equal(exponentialMechanism([0, 100, 1], { sensitivity: 1, epsilon: 10 }), 1);
 * ```
 *
 * @module
 */
import { uniformBelowSmall } from "./_rng.ts";
import { bernoulliExp, floatToRational, sampleDiscreteLaplace } from "./samplers.ts";
import { toGrid } from "./float.ts";

function checkEps(epsilon: number, sensitivity: number): void {
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${epsilon}`);
  if (!(Number.isFinite(sensitivity) && sensitivity > 0)) {
    throw new RangeError(`sensitivity must be > 0, got ${sensitivity}`);
  }
}

function gridFor(scale: number): number {
  return Math.floor(Math.log2(scale)) - 20;
}

/** A noise scale as an exact rational in units of 2^k. */
function inGrid(scale: number, k: number): { num: bigint; den: bigint } {
  const { num, den } = floatToRational(scale);
  return k >= 0 ? { num, den: den << BigInt(k) } : { num: num << BigInt(-k), den };
}

function argmaxNoisy(scores: readonly number[], k: number, noise: () => bigint): number {
  if (scores.length === 0) throw new RangeError("no candidates to select from");
  let best = -1, bestValue = 0n;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new RangeError(`score ${i} is not finite: ${s}`);
    const v = toGrid(s, k) + noise();
    if (best < 0 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/**
 * Report-noisy-max with Laplace noise: the index of the largest score after
 * adding discrete Laplace noise of scale 2(Δ + 2^k)/ε to each. ε-DP when
 * each score has sensitivity Δ.
 */
export function reportNoisyMax(scores: readonly number[], p: { sensitivity: number; epsilon: number }): number {
  checkEps(p.epsilon, p.sensitivity);
  const k = gridFor((2 * p.sensitivity) / p.epsilon);
  const b = inGrid((2 * (p.sensitivity + 2 ** k)) / p.epsilon, k);
  return argmaxNoisy(scores, k, () => sampleDiscreteLaplace(b.num, b.den));
}

/**
 * The exponential mechanism: index i with probability ∝ exp(ε·uᵢ/(2Δ)),
 * sampled exactly by rejection: draw i uniformly and accept it with
 * probability exp(−ε·(max − uᵢ)/(2Δ)), a Bernoulli(e^−γ) on the exact
 * rational γ of the doubles given (CKS Algorithm 1). The best candidate is
 * accepted with probability 1, so it takes at most n draws on average.
 */
export function exponentialMechanism(
  utilities: readonly number[],
  p: { sensitivity: number; epsilon: number },
): number {
  checkEps(p.epsilon, p.sensitivity);
  const n = utilities.length;
  if (n === 0) throw new RangeError("no candidates to select from");
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = utilities[i]!;
    if (!Number.isFinite(u)) throw new RangeError(`utility ${i} is not finite: ${u}`);
    if (u > max) max = u;
  }
  const m = floatToRational(max), e = floatToRational(p.epsilon), s = floatToRational(p.sensitivity);
  const gammas = utilities.map((u) => {
    const r = floatToRational(u);
    // (max − u)·ε/(2Δ) = (mN·uD − uN·mD)·eN·sD / (mD·uD·eD·2·sN)
    return { num: (m.num * r.den - r.num * m.den) * e.num * s.den, den: m.den * r.den * e.den * 2n * s.num };
  });
  for (;;) {
    const i = uniformBelowSmall(n);
    const g = gammas[i]!;
    if (bernoulliExp(g.num, g.den)) return i;
  }
}

/**
 * The sparse vector technique (AboveThreshold, Dwork & Roth Alg. 1, with
 * `maxAnswers` positive answers by restarting): for each query value in turn,
 * whether it is above the threshold. ε-DP in total for queries of
 * sensitivity Δ; it stops after `maxAnswers` "above" answers.
 */
export function sparseVector(
  values: Iterable<number>,
  p: { threshold: number; sensitivity: number; epsilon: number; maxAnswers?: number },
): boolean[] {
  checkEps(p.epsilon, p.sensitivity);
  const c = p.maxAnswers ?? 1;
  if (!(Number.isInteger(c) && c >= 1)) throw new RangeError(`maxAnswers must be a whole number ≥ 1, got ${c}`);
  const eps1 = p.epsilon / 2, eps2 = p.epsilon / 2;
  const k = gridFor(p.sensitivity / eps1);
  const g = 2 ** k;
  const thrScale = inGrid((c * (p.sensitivity + g)) / eps1, k);
  const qScale = inGrid((2 * c * (p.sensitivity + g)) / eps2, k);
  const out: boolean[] = [];
  let answered = 0;
  let noisyT = toGrid(p.threshold, k) + sampleDiscreteLaplace(thrScale.num, thrScale.den);
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`query ${out.length} is not finite: ${v}`);
    const above = toGrid(v, k) + sampleDiscreteLaplace(qScale.num, qScale.den) >= noisyT;
    out.push(above);
    if (above) {
      answered++;
      if (answered >= c) break;
      noisyT = toGrid(p.threshold, k) + sampleDiscreteLaplace(thrScale.num, thrScale.den);
    }
  }
  return out;
}
