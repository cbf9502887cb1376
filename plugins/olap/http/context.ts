/**
 * What every route group of the olap HTTP API shares: the engine, the limits,
 * the token check, the queries under way (for cancel and the per-client cap),
 * and the hono environment (`c.env.who` is the client's remote address).
 *
 * @module
 */
import type { Context } from "hono";
import type { Olap } from "../engine.ts";
import { OlapError } from "../errors.ts";
import type { TokenCheck } from "../access.ts";

/** The hono environment of the API: bindings passed to `app.fetch` by the server. */
export interface ApiEnv {
  Bindings: { who: string };
}

/** The API's state, shared by its route groups. */
export interface ApiState {
  olap: Olap;
  tokens: TokenCheck;
  maxBodyBytes: number;
  maxSqlChars: number;
  /** Directories ingest may read files from. */
  ingestRoots: string[];
  maxQueriesPerClient: number;
  /** Running queries by queryId. */
  running: Map<string, AbortController>;
  /** The remote address that started each running query (it, or a token holder, may cancel it). */
  starters: Map<string, string>;
  /** Queries under way per remote address. */
  perClient: Map<string, number>;
}

/** A JSON response (bigints as numbers). */
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? Number(v) : v)), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** The request carries the configured token. */
export const authorised = (s: ApiState, req: Request): boolean => s.tokens.matches(req.headers.get("authorization"));

/** The 401 for a missing or wrong token. */
export const unauthorised = (): OlapError =>
  new OlapError(401, "unauthorised", "missing or wrong token", { hint: "send Authorization: Bearer <token>" });

/** Throws unless the request may write: 401 without the configured token, 403 when no token is configured. */
export function requireToken(s: ApiState, c: Context<ApiEnv>): void {
  if (authorised(s, c.req.raw)) return;
  if (s.tokens.configured) throw unauthorised();
  throw new OlapError(403, "read_only", "the API is read-only", {
    hint: "start the server with a token (--token-file, MERCURY_OLAP_TOKEN) to allow writes",
  });
}
