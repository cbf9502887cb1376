/**
 * Window specs — tumbling, hopping (sliding) and session — parsed once at the
 * edge (`"tumbling:1m"`, `"hopping:1m/10s"`, `"session:30s"`) and trusted after.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { parseDuration as parseCoreDuration } from "@mercury/core/options";

/** A window spec. Times in milliseconds. */
export type WindowSpec =
  | { kind: "tumbling"; size: number }
  | { kind: "hopping"; size: number; slide: number }
  | { kind: "session"; gap: number };

/** Tumbling windows of `size` ms. */
export const tumbling = (size: number): WindowSpec => checkSpec({ kind: "tumbling", size });
/** Hopping windows of `size` ms starting every `slide` ms. */
export const hopping = (size: number, slide: number): WindowSpec => checkSpec({ kind: "hopping", size, slide });
/** Session windows closed by `gap` ms of inactivity per key. */
export const session = (gap: number): WindowSpec => checkSpec({ kind: "session", gap });

/**
 * Parses a duration with core's `parseDuration` (`500ms`, `10s`, `5m`, `1h`, `1d`, `1h30m`, or plain
 * milliseconds); text that is none is a usage error at `where`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDuration("1m"), 60_000);
 * assert.equal(parseDuration("250ms"), 250);
 * assert.throws(() => parseDuration("soon"), /not a duration/);
 * ```
 */
export function parseDuration(text: string, where = "duration"): number {
  const ms = parseCoreDuration(text);
  if (ms === undefined) {
    throw new MercuryError("usage", `"${text}" is not a duration`, { where, hint: "use e.g. 500ms, 10s, 5m, 1h" });
  }
  return ms;
}

/**
 * Parses `tumbling:SIZE`, `hopping:SIZE/SLIDE` or `session:GAP`.
 *
 * @example
 * ```ts
 * import { parseWindowSpec } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseWindowSpec("hopping:1m/15s"), { kind: "hopping", size: 60_000, slide: 15_000 });
 * assert.throws(() => parseWindowSpec("sliding"), /window spec/);
 * ```
 */
export function parseWindowSpec(text: string, where = "--window"): WindowSpec {
  const [kind, arg = ""] = text.split(":", 2);
  const hint = "use tumbling:1m, hopping:1m/10s or session:30s";
  if (kind === "tumbling") return checkSpec({ kind, size: parseDuration(arg, where) }, where);
  if (kind === "hopping") {
    const [size, slide] = arg.split("/");
    if (!size || !slide) throw new MercuryError("usage", `hopping window "${text}" needs SIZE/SLIDE`, { where, hint });
    return checkSpec({ kind, size: parseDuration(size, where), slide: parseDuration(slide, where) }, where);
  }
  if (kind === "session") return checkSpec({ kind, gap: parseDuration(arg, where) }, where);
  throw new MercuryError("usage", `"${text}" is not a window spec`, { where, hint });
}

function checkSpec(spec: WindowSpec, where = "window spec"): WindowSpec {
  const bad = (msg: string) => new MercuryError("usage", msg, { where });
  if (spec.kind === "session") {
    if (!(spec.gap > 0)) throw bad("a session gap must be positive");
  } else {
    if (!(spec.size > 0)) throw bad("a window size must be positive");
    if (spec.kind === "hopping") {
      if (!(spec.slide > 0) || spec.slide > spec.size) {
        throw bad("a hopping slide must be positive and at most the size");
      }
      if (spec.size % spec.slide !== 0) throw bad("a hopping size must be a multiple of its slide");
    }
  }
  return spec;
}

/** Human-readable spec, e.g. `tumbling 60s`. */
export function describeWindow(spec: WindowSpec): string {
  const s = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  return spec.kind === "session"
    ? `session gap ${s(spec.gap)}`
    : spec.kind === "hopping"
    ? `hopping ${s(spec.size)} every ${s(spec.slide)}`
    : `tumbling ${s(spec.size)}`;
}

/**
 * Start times of the fixed windows (tumbling or hopping) that contain `ts`.
 * Each window is `[start, start + size)`.
 */
export function windowStarts(ts: number, spec: Exclude<WindowSpec, { kind: "session" }>): number[] {
  if (spec.kind === "tumbling") return [tumblingStart(ts, spec.size)];
  const last = ts - mod(ts, spec.slide);
  const out: number[] = [];
  for (let start = last; start > ts - spec.size; start -= spec.slide) out.push(start);
  return out;
}

/** The start of the tumbling window of `size` ms that holds `ts` (aligned to the epoch). */
export function tumblingStart(ts: number, size: number): number {
  return ts - mod(ts, size);
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
