/**
 * Sticky traffic splitting for A/B tests: a key (user id, session id) is
 * hashed with the experiment's salt (FNV-1a 32-bit, then a murmur3
 * finaliser for avalanche) to a point in [0, 1), and the point picks a
 * variant by cumulative weight. The same key always lands in the same
 * variant; a different salt reshuffles keys between experiments.
 *
 * @example
 * ```ts
 * import { TrafficSplit } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const split = new TrafficSplit([{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }], "exp-42");
 * assert.equal(split.assign("user-7"), split.assign("user-7"));
 * const n = Array.from({ length: 10000 }, (_, i) => split.assign(`u${i}`)).filter((v) => v === "v2").length;
 * assert.ok(n > 900 && n < 1100);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** A variant and its share of traffic (weights are normalised). */
export interface Variant {
  name: string;
  weight: number;
}

/** A point in [0, 1) for `key` under `salt`. */
export function hashUnit(key: string, salt = ""): number {
  let h = 0x811c9dc5;
  const s = `${salt}\u0000${key}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Assigns keys to variants by weight, stickily. */
export class TrafficSplit {
  readonly variants: readonly Variant[];
  readonly salt: string;
  readonly #cumulative: number[];

  constructor(variants: Variant[], salt: string) {
    if (variants.length === 0 || variants.some((v) => !(v.weight >= 0)) || variants.every((v) => v.weight === 0)) {
      throw new MercuryError("input", "traffic split needs at least one variant with a positive weight", {
        where: `split "${salt}"`,
        hint: 'pass e.g. [{ name: "v1", weight: 50 }, { name: "v2", weight: 50 }]',
      });
    }
    this.variants = variants;
    this.salt = salt;
    const total = variants.reduce((s, v) => s + v.weight, 0);
    let acc = 0;
    this.#cumulative = variants.map((v) => (acc += v.weight / total));
  }

  /** The variant of `key`. */
  assign(key: string): string {
    const u = hashUnit(key, this.salt);
    const i = this.#cumulative.findIndex((c) => u < c);
    return this.variants[i < 0 ? this.variants.length - 1 : i]!.name;
  }
}
