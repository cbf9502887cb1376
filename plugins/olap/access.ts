/**
 * Who may write: the server's token, compared in constant time, and where
 * it comes from without appearing on a command line (`ps`, `deno task`'s
 * echo of the command): `--token-file`, or `MERCURY_OLAP_TOKEN`.
 *
 * Both sides are hashed with SHA-256 first, so the comparison always runs
 * over 32 bytes whatever the lengths, and `timingSafeEqual` compares them
 * without stopping at the first difference.
 *
 * @example A bearer header checked against the token
 * ```ts
 * import { TokenCheck } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const check = new TokenCheck("s3cret");
 * assert.equal(check.matches("Bearer s3cret"), true);
 * assert.equal(check.matches("Bearer s3cre"), false);
 * assert.equal(check.matches(null), false);
 * assert.equal(new TokenCheck(undefined).matches("Bearer "), false);
 * ```
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { MercuryError } from "@mercury/core";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Checks `Authorization: Bearer <token>` headers against one token (none: nothing matches). */
export class TokenCheck {
  readonly #digest: Uint8Array | undefined;

  constructor(token: string | undefined) {
    this.#digest = token ? sha256(token) : undefined;
  }

  /** Whether a token is configured at all. */
  get configured(): boolean {
    return this.#digest !== undefined;
  }

  /** Whether `header` (an Authorization header value) carries the token. */
  matches(header: string | null): boolean {
    if (!this.#digest || header === null) return false;
    const m = /^Bearer (.*)$/is.exec(header); // the scheme is case-insensitive (RFC 7235)
    return timingSafeEqual(sha256(m ? m[1]! : ""), this.#digest) && m !== null;
  }
}

/**
 * The serve token: `--token-file` (first line, trimmed), else `--token`, else
 * `MERCURY_OLAP_TOKEN`; undefined for a read-only server.
 *
 * @example
 * ```ts
 * import { resolveToken } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "from-file\n");
 * assert.equal(await resolveToken({ file }, new Map()), "from-file");
 * assert.equal(await resolveToken({}, new Map([["MERCURY_OLAP_TOKEN", "from-env"]])), "from-env");
 * assert.equal(await resolveToken({}, new Map()), undefined);
 * await Deno.remove(file);
 * ```
 */
export async function resolveToken(
  from: { file?: string; token?: string },
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<string | undefined> {
  if (from.file) {
    let text: string;
    try {
      text = await Deno.readTextFile(from.file);
    } catch (err) {
      throw new MercuryError("config", `cannot read the token file: ${(err as Error).message}`, {
        where: from.file,
        hint: "--token-file names a file holding the token on its first line",
      });
    }
    const token = text.split("\n")[0]!.trim();
    if (!token) {
      throw new MercuryError("config", "the token file is empty", {
        where: from.file,
        hint: "write the token on the file's first line",
      });
    }
    return token;
  }
  return from.token || env.get("MERCURY_OLAP_TOKEN") || undefined;
}
