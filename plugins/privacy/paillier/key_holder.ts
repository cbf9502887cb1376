/**
 * The key holder's side of encrypted analytics with Paillier
 * (`paillier-bigint`): it makes the key pair, encrypts columns before they
 * leave (fixed-point integers mod n, negatives in the upper half), and
 * decrypts only the aggregates the server sends back. The private key never
 * leaves this object.
 *
 * @example
 * ```ts
 * import { KeyHolder } from "@mercury/privacy/paillier";
 * import { PublicKey } from "paillier-bigint";
 * import assert from "node:assert/strict";
 *
 * const holder = await KeyHolder.create(512); // demo size; use ≥ 2048 bits
 * const cs = holder.encryptColumn([1.25, -0.5, 3]);
 * const pk = new PublicKey(BigInt("0x" + holder.publicKey.n), BigInt("0x" + holder.publicKey.g));
 * const sum = pk.addition(...cs.map((c) => BigInt("0x" + c)));
 * assert.equal(holder.decryptNumber(sum.toString(16)), 3.75);
 * ```
 *
 * @module
 */
import { generateRandomKeys, type PrivateKey, type PublicKey } from "paillier-bigint";

/** A public key as hex strings, what the server receives. */
export interface PublicKeyJson {
  n: string;
  g: string;
}

/** Holds a Paillier key pair; encrypts values and decrypts aggregates. */
export class KeyHolder {
  readonly #pk: PublicKey;
  readonly #sk: PrivateKey;
  /** Fixed-point scale of encoded values (2 decimals by default). */
  readonly scale: number;

  private constructor(pk: PublicKey, sk: PrivateKey, scale: number) {
    this.#pk = pk;
    this.#sk = sk;
    this.scale = scale;
  }

  /** A fresh key pair of `bits` (default 2048; below 2048 only for demos and tests). */
  static async create(bits = 2048, scale = 100): Promise<KeyHolder> {
    if (!(Number.isInteger(bits) && bits >= 256)) throw new RangeError(`key size must be ≥ 256 bits, got ${bits}`);
    const { publicKey, privateKey } = await generateRandomKeys(bits);
    return new KeyHolder(publicKey, privateKey, scale);
  }

  /** The public half, for the server. */
  get publicKey(): PublicKeyJson {
    return { n: this.#pk.n.toString(16), g: this.#pk.g.toString(16) };
  }

  /** Each value encrypted (hex ciphertexts); values are rounded to 1/scale. */
  encryptColumn(values: readonly number[]): string[] {
    return values.map((v, i) => {
      if (!Number.isFinite(v)) throw new RangeError(`value at row ${i} is not a finite number: ${v}`);
      const m = BigInt(Math.round(v * this.scale));
      return this.#pk.encrypt(((m % this.#pk.n) + this.#pk.n) % this.#pk.n).toString(16);
    });
  }

  /** A ciphertext (hex) decrypted and decoded back to a number. */
  decryptNumber(cipher: string): number {
    const m = this.#sk.decrypt(BigInt("0x" + cipher));
    const signed = m > this.#pk.n / 2n ? m - this.#pk.n : m;
    return Number(signed) / this.scale;
  }
}
