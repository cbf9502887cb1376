/**
 * Shadow mode: the primary model answers; the candidate scores the same
 * input in the background and does not answer. Its output (or error) and
 * both latencies go to `onResult` for comparison; a candidate failure never
 * reaches the caller.
 *
 * @example
 * ```ts
 * import { shadow } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const seen: unknown[] = [];
 * const predict = shadow((x: number) => x * 2, async (x: number) => { throw new Error("boom " + x); }, (r) => seen.push(r));
 * assert.equal(await predict(3), 6);
 * await predict.settled();
 * assert.equal(predict.stats().candidateErrors, 1);
 * ```
 *
 * @module
 */

/** One shadowed call. */
export interface ShadowResult<I, O> {
  input: I;
  primary: O;
  candidate?: O;
  candidateError?: unknown;
  primaryMs: number;
  candidateMs: number;
}

/** Counters of a shadowed function. */
export interface ShadowStats {
  calls: number;
  candidateErrors: number;
  /** Calls whose candidate output differed from the primary's (by `same`). */
  disagreements: number;
}

/** A shadowed predict function. */
export interface Shadowed<I, O> {
  (input: I): Promise<O>;
  /** Resolves when every candidate call started so far has finished. */
  settled(): Promise<void>;
  stats(): ShadowStats;
}

/** Wraps `primary` so `candidate` runs in its shadow. */
export function shadow<I, O>(
  primary: (input: I) => O | Promise<O>,
  candidate: (input: I) => O | Promise<O>,
  onResult: (result: ShadowResult<I, O>) => void = () => {},
  same: (a: O, b: O) => boolean = (a, b) => a === b,
): Shadowed<I, O> {
  const pending = new Set<Promise<void>>();
  const stats: ShadowStats = { calls: 0, candidateErrors: 0, disagreements: 0 };
  const fn = async (input: I): Promise<O> => {
    stats.calls++;
    const t0 = performance.now();
    const out = await primary(input);
    const primaryMs = performance.now() - t0;
    const job = (async () => {
      const t1 = performance.now();
      const result: ShadowResult<I, O> = { input, primary: out, primaryMs, candidateMs: 0 };
      try {
        result.candidate = await candidate(input);
        if (!same(out, result.candidate)) stats.disagreements++;
      } catch (err) {
        result.candidateError = err;
        stats.candidateErrors++;
      }
      result.candidateMs = performance.now() - t1;
      try {
        onResult(result);
      } catch { /* a failing observer must not break serving */ }
    })();
    pending.add(job);
    job.finally(() => pending.delete(job));
    return out;
  };
  return Object.assign(fn, {
    settled: async () => {
      while (pending.size) await Promise.all([...pending]);
    },
    stats: () => ({ ...stats }),
  });
}
