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
  /**
   * Enrichment attributes (e.g. the user's tier), filled by enrichment steps.
   * `parseEvent` sets it to `undefined`: a slot reserved up front, so that
   * filling it does not change the object's shape (which cost more than the
   * enrichment lookup itself).
   */
  attrs?: Record<string, string>;
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
  if (typeof value !== "string") return parseEventAt(value, 0, value.length, options);
  const bytes = encoder.encode(value);
  const fast = parseCanonical(bytes, 0, bytes.length);
  return fast ? checkFuture(fast, options) : parseJson(value, options);
}

/**
 * {@linkcode parseEvent} of the bytes `start..end` of `buf` (a record inside a
 * fetched batch), without a view of them: a `subarray` per record cost as much
 * as scanning the record.
 *
 * @example
 * ```ts
 * import { parseEventAt } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const batch = new TextEncoder().encode('xx{"id":"p-1","user":"u1","device":"d1","amount":9.5,"ts":5}yy');
 * const e = parseEventAt(batch, 2, batch.length - 2, { now: () => 5 });
 * assert.deepEqual(e, { id: "p-1", user: "u1", device: "d1", amount: 9.5, ts: 5, attrs: undefined });
 * ```
 */
export function parseEventAt(
  buf: Uint8Array,
  start: number,
  end: number,
  options: ParseOptions = {},
): Event | Rejected {
  const fast = parseCanonical(buf, start, end);
  if (fast) return checkFuture(fast, options);
  return parseJson(decoder.decode(buf.subarray(start, end)), options);
}

function checkFuture(e: Event, options: ParseOptions): Event | Rejected {
  const max = options.maxFutureMs ?? 3_600_000;
  // With the system clock, an event time below a reading already taken + max needs no new reading.
  if (!options.now && e.ts <= clockSeen + max) return e;
  const now = (options.now ?? Date.now)();
  if (!options.now) clockSeen = now;
  return e.ts > now + max ? { reason: "ts too far in the future" } : e;
}

/** The last reading of `Date.now()` by {@linkcode checkFuture}. */
let clockSeen = -Infinity;

/** Any other layout: `JSON.parse` and a check of each field. */
function parseJson(text: string, options: ParseOptions): Event | Rejected {
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
  return checkFuture(
    { id: e.id, user: e.user, device: e.device, amount: e.amount, ts: e.ts, attrs: undefined },
    options,
  );
}

/** Whether a parse result is a rejection. */
export function isRejected<E>(r: E | Rejected): r is Rejected {
  return typeof r === "object" && r !== null && "reason" in r && typeof (r as Rejected).reason === "string" &&
    !("id" in r);
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ID_OPEN = bytesOf('{"id":"');
const USER_SEP = bytesOf('","user":"');
const DEVICE_SEP = bytesOf('","device":"');
const AMOUNT_SEP = bytesOf('","amount":');
const TS_SEP = bytesOf(',"ts":');

function bytesAt(b: Uint8Array, at: number, want: Uint8Array, end: number): boolean {
  if (at + want.length > end) return false;
  for (let k = 0; k < want.length; k++) if (b[at + k] !== want[k]) return false;
  return true;
}

/**
 * The fast path of {@linkcode parseEvent}: the exact layout the producers write
 * (`{"id":"…","user":"…","device":"…","amount":12.34,"ts":1767225600000}`, no
 * spaces, printable-ASCII strings without escapes, plain decimals) is read by
 * scanning its bytes instead of decoding them and running `JSON.parse` — the
 * most expensive step per event. Anything else (escapes, other characters,
 * exponents, signs, other key orders, more keys) returns `null` and takes the
 * general path, so both paths accept and reject the same inputs (a test checks
 * thousands of damaged variants). A decimal `m / 10^k` with `m < 2^53` is one
 * correctly rounded division, the same double `JSON.parse` gives.
 *
 * The user, the usual key, is {@linkcode interned}: every event of a user
 * carries the same string, whose hash V8 keeps, so the map lookups that follow
 * (enrichment cache, window state) cost a fraction of a lookup with a fresh
 * string.
 */
function parseCanonical(b: Uint8Array, start: number, end: number): Event | null {
  if (!bytesAt(b, start, ID_OPEN, end)) return null;
  let i = start + 7;
  let j = asciiEnd(b, i, end);
  if (j <= i || !bytesAt(b, j, USER_SEP, end)) return null;
  const id = asciiString(b, i, j);
  i = j + 10;
  j = asciiEnd(b, i, end);
  if (j <= i || !bytesAt(b, j, DEVICE_SEP, end)) return null;
  const user = interned(b, i, j);
  i = j + 12;
  j = asciiEnd(b, i, end);
  if (j < i || !bytesAt(b, j, AMOUNT_SEP, end)) return null;
  const device = asciiString(b, i, j);
  i = j + 11;
  let m = 0;
  let digits = 0;
  let scale = -1;
  let c = 0;
  const first = i;
  for (; i < end; i++) {
    c = b[i]!;
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (scale >= 0) scale++;
    } else if (c === 46 && scale < 0 && i > first) scale = 0;
    else break;
  }
  if (digits === 0 || digits > 15 || scale === 0 || (b[first] === 48 && i > first + 1 && b[first + 1] !== 46)) {
    return null;
  }
  const amount = scale > 0 ? m / 10 ** scale : m;
  if (!bytesAt(b, i, TS_SEP, end)) return null;
  i += 6;
  let ts = 0;
  const tsFirst = i;
  for (; i < end; i++) {
    c = b[i]!;
    if (c >= 48 && c <= 57) ts = ts * 10 + (c - 48);
    else break;
  }
  const tsDigits = i - tsFirst;
  if (tsDigits === 0 || tsDigits > 15 || (tsDigits > 1 && b[tsFirst] === 48)) return null;
  if (c !== 125 || i !== end - 1) return null;
  return { id, user, device, amount, ts, attrs: undefined };
}

/** The index of the closing quote of a printable-ASCII string without escapes from `i`, or -1. */
function asciiEnd(b: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 34) return i;
    if (c === 92 || c < 32 || c > 126) return -1;
  }
  return -1;
}

/** An ASCII string from bytes: one `String.fromCharCode` call per 8 bytes (no per-character concatenation). */
function asciiString(b: Uint8Array, s: number, e: number): string {
  const f = String.fromCharCode;
  let out = "";
  for (; e - s >= 8; s += 8) {
    out += f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
  }
  switch (e - s) {
    case 1:
      return out + f(b[s]!);
    case 2:
      return out + f(b[s]!, b[s + 1]!);
    case 3:
      return out + f(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return out + f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return out + f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return out + f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return out + f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    default:
      return out;
  }
}

/** Users seen, by a 30-bit hash of their bytes (a small-integer key: cheap to look up). */
const internTable = new Map<number, string>();
/** Past this many users the table starts over (a stream of ever-new keys must not grow it forever). */
const INTERN_MAX = 200_000;

/** The ASCII string of bytes `s..e`, the same instance as for earlier events with the same bytes. */
function interned(b: Uint8Array, s: number, e: number): string {
  if (e - s > 24) return asciiString(b, s, e);
  let h = 0x811c9dc5;
  for (let k = s; k < e; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
  h &= 0x3fffffff;
  const known = internTable.get(h);
  if (known !== undefined && known.length === e - s) {
    let k = 0;
    while (k < known.length && known.charCodeAt(k) === b[s + k]) k++;
    if (k === known.length) return known;
  }
  const str = asciiString(b, s, e);
  if (known === undefined) {
    if (internTable.size >= INTERN_MAX) internTable.clear();
    internTable.set(h, str);
  }
  return str;
}
