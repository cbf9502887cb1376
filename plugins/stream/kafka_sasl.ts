/**
 * SASL for the stream plugin's wire client ({@linkcode KafkaConnection}):
 * PLAIN (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677),
 * the SCRAM proof computed with WebCrypto (PBKDF2 and HMAC), and the server's
 * final signature checked, so a broker that does not know the password is
 * refused as well. The Kafka side is SaslHandshake v1 then SaslAuthenticate
 * v1 frames; {@linkcode KafkaConnection.open} calls {@linkcode authenticate}
 * right after connecting.
 *
 * @module
 */
import type { KafkaSaslMechanism } from "@mercury/core";

/** SASL credentials (the `sasl` of `@mercury/core`'s `KafkaSecurity`). */
export interface SaslCredentials {
  mechanism: KafkaSaslMechanism;
  username: string;
  password: string;
}

/** A SASL exchange step: the bytes the client sends next, given the server's last message (none at first). */
export interface SaslSession {
  /** The client's next message, or undefined when the exchange is over. */
  next(server: Uint8Array | undefined): Promise<Uint8Array | undefined>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** PLAIN: one message, `\0user\0password`. */
export function plainSession(username: string, password: string): SaslSession {
  let sent = false;
  return {
    next(): Promise<Uint8Array | undefined> {
      if (sent) return Promise.resolve(undefined);
      sent = true;
      return Promise.resolve(encoder.encode(`\0${username}\0${password}`));
    },
  };
}

/** The SCRAM `saslname` of a user name: `=` and `,` escaped (RFC 5802 §5.1). */
function saslName(name: string): string {
  return name.replaceAll("=", "=3D").replaceAll(",", "=2C");
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function hmac(hash: string, key: Uint8Array, data: Uint8Array | string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash }, false, ["sign"]);
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, bytes as BufferSource));
}

/**
 * SCRAM (RFC 5802) with SHA-256 or SHA-512 (RFC 7677): client-first, then the
 * proof for the server's nonce, salt and iteration count, then the server's
 * signature is checked. `nonce` is for tests (default: 24 random bytes).
 *
 * @example The RFC 7677 SCRAM-SHA-256 exchange
 * ```ts
 * import { scramSession } from "./kafka_sasl.ts";
 * import assert from "node:assert/strict";
 *
 * const text = (b?: Uint8Array) => new TextDecoder().decode(b);
 * const s = scramSession("SCRAM-SHA-256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
 * assert.equal(text(await s.next(undefined)), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
 * const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
 * assert.equal(
 *   text(await s.next(new TextEncoder().encode(serverFirst))),
 *   "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
 * );
 * const serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
 * assert.equal(await s.next(new TextEncoder().encode(serverFinal)), undefined);
 * // A server that does not know the password sends another signature: refused.
 * const t = scramSession("SCRAM-SHA-256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
 * await t.next(undefined);
 * await t.next(new TextEncoder().encode(serverFirst));
 * await assert.rejects(t.next(new TextEncoder().encode("v=AAAA")), /signature does not match/);
 * ```
 */
export function scramSession(
  mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512",
  username: string,
  password: string,
  nonce: string = b64(crypto.getRandomValues(new Uint8Array(24))),
): SaslSession {
  const hash = mechanism === "SCRAM-SHA-256" ? "SHA-256" : "SHA-512";
  const bits = mechanism === "SCRAM-SHA-256" ? 256 : 512;
  const clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  let step = 0;
  let serverSignature: Uint8Array | undefined;
  return {
    async next(server: Uint8Array | undefined): Promise<Uint8Array | undefined> {
      step++;
      if (step === 1) return encoder.encode(`n,,${clientFirstBare}`);
      const text = decoder.decode(server);
      if (step === 2) {
        const attrs = new Map(text.split(",").map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
        if (attrs.has("e")) throw new Error(`SCRAM: the server refused: ${attrs.get("e")}`);
        const serverNonce = attrs.get("r") ?? "";
        const salt = attrs.get("s");
        const iterations = Number(attrs.get("i"));
        if (!serverNonce.startsWith(nonce) || salt === undefined || !(iterations > 0)) {
          throw new Error(`SCRAM: the server's first message is malformed: ${text.slice(0, 120)}`);
        }
        const base = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
        const salted = new Uint8Array(
          await crypto.subtle.deriveBits(
            { name: "PBKDF2", hash, salt: unb64(salt) as BufferSource, iterations },
            base,
            bits,
          ),
        );
        const clientKey = await hmac(hash, salted, "Client Key");
        const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey as BufferSource));
        const withoutProof = `c=biws,r=${serverNonce}`;
        const authMessage = `${clientFirstBare},${text},${withoutProof}`;
        const clientSignature = await hmac(hash, storedKey, authMessage);
        const proof = clientKey.map((b, i) => b ^ clientSignature[i]!);
        serverSignature = await hmac(hash, await hmac(hash, salted, "Server Key"), authMessage);
        return encoder.encode(`${withoutProof},p=${b64(proof)}`);
      }
      if (step === 3) {
        if (text.startsWith("e=")) throw new Error(`SCRAM: the server refused: ${text.slice(2)}`);
        if (!text.startsWith("v=") || text.slice(2) !== b64(serverSignature!)) {
          throw new Error("SCRAM: the server's signature does not match (it does not know the password)");
        }
        return undefined;
      }
      return undefined;
    },
  };
}

/** The session for `credentials`' mechanism. */
export function saslSession(credentials: SaslCredentials): SaslSession {
  const { mechanism, username, password } = credentials;
  return mechanism === "PLAIN" ? plainSession(username, password) : scramSession(mechanism, username, password);
}
