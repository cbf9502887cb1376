/**
 * Waiting for the operating system's stop signals (Ctrl-C, `kill`) in
 * long-running commands, with the listeners always removed afterwards.
 *
 * @module
 */

/**
 * The signals a server or worker stops on by default.
 *
 * @example
 * ```ts
 * import { STOP_SIGNALS } from "@mercury/core/signal";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...STOP_SIGNALS], ["SIGINT", "SIGTERM"]);
 * ```
 */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];

/** Signals this platform lets a program listen to (Windows: SIGINT and SIGBREAK only). */
function listenable(signals: readonly Deno.Signal[]): Deno.Signal[] {
  return Deno.build.os === "windows" ? signals.filter((s) => s === "SIGINT" || s === "SIGBREAK") : [...signals];
}

/**
 * Calls `handler` with the signal's name each time one of `signals` arrives,
 * until disposed: `using _ = onSignal(() => processor.stop());`.
 *
 * @example
 * ```ts
 * import { onSignal } from "@mercury/core/signal";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * {
 *   using _listening = onSignal((s) => seen.push(s), ["SIGUSR1"]);
 *   Deno.kill(Deno.pid, "SIGUSR1");
 *   await new Promise((r) => setTimeout(r, 100));
 * }
 * assert.deepEqual(seen, ["SIGUSR1"]);
 * ```
 */
export function onSignal(
  handler: (signal: Deno.Signal) => void,
  signals: readonly Deno.Signal[] = STOP_SIGNALS,
): Disposable & { remove(): void } {
  const listeners = listenable(signals).map((s) => [s, () => handler(s)] as const);
  for (const [s, l] of listeners) Deno.addSignalListener(s, l);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
  };
  return { remove, [Symbol.dispose]: remove };
}

/**
 * Resolves with the name of the first of `signals` to arrive (default SIGINT
 * and SIGTERM), then stops listening. The process stays alive while it waits
 * (signal listeners alone do not hold the event loop open). With
 * `options.signal`, stops listening when it aborts and rejects with its reason.
 *
 * @example
 * ```ts
 * import { untilSignal } from "@mercury/core/signal";
 * import assert from "node:assert/strict";
 *
 * const waiting = untilSignal(["SIGUSR2"]);
 * setTimeout(() => Deno.kill(Deno.pid, "SIGUSR2"), 20);
 * assert.equal(await waiting, "SIGUSR2");
 *
 * const ac = new AbortController();
 * const cancelled = untilSignal(undefined, { signal: ac.signal });
 * ac.abort(new Error("done"));
 * await assert.rejects(cancelled, /done/);
 * ```
 */
export function untilSignal(
  signals: readonly Deno.Signal[] = STOP_SIGNALS,
  options: { signal?: AbortSignal } = {},
): Promise<Deno.Signal> {
  const abort = options.signal;
  if (abort?.aborted) return Promise.reject(abort.reason);
  return new Promise((resolve, reject) => {
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const onAbort = () => {
      clearInterval(keepAlive);
      listening.remove();
      reject(abort!.reason);
    };
    const listening = onSignal((s) => {
      clearInterval(keepAlive);
      listening.remove();
      abort?.removeEventListener("abort", onAbort);
      resolve(s);
    }, signals);
    abort?.addEventListener("abort", onAbort, { once: true });
  });
}
