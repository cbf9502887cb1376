/**
 * The health report every service module returns, and a timeout helper.
 *
 * @module
 */
import { MercuryError } from "../errors.ts";

/** The outcome of one real request to a service. */
export interface HealthReport {
  service: string;
  endpoint: string;
  ok: boolean;
  /** Round trip of the health request, in milliseconds. */
  latencyMs: number;
  /** Server version or the failure, in a few words. */
  detail: string;
}

/**
 * Races `promise` against a timer; the loser is left to settle on its own.
 *
 * @example
 * ```ts
 * import { withTimeout } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await withTimeout(Promise.resolve(1), 100, "one"), 1);
 * await assert.rejects(withTimeout(new Promise(() => {}), 10, "never"), /never timed out after 10 ms/);
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MercuryError("timeout", `${what} timed out after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Builds the "cannot reach" error every service module throws. */
export function unreachable(service: string, endpoint: string, envVar: string, cause: unknown): MercuryError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MercuryError("unavailable", `cannot reach ${service} at ${endpoint}: ${reason}`, {
    where: endpoint,
    hint: `start it with \`deno task services up ${service.toLowerCase()}\`, or set ${envVar}`,
    cause,
  });
}
