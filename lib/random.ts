/**
 * A seeded random generator for reproducible sample data and tests:
 * mulberry32 (32-bit state, fast, good enough for synthetic data; not for
 * secrets). The same seed always gives the same sequence on every platform.
 *
 * @module
 */

/**
 * Returns a generator of uniforms in [0, 1) seeded with `seed` (its low 32
 * bits are used).
 *
 * @example
 * ```ts
 * import { seededRandom } from "@mercury/core/random";
 * import assert from "node:assert/strict";
 *
 * const a = seededRandom(42), b = seededRandom(42);
 * const xs = Array.from({ length: 5 }, a);
 * assert.deepEqual(xs, Array.from({ length: 5 }, b));
 * assert.ok(xs.every((x) => x >= 0 && x < 1));
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal draw (Box–Muller) from a uniform generator such as
 * {@linkcode seededRandom}; `mean` and `sd` shift and scale it.
 *
 * @example
 * ```ts
 * import { normal, seededRandom } from "@mercury/core/random";
 * import assert from "node:assert/strict";
 *
 * const rnd = seededRandom(7);
 * const xs = Array.from({ length: 2000 }, () => normal(rnd, 10, 2));
 * const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
 * assert.ok(Math.abs(mean - 10) < 0.3);
 * ```
 */
export function normal(random: () => number, mean = 0, sd = 1): number {
  const u = 1 - random(); // (0, 1]: log(0) never happens
  const v = random();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
