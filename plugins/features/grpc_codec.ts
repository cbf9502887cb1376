/**
 * A direct protobuf encoder for `GetOnlineFeaturesResponse`
 * (`proto/feature_server.proto`): from the feature server's answer to wire
 * bytes in two passes (sizes, then bytes) into one buffer, with no message
 * objects in between. The same bytes protobufjs writes for
 * `{ feature_names, results: [{ values: toProtoValue(v)…, statuses,
 * event_timestamps_ms }] }` (a test checks it). Measured on a 51-column
 * answer: 100 entities 1,250 µs with protobufjs, 345 µs here (JSON.stringify
 * of the same answer, the HTTP server's cost: 333 µs); 1 entity 22 µs → 8.3 µs
 * (JSON 11.8 µs).
 *
 * @example
 * ```ts
 * import { encodeOnlineResponse } from "./grpc_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeOnlineResponse({
 *   metadata: { featureNames: ["id"] },
 *   results: [{ values: [7], statuses: ["PRESENT"], eventTimestamps: [null] }],
 * });
 * // feature_names "id", then one FeatureVector: values [{int64_val: 7}], statuses [1], event_timestamps_ms [0].
 * assert.deepEqual([...bytes], [10, 2, 105, 100, 18, 10, 10, 2, 8, 7, 18, 1, 1, 26, 1, 0]);
 * ```
 *
 * @module
 */

/** What the encoder reads of an online answer (`OnlineResponse` from `online_features.ts` fits). */
export interface OnlineAnswer {
  metadata: { featureNames: readonly string[] };
  results: readonly {
    values: readonly unknown[];
    statuses: readonly string[];
    eventTimestamps: readonly (number | null)[];
  }[];
}

const STATUS: Record<string, number> = { PRESENT: 1, NULL_VALUE: 2, NOT_FOUND: 3, OUTSIDE_MAX_AGE: 4 };
const encoder = new TextEncoder();

/** Bytes of a varint holding the unsigned 32-bit `n`. */
function size32(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** The low and high 32 bits of an integer-valued number as int64 (two's complement), as protobufjs' LongBits. */
function bits(v: number): [number, number] {
  const sign = v < 0;
  if (sign) v = -v;
  let lo = v >>> 0;
  let hi = ((v - lo) / 4294967296) >>> 0;
  if (sign) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 4294967295) {
      lo = 0;
      if (++hi > 4294967295) hi = 0;
    }
  }
  return [lo, hi];
}

/** Bytes of a varint holding an int64. */
function size64(v: number): number {
  if (v >= 0 && v < 0x10000000) return size32(v);
  const [lo, hi] = bits(v);
  if (hi === 0) return size32(lo);
  // 28 bits in the first four bytes, then the rest.
  const part1 = (lo >>> 28 | hi << 4) >>> 0;
  const part2 = hi >>> 24;
  return part2 === 0 ? (part1 < 0x4000 ? (part1 < 0x80 ? 5 : 6) : (part1 < 0x200000 ? 7 : 8)) : (part2 < 0x80 ? 9 : 10);
}

/** UTF-8 length of a string (lone surrogates count as U+FFFD, as `TextEncoder` writes them). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** The encoded size of one `Value` body (without its tag and length). */
function valueSize(v: unknown, strings: string[], lengths: number[], at: number): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return Number.isInteger(v) ? 1 + size64(v) : 9;
  if (typeof v === "boolean") return 2;
  const s = String(v);
  const n = utf8Length(s);
  strings[at] = s;
  lengths[at] = n;
  return 1 + size32(n) + n;
}

/** Encodes an online answer as a `GetOnlineFeaturesResponse`. */
export function encodeOnlineResponse(res: OnlineAnswer): Uint8Array {
  // Pass 1: sizes. Value sizes are kept (one per value, in order) so pass 2 writes lengths without recomputing.
  let values = 0;
  for (const col of res.results) values += col.values.length;
  // Per value, in order: its encoded size, and for strings the text and its UTF-8 length.
  const vsizes = new Array<number>(values);
  const strings = new Array<string>(values);
  const lengths = new Array<number>(values);
  let total = 0;
  const nameLen: number[] = [];
  for (const name of res.metadata.featureNames) {
    const n = utf8Length(name);
    nameLen.push(n);
    total += 1 + size32(n) + n;
  }
  let at = 0;
  const vecSize: number[] = [];
  const tsBytes: number[] = [];
  for (const col of res.results) {
    let size = 0;
    for (let i = 0; i < col.values.length; i++) {
      const s = valueSize(col.values[i], strings, lengths, at);
      vsizes[at++] = s;
      size += 1 + size32(s) + s;
    }
    if (col.statuses.length) size += 1 + size32(col.statuses.length) + col.statuses.length;
    let ts = 0;
    for (const t of col.eventTimestamps) ts += size64(t ?? 0);
    tsBytes.push(ts);
    if (col.eventTimestamps.length) size += 1 + size32(ts) + ts;
    vecSize.push(size);
    total += 1 + size32(size) + size;
  }

  // Pass 2: bytes.
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let p = 0;
  const u32 = (n: number) => {
    while (n > 127) {
      out[p++] = (n & 127) | 128;
      n >>>= 7;
    }
    out[p++] = n;
  };
  const i64 = (v: number) => {
    if (v >= 0 && v < 0x10000000) return u32(v);
    let [lo, hi] = bits(v);
    while (hi) {
      out[p++] = (lo & 127) | 128;
      lo = (lo >>> 7 | hi << 25) >>> 0;
      hi >>>= 7;
    }
    u32(lo);
  };
  const str = (s: string, n: number) => {
    u32(n);
    if (n === s.length) {
      for (let i = 0; i < n; i++) out[p++] = s.charCodeAt(i);
    } else {
      encoder.encodeInto(s, out.subarray(p, p + n));
      p += n;
    }
  };
  res.metadata.featureNames.forEach((name, k) => {
    out[p++] = 0x0a;
    str(name, nameLen[k]!);
  });
  at = 0;
  res.results.forEach((col, k) => {
    out[p++] = 0x12;
    u32(vecSize[k]!);
    for (const v of col.values) {
      const s = vsizes[at]!;
      out[p++] = 0x0a;
      u32(s);
      if (v === null || v === undefined) {
        // an empty Value: no field set
      } else if (typeof v === "number") {
        if (Number.isInteger(v)) {
          out[p++] = 0x08;
          i64(v);
        } else {
          out[p++] = 0x11;
          view.setFloat64(p, v, true);
          p += 8;
        }
      } else if (typeof v === "boolean") {
        out[p++] = 0x20;
        out[p++] = v ? 1 : 0;
      } else {
        out[p++] = 0x1a;
        str(strings[at]!, lengths[at]!);
      }
      at++;
    }
    if (col.statuses.length) {
      out[p++] = 0x12;
      u32(col.statuses.length);
      for (const st of col.statuses) out[p++] = STATUS[st] ?? 0;
    }
    if (col.eventTimestamps.length) {
      out[p++] = 0x1a;
      u32(tsBytes[k]!);
      for (const t of col.eventTimestamps) i64(t ?? 0);
    }
  });
  if (p !== total) throw new Error(`encodeOnlineResponse: wrote ${p} bytes of ${total}`);
  return out;
}
