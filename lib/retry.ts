/**
 * One retry loop for the whole project: capped exponential backoff with
 * jitter, a bound on attempts and on total time, a predicate that stops on
 * errors that would fail the same way again, and an abort signal.
 *
 * @module
 */

/** Options of {@linkcode retry}. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3; `Infinity` with a deadline or signal). */
  attempts?: number;
  /** Wait before the second attempt, in ms (default 100). */
  baseMs?: number;
  /** Growth of the wait per attempt (default 2; 1 waits `baseMs` every time). */
  factor?: number;
  /** Cap on one wait, in ms (default 30 000). */
  maxMs?: number;
  /**
   * Share of each wait drawn at random, 0…1 (default 0): a wait `d` becomes a
   * uniform draw in `[d × (1 − jitter), d]`, so it never exceeds the backoff.
   */
  jitter?: number;
  /**
   * Budget for the whole call in ms, from its start: no wait runs past it and
   * no attempt starts after it; the last error is thrown instead.
   */
  deadlineMs?: number;
  /** Whether an error is worth another attempt (default: every error is). */
  retryable?: (err: unknown, attempt: number) => boolean;
  /** Stops waiting and retrying; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told before each wait: the error, the attempt that failed (1-based) and the wait in ms. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Source of uniforms in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
}

/**
 * The wait after failed attempt `attempt` (1-based), before jitter:
 * `min(maxMs, baseMs × factor^(attempt − 1))`.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@mercury/core/retry";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(a, { baseMs: 100, maxMs: 500 })), [100, 200, 400, 500]);
 * assert.equal(backoffDelay(9, { baseMs: 1000, factor: 1 }), 1000);
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, "baseMs" | "factor" | "maxMs"> = {},
): number {
  const base = options.baseMs ?? 100;
  const factor = options.factor ?? 2;
  const max = options.maxMs ?? 30_000;
  return Math.min(max, base * factor ** Math.max(0, attempt - 1));
}

/**
 * Calls `fn` until it resolves, waiting between failures; rethrows the last
 * error (unchanged) when attempts or the deadline run out or `retryable` says
 * no. `fn` gets the attempt number, 1-based.
 *
 * @example
 * ```ts
 * import { retry } from "@mercury/core/retry";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const v = await retry(async () => {
 *   if (++calls < 3) throw new Error("ECONNREFUSED");
 *   return "ok";
 * }, { attempts: 5, baseMs: 1 });
 * assert.equal(v, "ok");
 * assert.equal(calls, 3);
 *
 * // A non-retryable error is thrown at once.
 * calls = 0;
 * await assert.rejects(
 *   retry(() => { calls++; throw new TypeError("bad input"); }, { retryable: (e) => !(e instanceof TypeError) }),
 *   TypeError,
 * );
 * assert.equal(calls, 1);
 * ```
 */
export async function retry<T>(fn: (attempt: number) => Promise<T> | T, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 3;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
  const random = options.random ?? Math.random;
  const deadline = options.deadlineMs === undefined ? Infinity : performance.now() + options.deadlineMs;
  const signal = options.signal;
  for (let attempt = 1;; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || (options.retryable && !options.retryable(err, attempt))) throw err;
      const backoff = backoffDelay(attempt, options);
      const delay = Math.round(backoff * (1 - jitter * random()));
      if (performance.now() + delay >= deadline) throw err;
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, signal);
    }
  }
}

/**
 * Resolves after `ms`; rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * ```ts
 * import { sleep } from "@mercury/core/retry";
 * import assert from "node:assert/strict";
 *
 * const t0 = performance.now();
 * await sleep(20);
 * assert.ok(performance.now() - t0 >= 15);
 * await assert.rejects(sleep(10_000, AbortSignal.abort(new Error("stop"))), /stop/);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
