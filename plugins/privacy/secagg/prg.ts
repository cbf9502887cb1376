/**
 * The pseudo-random generator that expands a 32-byte seed into a mask vector:
 * AES-256-CTR (WebCrypto) over zero blocks, each 8 output bytes read as a
 * 52-bit integer and reduced mod p (the bias is below 2^-51 per element).
 *
 * @example
 * ```ts
 * import { expandMask, P } from "@mercury/privacy/secagg";
 * import assert from "node:assert/strict";
 *
 * const seed = new Uint8Array(32).fill(7);
 * const a = await expandMask(seed, 4), b = await expandMask(seed, 4);
 * assert.deepEqual(a, b);
 * assert.ok(a.every((e) => e >= 0 && e < P));
 * ```
 *
 * @module
 */
import { P } from "./field.ts";

/** `length` field elements derived from `seed` (32 bytes). */
export async function expandMask(seed: Uint8Array, length: number): Promise<Float64Array> {
  if (seed.length !== 32) throw new RangeError(`a mask seed is 32 bytes, got ${seed.length}`);
  const key = await crypto.subtle.importKey("raw", seed as BufferSource, "AES-CTR", false, ["encrypt"]);
  const stream = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-CTR", counter: new Uint8Array(16), length: 64 },
      key,
      new Uint8Array(length * 8),
    ),
  );
  const view = new DataView(stream.buffer);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const hi = view.getUint32(i * 8) & 0xfffff; // 20 bits
    const lo = view.getUint32(i * 8 + 4);
    const x = hi * 2 ** 32 + lo; // < 2^52 < 2p
    out[i] = x >= P ? x - P : x;
  }
  return out;
}
