/**
 * Reading HTTP request bodies with a size limit, for every Mercury server.
 *
 * A body is refused before it is read when its `content-length` is over the
 * limit, and the read stops at the first byte over the limit when it is sent
 * without one (chunked), so a 1 GB upload costs the server one buffer, not
 * 1 GB. A body that is not a JSON object is refused too. Both failures are a
 * {@linkcode BodyError} carrying the HTTP status (413 or 400) for the server's
 * error mapper.
 *
 * @example Refusing an oversized body
 * ```ts
 * import { BodyError, readJsonObject } from "@mercury/core/http_body";
 * import assert from "node:assert/strict";
 *
 * const req = new Request("http://x/query", { method: "POST", body: JSON.stringify({ sql: "a".repeat(100) }) });
 * await assert.rejects(readJsonObject(req, { maxBytes: 64 }), (e) => e instanceof BodyError && e.status === 413);
 * const ok = new Request("http://x/query", { method: "POST", body: '{"sql":"select 1"}' });
 * assert.deepEqual(await readJsonObject(ok, { maxBytes: 64 }), { sql: "select 1" });
 * ```
 *
 * @module
 */

/** The default request-body limit of Mercury's servers: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

/** A request body that was refused; `status` is 413 (too large) or 400 (not what the route takes). */
export class BodyError extends Error {
  override name = "BodyError";
  /** The HTTP status to answer with. */
  readonly status: 400 | 413;
  /** A short machine-readable kind: `body_too_large` or `bad_json`. */
  readonly kind: "body_too_large" | "bad_json";
  /** What the client can do about it. */
  readonly hint: string;

  constructor(status: 400 | 413, kind: "body_too_large" | "bad_json", message: string, hint: string) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.hint = hint;
  }
}

/** Options of {@linkcode readBody} and {@linkcode readJsonObject}. */
export interface ReadBodyOptions {
  /** The largest body accepted, in bytes (default {@linkcode DEFAULT_MAX_BODY_BYTES}). */
  maxBytes?: number;
  /** What to tell a client whose body is refused, e.g. the option that raises the limit or an example body. */
  hint?: string;
}

/**
 * The body of `req` as bytes, refusing it with a 413 {@linkcode BodyError} once it is over the limit.
 *
 * @example
 * ```ts
 * import { readBody } from "@mercury/core/http_body";
 * import assert from "node:assert/strict";
 *
 * const bytes = await readBody(new Request("http://x/", { method: "POST", body: "hello" }), { maxBytes: 10 });
 * assert.equal(new TextDecoder().decode(bytes), "hello");
 * ```
 */
export async function readBody(req: Request, options: ReadBodyOptions = {}): Promise<Uint8Array> {
  const max = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tooLarge = () =>
    new BodyError(
      413,
      "body_too_large",
      `request body is over the limit of ${max} bytes`,
      options.hint ?? "send a smaller body",
    );
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!req.body) return new Uint8Array(0);
  // A declared length within the limit: one read of the whole body (HTTP framing holds the sender to that length).
  // Cheaper than the chunk loop below, which stays for bodies sent without a length (chunked).
  if (declared !== null && /^\d+$/.test(declared)) return new Uint8Array(await req.arrayBuffer());
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The body of `req` parsed as a JSON object; an empty body is `{}`. Refuses an oversized body (413) and anything that is
 * not a JSON object (400).
 *
 * @example
 * ```ts
 * import { BodyError, readJsonObject } from "@mercury/core/http_body";
 * import assert from "node:assert/strict";
 *
 * const bad = new Request("http://x/", { method: "POST", body: "[1, 2]" });
 * await assert.rejects(readJsonObject(bad), (e) => e instanceof BodyError && e.status === 400);
 * ```
 */
export async function readJsonObject(req: Request, options: ReadBodyOptions = {}): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, options);
  if (bytes.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new BodyError(
      400,
      "bad_json",
      `request body is not JSON: ${(err as Error).message}`,
      options.hint ?? "send a JSON object",
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new BodyError(
      400,
      "bad_json",
      `request body must be a JSON object, got ${what}`,
      options.hint ?? "send a JSON object",
    );
  }
  return value as Record<string, unknown>;
}
