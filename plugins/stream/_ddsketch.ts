/**
 * The one module that touches `@datadog/sketches-js`. {@linkcode QuantileSketch}
 * keeps DDSketch's bins in its own sparse store, so it needs the library's
 * logarithmic key mapping (including its private `_multiplier` and `_offset`,
 * read once to compute keys without two method calls per value) and, to read
 * window state checkpointed by older versions as base64 protobuf, its decoder
 * and store layout. Everything relied on is checked here at load time and in
 * tests/stream/ddsketch_shape_test.ts, which fails loudly when the library
 * changes shape.
 *
 * @example
 * ```ts
 * import { DDSKETCH_MAPPING, ddsketchKey } from "./_ddsketch.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ddsketchKey(1234.5), DDSKETCH_MAPPING.key(1234.5));
 * ```
 *
 * @module
 */
import { DDSketch } from "@datadog/sketches-js";
import { Buffer } from "node:buffer";

/** Relative accuracy of the percentile sketches (2%). */
export const QUANTILE_ACCURACY = 0.02;

/** What is used of DDSketch's logarithmic mapping (two of its fields are private). */
export interface KeyMapping {
  key(value: number): number;
  value(key: number): number;
  minPossible: number;
  _multiplier: number;
  _offset: number;
}

/** What is used of a DDSketch's state to read it as bins (private fields of the library). */
export interface DDSketchInternals {
  mapping: KeyMapping;
  store: { bins: number[]; offset: number; add(key: number, weight: number): void };
  zeroCount: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * DDSketch's log mapping at {@linkcode QUANTILE_ACCURACY}, shared by every
 * window (creating a `DDSketch` per window cost more than the window itself).
 */
export const DDSKETCH_MAPPING: KeyMapping =
  (new DDSketch({ relativeAccuracy: QUANTILE_ACCURACY }) as unknown as DDSketchInternals).mapping;

const KEY_MULTIPLIER = DDSKETCH_MAPPING._multiplier;
const KEY_OFFSET = DDSKETCH_MAPPING._offset;
/** Values at or below this count as zero (the mapping's smallest positive value). */
export const MIN_POSITIVE: number = DDSKETCH_MAPPING.minPossible;
if (
  typeof KEY_MULTIPLIER !== "number" || typeof KEY_OFFSET !== "number" ||
  DDSKETCH_MAPPING.key(1234.5) !== Math.ceil(Math.log2(1234.5) * KEY_MULTIPLIER) + KEY_OFFSET
) {
  throw new Error("@datadog/sketches-js changed its logarithmic mapping: update plugins/stream/_ddsketch.ts");
}

/** `DDSKETCH_MAPPING.key(value)` (`ceil(log2(value) · multiplier) + offset`, the same arithmetic) for value > 0. */
export function ddsketchKey(value: number): number {
  return Math.ceil(Math.log2(value) * KEY_MULTIPLIER) + KEY_OFFSET;
}

/** A sketch's bins and summary: the non-empty bins as [key, count, key, count, …] in key order. */
export interface CompactSketch {
  b: number[];
  z: number;
  n: number;
  s: number;
  mn: number;
  mx: number;
}

/** Decodes a DDSketch serialised as base64 protobuf (window state written by older versions) into bins. */
export function compactFromDDSketchBase64(b64: string): CompactSketch {
  const s = DDSketch.fromProto(new Uint8Array(Buffer.from(b64, "base64"))) as unknown as DDSketchInternals;
  const b: number[] = [];
  const { bins, offset } = s.store;
  for (let i = 0; i < bins.length; i++) if (bins[i]) b.push(i + offset, bins[i]!);
  return { b, z: s.zeroCount, n: s.count, s: s.sum, mn: s.min, mx: s.max };
}

export { DDSketch };
