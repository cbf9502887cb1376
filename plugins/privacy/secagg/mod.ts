/**
 * Secure aggregation for federated rounds: the field and fixed-point
 * encoding, the mask PRG, Shamir sharing and the four-step protocol.
 *
 * @example
 * ```ts
 * import { P, Q } from "@mercury/privacy/secagg";
 * import assert from "node:assert/strict";
 *
 * assert.ok(P < 2 ** 52 && Q > 2n ** 520n);
 * ```
 *
 * @module
 */
export { addInto, decode, encode, isFieldVector, MAX_ABS, P, SCALE, subInto } from "./field.ts";
export { expandMask } from "./prg.ts";
export { combineShares, Q, type Share, splitSecret } from "./shamir.ts";
export {
  fromB64,
  type PublicKeys,
  type Reveal,
  SecAggClient,
  SecAggError,
  toB64,
  type UnmaskInput,
  unmaskSum,
} from "./protocol.ts";
