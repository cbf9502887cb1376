/**
 * Secure aggregation (Bonawitz et al. 2017, "Practical Secure Aggregation
 * for Privacy-Preserving Machine Learning"), semi-honest server variant:
 *
 * 1. each client advertises two X25519 public keys, c (to encrypt shares
 *    for peers) and s (to agree pairwise masks);
 * 2. each client draws a self-mask seed b, Shamir-shares b and its s private
 *    key t-of-n among the roster, and sends each peer its shares encrypted
 *    with AES-GCM under ECDH(c_u, c_v) (the server only forwards them);
 * 3. each client sends y_u = x_u + PRG(b_u) + Σ_{v>u} PRG(s_uv) − Σ_{v<u} PRG(s_uv)
 *    in the field, where s_uv = SHA-256(ECDH(s_u, s_v)) is shared by u and v;
 * 4. for the clients that sent y, survivors reveal their shares of b; for
 *    those that dropped after step 2, shares of the s private key. The server
 *    rebuilds the self masks and the dropped clients' pairwise masks and
 *    removes them; what is left is Σ x_u, exactly.
 *
 * A client refuses to reveal both kinds of share for the same peer, and
 * refuses when fewer than t clients survive; the server fails the round with
 * {@linkcode SecAggError} when fewer than t answer a step.
 *
 * @example
 * ```ts
 * import { decode, encode, SecAggClient, unmaskSum } from "@mercury/privacy/secagg";
 * import assert from "node:assert/strict";
 *
 * const ids = [0, 1, 2];
 * const clients = ids.map((id) => new SecAggClient(id, 2));
 * const roster = Object.fromEntries(await Promise.all(clients.map(async (c) => [c.id, await c.advertise()])));
 * const outbox = await Promise.all(clients.map((c) => c.shareKeys(roster)));
 * const inbox = (v: number) => Object.fromEntries(ids.filter((u) => u !== v).map((u) => [u, outbox[u]![v]!]));
 * const masked = new Map<number, Float64Array>();
 * for (const c of clients) masked.set(c.id, await c.maskedInput(encode([c.id + 0.5]), inbox(c.id), ids));
 * const reveals = new Map(clients.map((c) => [c.id, c.unmask(ids, [])]));
 * assert.deepEqual(decode(await unmaskSum({ masked, reveals, roster, u2: ids, t: 2, dim: 1 })), [4.5]);
 * ```
 *
 * @module
 */
import { addInto, subInto } from "./field.ts";
import { expandMask } from "./prg.ts";
import { combineShares, type Share, splitSecret } from "./shamir.ts";

/** A round that cannot complete securely (too many dropouts, inconsistent messages). */
export class SecAggError extends Error {
  override name = "SecAggError";
}

/** A client's advertised public keys (raw X25519, base64url). */
export interface PublicKeys {
  c: string;
  s: string;
}

/** What a survivor reveals in step 4: shares of survivors' b and of dropped clients' s keys. */
export interface Reveal {
  b: Record<string, Share>;
  s: Record<string, Share>;
}

const X25519 = { name: "X25519" } as const;

/** base64url without padding, as JWK uses. */
export function toB64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Inverse of {@linkcode toB64}. */
export function fromB64(text: string): Uint8Array {
  const s = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

async function agree(privateKey: CryptoKey, publicB64: string): Promise<Uint8Array> {
  const pub = await crypto.subtle.importKey("raw", fromB64(publicB64) as BufferSource, X25519, true, []);
  const shared = await crypto.subtle.deriveBits({ name: "X25519", public: pub }, privateKey, 256);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", shared));
}

/** The pairwise mask of u and v (sign + for the smaller id) as seen by u. */
async function pairMask(seed: Uint8Array, u: number, v: number, dim: number): Promise<[1 | -1, Float64Array]> {
  return [u < v ? 1 : -1, await expandMask(seed, dim)];
}

/** One client's side of the protocol for one round. */
export class SecAggClient {
  readonly id: number;
  readonly t: number;
  #c?: CryptoKeyPair;
  #s?: CryptoKeyPair;
  #b?: Uint8Array;
  #roster: Record<string, PublicKeys> = {};
  #held = new Map<number, { b: Share; s: Share }>();
  #u2: number[] = [];

  constructor(id: number, t: number) {
    this.id = id;
    this.t = t;
  }

  /** Step 1: fresh key pairs; returns the public halves. */
  async advertise(): Promise<PublicKeys> {
    this.#c = await crypto.subtle.generateKey(X25519, true, ["deriveBits"]) as CryptoKeyPair;
    this.#s = await crypto.subtle.generateKey(X25519, true, ["deriveBits"]) as CryptoKeyPair;
    const raw = async (k: CryptoKey) => toB64(new Uint8Array(await crypto.subtle.exportKey("raw", k)));
    return { c: await raw(this.#c.publicKey), s: await raw(this.#s.publicKey) };
  }

  /** Step 2: shares of b and of the s private key for every roster member, encrypted per recipient. */
  async shareKeys(roster: Record<string, PublicKeys>): Promise<Record<string, string>> {
    if (!this.#c || !this.#s) throw new SecAggError("shareKeys before advertise");
    const ids = Object.keys(roster).map(Number).sort((a, b) => a - b);
    if (ids.length < this.t) throw new SecAggError(`roster of ${ids.length} is below the threshold ${this.t}`);
    if (!ids.includes(this.id)) throw new SecAggError(`client ${this.id} is not in the roster`);
    this.#roster = roster;
    this.#b = crypto.getRandomValues(new Uint8Array(32));
    const sk = fromB64((await crypto.subtle.exportKey("jwk", this.#s.privateKey)).d!);
    const xs = ids.map((v) => v + 1);
    const bShares = splitSecret(this.#b, this.t, xs);
    const sShares = splitSecret(sk, this.t, xs);
    const out: Record<string, string> = {};
    for (const [k, v] of ids.entries()) {
      const shares = { b: bShares[k]!, s: sShares[k]! };
      if (v === this.id) {
        this.#held.set(v, shares);
        continue;
      }
      const key = await this.#channel(roster[v]!.c);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const plain = new TextEncoder().encode(JSON.stringify({ from: this.id, to: v, ...shares }));
      const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain));
      out[v] = toB64(new Uint8Array([...iv, ...ct]));
    }
    return out;
  }

  async #channel(peerC: string): Promise<CryptoKey> {
    const k = await agree(this.#c!.privateKey, peerC);
    return crypto.subtle.importKey("raw", k as BufferSource, "AES-GCM", false, ["encrypt", "decrypt"]);
  }

  /**
   * Step 3: decrypts the shares peers sent (`inbox`, keyed by sender) and
   * returns the masked input. `u2` is every client whose shares went out.
   */
  async maskedInput(x: Float64Array, inbox: Record<string, string>, u2: readonly number[]): Promise<Float64Array> {
    if (!this.#b || !this.#s) throw new SecAggError("maskedInput before shareKeys");
    if (u2.length < this.t) throw new SecAggError(`only ${u2.length} clients shared keys; the threshold is ${this.t}`);
    for (const u of u2) {
      if (u === this.id) continue;
      const blob = inbox[u];
      if (blob === undefined || !this.#roster[u]) throw new SecAggError(`no shares from client ${u}`);
      const bytes = fromB64(blob);
      const key = await this.#channel(this.#roster[u]!.c);
      let msg: { from: number; to: number; b: Share; s: Share };
      try {
        const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, key, bytes.slice(12));
        msg = JSON.parse(new TextDecoder().decode(plain));
      } catch {
        throw new SecAggError(`shares from client ${u} do not decrypt`);
      }
      if (msg.from !== u || msg.to !== this.id) throw new SecAggError(`shares from client ${u} are misaddressed`);
      this.#held.set(u, { b: msg.b, s: msg.s });
    }
    this.#u2 = [...u2];
    const y = Float64Array.from(x);
    addInto(y, await expandMask(this.#b, x.length));
    for (const v of u2) {
      if (v === this.id) continue;
      const [sign, m] = await pairMask(await agree(this.#s.privateKey, this.#roster[v]!.s), this.id, v, x.length);
      if (sign > 0) addInto(y, m);
      else subInto(y, m);
    }
    return y;
  }

  /** Step 4: shares of b for `survivors`, of s keys for `dropped`; refuses unsafe requests. */
  unmask(survivors: readonly number[], dropped: readonly number[]): Reveal {
    if (survivors.length < this.t) {
      throw new SecAggError(`only ${survivors.length} survivors; the threshold is ${this.t}`);
    }
    const inU2 = new Set(this.#u2);
    if (survivors.some((u) => dropped.includes(u))) throw new SecAggError("a client cannot both survive and drop");
    if ([...survivors, ...dropped].some((u) => !inU2.has(u))) throw new SecAggError("unmask names unknown clients");
    if (survivors.length + dropped.length !== inU2.size) throw new SecAggError("unmask does not cover every client");
    const out: Reveal = { b: {}, s: {} };
    for (const u of survivors) out.b[u] = this.#held.get(u)!.b;
    for (const v of dropped) out.s[v] = this.#held.get(v)!.s;
    return out;
  }
}

/** Everything the server holds after step 4. */
export interface UnmaskInput {
  /** Masked inputs of the survivors (U3). */
  masked: Map<number, Float64Array>;
  /** Reveals, keyed by the revealing survivor. */
  reveals: Map<number, Reveal>;
  roster: Record<string, PublicKeys>;
  /** Clients whose shares went out in step 2. */
  u2: readonly number[];
  t: number;
  dim: number;
}

/** The server's step 4: Σ x_u over the survivors, in the field. */
export async function unmaskSum(input: UnmaskInput): Promise<Float64Array> {
  const { masked, reveals, roster, u2, t, dim } = input;
  if (reveals.size < t) throw new SecAggError(`only ${reveals.size} clients revealed shares; the threshold is ${t}`);
  if (masked.size < t) throw new SecAggError(`only ${masked.size} masked inputs arrived; the threshold is ${t}`);
  const survivors = [...masked.keys()];
  const dropped = u2.filter((v) => !masked.has(v));
  const sum = new Float64Array(dim);
  for (const y of masked.values()) {
    if (y.length !== dim) throw new SecAggError(`a masked input has ${y.length} entries, expected ${dim}`);
    addInto(sum, y);
  }
  const gather = (kind: "b" | "s", id: number) => {
    const shares = [...reveals.values()].map((r) => r[kind][id]).filter((s): s is Share => s !== undefined);
    if (shares.length < t) throw new SecAggError(`only ${shares.length} shares of client ${id}'s ${kind}; need ${t}`);
    return combineShares(shares.slice(0, t), 32);
  };
  for (const u of survivors) subInto(sum, await expandMask(gather("b", u), dim));
  for (const v of dropped) {
    const d = toB64(gather("s", v));
    const sk = await crypto.subtle.importKey(
      "jwk",
      { kty: "OKP", crv: "X25519", d, x: roster[v]!.s },
      X25519,
      false,
      ["deriveBits"],
    );
    for (const u of survivors) {
      // y_u holds sign(u, v)·PRG(s_uv); take it out.
      const [sign, m] = await pairMask(await agree(sk, roster[u]!.s), u, v, dim);
      if (sign > 0) subInto(sum, m);
      else addInto(sum, m);
    }
  }
  return sum;
}
