/**
 * PII governance. A feature declared `pii: true` (or an on-demand feature
 * computed from one) is served only to a caller whose bearer token carries the
 * scope `features:pii` (every view) or `features:pii:<view>` (that view);
 * anyone else gets 401 (no or unknown token) / 403 (token without the scope),
 * `UNAUTHENTICATED` / `PERMISSION_DENIED` over gRPC. Every request for PII
 * features, granted or refused, is recorded in PostgreSQL (`pii_access`: who,
 * which features, how many entities, the transport, when) and can be read back
 * (`features pii-access`). Values of PII features are masked where the store
 * shows rows to people: {@linkcode maskPii} for reports and notebooks, the
 * `get` command's output; materialisation statistics of a PII feature keep no
 * values (no min, max or quantiles), and lineage shows names, never values.
 *
 * Tokens live in a JSON file (`serve --tokens FILE`): each entry names who it
 * is, its scopes, and the token's SHA-256 (hex) or, for development, the token
 * itself. Presented tokens are hashed and looked up by hash, so no comparison
 * depends on how much of a secret matched.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { FeatureRepo } from "./definitions.ts";
import { parseRef } from "./definitions.ts";

/** The scope that grants every PII feature; `features:pii:<view>` grants one view's. */
export const PII_SCOPE = "features:pii";

/** Who asks, as a token names them. */
export interface Caller {
  who: string;
  scopes: string[];
}

/** A refused request: `status` 401 (no or unknown token) or 403 (a token without the scope). */
export class AccessError extends MercuryError {
  readonly status: 401 | 403;
  constructor(status: 401 | 403, message: string, options: { where?: string; hint?: string } = {}) {
    super("input", message, options);
    this.name = "AccessError";
    this.status = status;
  }
}

/** One entry of a tokens file. */
export interface TokenEntry {
  who: string;
  scopes: string[];
  /** SHA-256 of the token, hex. */
  sha256?: string;
  /** The token itself (development only; prefer sha256). */
  token?: string;
}

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Bearer tokens → callers.
 *
 * @example
 * ```ts
 * import { TokenAuth } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const auth = await TokenAuth.fromEntries([{ who: "alice", scopes: ["features:pii"], token: "s3cret-token" }]);
 * assert.deepEqual(await auth.authenticate("Bearer s3cret-token"), { who: "alice", scopes: ["features:pii"] });
 * assert.equal(await auth.authenticate(null), undefined);
 * await assert.rejects(auth.authenticate("Bearer nope"), /unknown token/);
 * ```
 */
export class TokenAuth {
  #byHash: Map<string, Caller>;
  private constructor(byHash: Map<string, Caller>) {
    this.#byHash = byHash;
  }

  /** From entries (checked: each has who, scopes and one of sha256/token). */
  static async fromEntries(entries: TokenEntry[], where = "tokens"): Promise<TokenAuth> {
    const m = new Map<string, Caller>();
    for (const [i, e] of entries.entries()) {
      const at = `${where}[${i}]`;
      if (!e || typeof e.who !== "string" || !e.who) {
        throw new MercuryError("config", `${at}.who is not a name`, { where: at, hint: '{ "who": "alice", … }' });
      }
      if (!Array.isArray(e.scopes) || e.scopes.some((s) => typeof s !== "string")) {
        throw new MercuryError("config", `${at}.scopes is not a list of strings`, {
          where: at,
          hint: `e.g. "scopes": ["${PII_SCOPE}"]`,
        });
      }
      const hash = typeof e.sha256 === "string" && /^[0-9a-f]{64}$/i.test(e.sha256)
        ? e.sha256.toLowerCase()
        : typeof e.token === "string" && e.token.length >= 8
        ? await sha256Hex(e.token)
        : undefined;
      if (!hash) {
        throw new MercuryError("config", `${at} has neither a sha256 (64 hex digits) nor a token of 8+ characters`, {
          where: at,
          hint: "sha256: the hex SHA-256 of the token (printf %s TOKEN | sha256sum)",
        });
      }
      m.set(hash, { who: e.who, scopes: [...e.scopes] });
    }
    return new TokenAuth(m);
  }

  /** From a JSON file `{ "tokens": [ … ] }` (or a bare list). */
  static async fromFile(path: string): Promise<TokenAuth> {
    let data: unknown;
    try {
      data = JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      throw new MercuryError("config", `cannot read the tokens file "${path}": ${(err as Error).message}`, {
        where: "--tokens",
        hint: '{ "tokens": [{ "who": "alice", "scopes": ["features:pii"], "sha256": "…" }] }',
      });
    }
    const list = Array.isArray(data) ? data : (data as { tokens?: unknown })?.tokens;
    if (!Array.isArray(list)) {
      throw new MercuryError("config", `the tokens file "${path}" has no "tokens" list`, { where: "--tokens" });
    }
    return await TokenAuth.fromEntries(list as TokenEntry[], `${path}: tokens`);
  }

  /** The caller of an `Authorization` value; undefined without one; an unknown token is a 401. */
  async authenticate(authorization: string | null | undefined): Promise<Caller | undefined> {
    if (!authorization) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const caller = m ? this.#byHash.get(await sha256Hex(m[1]!)) : undefined;
    if (!caller) {
      throw new AccessError(401, "unknown token", {
        where: "authorization",
        hint: "send Authorization: Bearer <token> with a token of the server's tokens file",
      });
    }
    return caller;
  }
}

/** May `caller` read PII features of `view`? */
export function mayReadPii(caller: Caller | undefined, view: string): boolean {
  return !!caller && (caller.scopes.includes(PII_SCOPE) || caller.scopes.includes(`${PII_SCOPE}:${view}`));
}

/**
 * The PII features of a repo as `view:feature`: those declared `pii: true`, and every output of an on-demand view
 * with a PII input (its outputs are computed from the PII value).
 *
 * @example
 * ```ts
 * import { entity, featureView, fileSource, piiFeatures } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const v = featureView({
 *   name: "p", entities: ["c"], ttlSeconds: 0,
 *   source: fileSource({ name: "s", format: "parquet", path: "x.parquet", timestampField: "ts" }),
 *   features: [{ name: "name", type: "string", pii: true }, { name: "limit", type: "float64" }],
 * });
 * const repo = { project: "x", entities: [entity({ name: "c", joinKey: "c", valueType: "int64" })], views: [v] };
 * assert.deepEqual([...piiFeatures(repo)], ["p:name"]);
 * ```
 */
export function piiFeatures(repo: FeatureRepo): Set<string> {
  const out = new Set<string>();
  for (const v of repo.views) for (const f of v.features) if (f.pii) out.add(`${v.name}:${f.name}`);
  for (const o of repo.onDemandViews ?? []) {
    const derived = o.inputs.some((ref) => out.has(ref));
    for (const f of o.features) if (derived || (f as { pii?: boolean }).pii) out.add(`${o.name}:${f.name}`);
  }
  return out;
}

/** The view whose scope grants a PII reference: its own view, or for an on-demand output, each PII input's view. */
export function piiViewsOf(repo: FeatureRepo, ref: string): string[] {
  const { view } = parseRef(ref);
  const o = (repo.onDemandViews ?? []).find((x) => x.name === view);
  if (!o) return [view];
  const pii = piiFeatures(repo);
  return [...new Set(o.inputs.filter((r) => pii.has(r)).map((r) => parseRef(r).view))];
}

/**
 * Rows with the values of PII columns replaced by `mask` (default `"•••"`), for reports, notebooks and logs. Columns
 * are matched by feature name or `view__feature`.
 *
 * @example
 * ```ts
 * import { entity, featureView, fileSource, maskPii } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const v = featureView({
 *   name: "p", entities: ["c"], ttlSeconds: 0,
 *   source: fileSource({ name: "s", format: "parquet", path: "x.parquet", timestampField: "ts" }),
 *   features: [{ name: "name", type: "string", pii: true }],
 * });
 * const repo = { project: "x", entities: [entity({ name: "c", joinKey: "c", valueType: "int64" })], views: [v] };
 * assert.deepEqual(maskPii([{ c: 1, name: "Ada" }], repo), [{ c: 1, name: "•••" }]);
 * ```
 */
export function maskPii<T extends Record<string, unknown>>(rows: T[], repo: FeatureRepo, mask = "•••"): T[] {
  const cols = new Set<string>();
  for (const ref of piiFeatures(repo)) {
    const { view, feature } = parseRef(ref);
    cols.add(feature);
    cols.add(`${view}__${feature}`);
  }
  return rows.map((r) => {
    const o: Record<string, unknown> = { ...r };
    for (const k of Object.keys(o)) if (cols.has(k) && o[k] !== null && o[k] !== undefined) o[k] = mask;
    return o as T;
  });
}

/**
 * Decides a request for PII features (`refs`, each with the views whose scope it needs): records it in `log`
 * (granted or refused) and throws an {@linkcode AccessError} (401 without a caller, 403 without the scope) when any
 * is not granted.
 */
export function authorizePii(
  refs: { ref: string; views: string[] }[],
  caller: Caller | undefined,
  record: { log?: { record(access: PiiAccess): void }; transport: string; entities: number },
): void {
  if (!refs.length) return;
  const denied = refs.filter((p) => !p.views.every((v) => mayReadPii(caller, v)));
  record.log?.record({
    who: caller?.who ?? "anonymous",
    features: refs.map((p) => p.ref),
    entities: record.entities,
    transport: record.transport,
    granted: denied.length === 0,
  });
  if (!denied.length) return;
  const scopes = [...new Set(denied.flatMap((p) => p.views.map((v) => `${PII_SCOPE}:${v}`)))];
  throw new AccessError(
    caller ? 403 : 401,
    `${denied.map((p) => p.ref).join(", ")} ${denied.length > 1 ? "are" : "is"} PII: ${
      caller ? `"${caller.who}" has no scope for ${denied.length > 1 ? "them" : "it"}` : "no token was sent"
    }`,
    {
      where: "features",
      hint: `send Authorization: Bearer <token> of a token with scope ${PII_SCOPE} or ${scopes.join(" / ")}`,
    },
  );
}

/** The PII features among `refs` (`view:feature`, expanded), each with the views whose scope it needs. */
export function piiRefs(repo: FeatureRepo, refs: string[]): { ref: string; views: string[] }[] {
  const pii = piiFeatures(repo);
  return refs.filter((r) => pii.has(r)).map((ref) => ({ ref, views: piiViewsOf(repo, ref) }));
}

/** One recorded request for PII features. */
export interface PiiAccess {
  who: string;
  features: string[];
  entities: number;
  transport: string;
  granted: boolean;
  at?: Date;
}

/** Filters of {@linkcode PiiAccessLog.query}. */
export interface PiiAccessQuery {
  who?: string;
  /** A `view:feature` reference the request included. */
  feature?: string;
  since?: Date;
  /** Newest first, at most this many (default 100). */
  limit?: number;
}

type Sql = {
  unsafe(q: string, params?: unknown[]): Promise<Record<string, unknown>[]> & PromiseLike<Record<string, unknown>[]>;
};

/**
 * The PII access log in PostgreSQL (`<schema>.pii_access`, created by the registry's `init`). `record` queues the
 * insert and returns at once (the serving path does not wait for PostgreSQL); `flush` waits for every queued insert;
 * a failed insert is counted in `failed` and kept for the next flush.
 */
export class PiiAccessLog {
  /** Inserts that failed (their accesses stay queued for the next flush), and the last one's message. */
  failed = 0;
  lastError: string | undefined;
  #sql: Sql;
  #schema: string;
  #project: string;
  #env: string;
  #queue: PiiAccess[] = [];
  #writing: Promise<void> | undefined;

  constructor(sql: Sql, options: { schema: string; project: string; env: string }) {
    this.#sql = sql;
    this.#schema = options.schema;
    this.#project = options.project;
    this.#env = options.env;
  }

  /** Queues one access. */
  record(a: PiiAccess): void {
    this.#queue.push({ ...a, at: a.at ?? new Date() });
    this.#writing ??= this.#drain().finally(() => this.#writing = undefined);
  }

  async #drain(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, 500);
      try {
        await this.#sql.unsafe(
          `insert into ${this.#schema}.pii_access (project, env, who, features, entities, transport, granted, at)
           select $1, $2, x.who, string_to_array(x.features, ','), x.entities::int, x.transport, x.granted::boolean,
             x.at::timestamptz
           from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
             as x(who, features, entities, transport, granted, at)`,
          [
            this.#project,
            this.#env,
            batch.map((b) => b.who),
            batch.map((b) => b.features.join(",")),
            batch.map((b) => String(b.entities)),
            batch.map((b) => b.transport),
            // All as text: postgres.js sends a JS boolean[] in a form PostgreSQL will not cast to boolean[].
            batch.map((b) => (b.granted ? "true" : "false")),
            batch.map((b) => b.at!.toISOString()),
          ],
        );
      } catch (err) {
        this.failed++;
        this.lastError = (err as Error).message;
        this.#queue.unshift(...batch);
        return;
      }
    }
  }

  /** Waits until every queued access is written (or its insert failed). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#queue.length) {
      this.#writing = this.#drain().finally(() => this.#writing = undefined);
      await this.#writing;
    }
  }

  /** Recorded accesses, newest first. */
  async query(q: PiiAccessQuery = {}): Promise<Required<PiiAccess>[]> {
    const where = ["project = $1", "env = $2"];
    const params: unknown[] = [this.#project, this.#env];
    if (q.who) where.push(`who = $${params.push(q.who)}`);
    if (q.feature) where.push(`$${params.push(q.feature)} = any(features)`);
    if (q.since) where.push(`at >= $${params.push(q.since.toISOString())}`);
    const rows = await this.#sql.unsafe(
      `select who, features, entities, transport, granted, at from ${this.#schema}.pii_access
       where ${where.join(" and ")} order by at desc, id desc limit ${Math.max(1, Math.floor(q.limit ?? 100))}`,
      params,
    );
    return rows.map((r) => ({
      who: String(r.who),
      features: r.features as string[],
      entities: Number(r.entities),
      transport: String(r.transport),
      granted: r.granted === true,
      at: new Date(r.at as string),
    }));
  }
}
