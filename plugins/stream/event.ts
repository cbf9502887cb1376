/**
 * The events the pipeline carries, and their validation: a malformed event
 * is never an exception, it is a {@linkcode Rejected} with a reason that goes
 * to the dead-letter topic.
 *
 * @module
 */

/** A purchase-like event as the load generator writes it (~100 bytes of JSON). */
export interface Event {
  /** Unique id (producer id + sequence). */
  id: string;
  user: string;
  device: string;
  amount: number;
  /** Event time, epoch milliseconds. */
  ts: number;
}

/** A record that failed validation. */
export interface Rejected {
  reason: string;
}

/** Options of {@linkcode parseEvent}. */
export interface ParseOptions {
  /** Reject event times further than this ahead of `now` (default 1 hour). */
  maxFutureMs?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/**
 * Parses and validates one record value.
 *
 * @example
 * ```ts
 * import { parseEvent } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const ok = parseEvent('{"id":"p-1","user":"u1","device":"d1","amount":9.5,"ts":1767225600000}', {
 *   now: () => 1767225600000,
 * });
 * assert.equal("reason" in ok, false);
 * assert.deepEqual(parseEvent("{oops"), { reason: "bad JSON" });
 * assert.match((parseEvent('{"id":"x","user":"u","device":"d","amount":"9","ts":1}') as { reason: string }).reason, /amount/);
 * ```
 */
export function parseEvent(
  value: string | Uint8Array | null | undefined,
  options: ParseOptions = {},
): Event | Rejected {
  if (value === null || value === undefined) return { reason: "empty value" };
  const text = typeof value === "string" ? value : decoder.decode(value);
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { reason: "bad JSON" };
  }
  if (o === null || typeof o !== "object" || Array.isArray(o)) return { reason: "not a JSON object" };
  const e = o as Record<string, unknown>;
  if (typeof e.id !== "string" || e.id === "") return { reason: "missing or non-string field id" };
  if (typeof e.user !== "string" || e.user === "") return { reason: "missing or non-string field user" };
  if (typeof e.device !== "string") return { reason: "missing or non-string field device" };
  if (typeof e.amount !== "number" || !Number.isFinite(e.amount)) {
    return { reason: "missing or non-numeric field amount" };
  }
  if (typeof e.ts !== "number" || !Number.isInteger(e.ts) || e.ts < 0) {
    return { reason: "missing or invalid field ts (epoch milliseconds)" };
  }
  const now = (options.now ?? Date.now)();
  if (e.ts > now + (options.maxFutureMs ?? 3_600_000)) return { reason: "ts too far in the future" };
  return { id: e.id, user: e.user, device: e.device, amount: e.amount, ts: e.ts };
}

/** Whether a parse result is a rejection. */
export function isRejected<E>(r: E | Rejected): r is Rejected {
  return typeof r === "object" && r !== null && "reason" in r && typeof (r as Rejected).reason === "string" &&
    !("id" in r);
}

const decoder = new TextDecoder();
