/**
 * The string hash the sketches share: MurmurHash3 x86 32-bit.
 *
 * @example
 * ```ts
 * import { murmur3 } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.equal(murmur3("device-1"), murmur3("device-1"));
 * assert.notEqual(murmur3("device-1"), murmur3("device-2"));
 * ```
 *
 * @module
 */

/** MurmurHash3 x86 32-bit of a string's UTF-16 code units. */
export function murmur3(key: string, seed = 0x9747b28c): number {
  let h = seed | 0;
  const n = key.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (key.charCodeAt(i) & 0xffff) | ((key.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = key.charCodeAt(i) & 0xffff;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
