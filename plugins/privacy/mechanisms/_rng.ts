/**
 * Exact random draws from the operating system's CSPRNG
 * (`crypto.getRandomValues`, refilled 4 KiB at a time): uniform integers by
 * rejection (no modulo bias) and Bernoulli trials with rational
 * probabilities. Nothing here touches floating point.
 *
 * @module
 */

const buf = new Uint32Array(1024);
let pos = buf.length;

/** A uniform 32-bit unsigned integer. */
export function u32(): number {
  if (pos === buf.length) {
    crypto.getRandomValues(buf);
    pos = 0;
  }
  return buf[pos++]!;
}

/** A uniform integer in [0, n) for 1 ≤ n ≤ 2³², by rejection. */
export function uniformBelowSmall(n: number): number {
  if (!(Number.isInteger(n) && n >= 1 && n <= 0x1_0000_0000)) throw new RangeError(`bad bound ${n}`);
  if (n === 1) return 0;
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
  for (;;) {
    const x = u32();
    if (x < limit) return x % n;
  }
}

/** A uniform integer in [0, n) for any BigInt n ≥ 1, by rejection on the bit length. */
export function uniformBelow(n: bigint): bigint {
  if (n < 1n) throw new RangeError(`uniformBelow needs n ≥ 1, got ${n}`);
  if (n <= 0x1_0000_0000n) return BigInt(uniformBelowSmall(Number(n)));
  const bits = n.toString(2).length;
  const words = Math.ceil(bits / 32);
  const topMask = bits % 32 === 0 ? 0xffff_ffff : (1 << (bits % 32)) - 1;
  for (;;) {
    let r = BigInt((u32() & topMask) >>> 0);
    for (let w = 1; w < words; w++) r = (r << 32n) | BigInt(u32());
    if (r < n) return r;
  }
}

/** True with probability num/den exactly (0 ≤ num ≤ den, den ≥ 1). */
export function bernoulli(num: bigint, den: bigint): boolean {
  if (num < 0n || den < 1n || num > den) throw new RangeError(`bernoulli needs 0 ≤ ${num} ≤ ${den}`);
  if (num === 0n) return false;
  if (num === den) return true;
  return uniformBelow(den) < num;
}

/** A fair coin. */
export function coin(): boolean {
  return (u32() & 1) === 1;
}
