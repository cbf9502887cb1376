/**
 * The online store: one Redis hash per (view, entity key) holding the latest
 * feature values plus their event and created times. Writes go through a Lua
 * script that compares times atomically, so an older event never overwrites
 * a newer one (nor an equal one: a replay is a no-op), and set the key to expire when the value outlives the view's ttl.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { ValueType } from "./definitions.ts";

/** One row to write: the entity key, event/created time (epoch ms) and the encoded feature values. */
export interface OnlineRow {
  key: string;
  eventMs: number;
  createdMs: number;
  /** Feature name → encoded value (`null` leaves it absent). */
  values: Record<string, string | null>;
}

/** A value read back: the raw encoded strings and the event time. */
export interface OnlineHit {
  eventMs: number | null;
  values: (string | null)[];
}

/** What any online store does; the Redis store is the one in use, tests may hand in a fake. */
export interface OnlineStore {
  /** Writes rows of one view; returns how many were newer than what was stored. */
  write(view: string, rows: OnlineRow[], ttlSeconds: number): Promise<number>;
  /** Reads features of one view for many entity keys. */
  read(view: string, keys: string[], features: string[]): Promise<OnlineHit[]>;
}

const WRITE_LUA = `
local n = 0
local i = 1
for k = 1, #KEYS do
  local ts = tonumber(ARGV[i]); local cr = tonumber(ARGV[i + 1]); local exp = tonumber(ARGV[i + 2])
  local nf = tonumber(ARGV[i + 3])
  local cur = redis.call('HMGET', KEYS[k], '__ts', '__cr')
  local newer = true
  if cur[1] then
    local cts = tonumber(cur[1]); local ccr = tonumber(cur[2] or '0')
    if cts > ts or (cts == ts and ccr >= cr) then newer = false end
  end
  if newer then
    redis.call('DEL', KEYS[k])
    local args = {'__ts', ARGV[i], '__cr', ARGV[i + 1]}
    for j = 0, nf - 1 do
      args[#args + 1] = ARGV[i + 4 + 2 * j]
      args[#args + 1] = ARGV[i + 5 + 2 * j]
    end
    redis.call('HSET', KEYS[k], unpack(args))
    if exp > 0 then redis.call('PEXPIREAT', KEYS[k], exp) end
    n = n + 1
  end
  i = i + 4 + 2 * nf
end
return n`;

/**
 * Encodes a value for the online store.
 *
 * @example
 * ```ts
 * import { encodeValue } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(encodeValue(true, "bool"), "1");
 * assert.equal(encodeValue(null, "float64"), null);
 * ```
 */
export function encodeValue(v: unknown, type: ValueType): string | null {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "bool":
      return v === true || v === 1 || v === "1" || v === "true" ? "1" : "0";
    case "timestamp":
      return String(v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : Number(v));
    default:
      return String(v);
  }
}

/**
 * Decodes a stored value by its type.
 *
 * @example
 * ```ts
 * import { decodeValue } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(decodeValue("2.5", "float64"), 2.5);
 * assert.equal(decodeValue("1", "bool"), true);
 * ```
 */
export function decodeValue(s: string | null, type: ValueType): string | number | boolean | null {
  if (s === null) return null;
  switch (type) {
    case "int64":
    case "float64":
    case "timestamp":
      return Number(s);
    case "bool":
      return s === "1";
    default:
      return s;
  }
}

/**
 * Redis online store under a key prefix (`mf:<project>:<env>:`).
 *
 * @example
 * ```ts ignore
 * const store = new RedisOnlineStore(redis.client, "mf:fraud:dev:");
 * await store.write("card_stats", [{ key: "42", eventMs: Date.now(), createdMs: 0, values: { n: "3" } }], 3600);
 * ```
 */
export class RedisOnlineStore implements OnlineStore {
  readonly redis: Redis;
  readonly prefix: string;
  #sha: string | undefined;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /** The Redis key of one entity of a view. */
  keyOf(view: string, key: string): string {
    return `${this.prefix}${view}:${key}`;
  }

  async #script(): Promise<string> {
    this.#sha ??= await this.redis.script("LOAD", WRITE_LUA) as string;
    return this.#sha;
  }

  async write(view: string, rows: OnlineRow[], ttlSeconds: number, batch = 200): Promise<number> {
    const sha = await this.#script();
    let newer = 0;
    const pipe = this.redis.pipeline();
    let calls = 0;
    for (let i = 0; i < rows.length; i += batch) {
      const keys: string[] = [];
      const args: (string | number)[] = [];
      for (const r of rows.slice(i, i + batch)) {
        keys.push(this.keyOf(view, r.key));
        const entries = Object.entries(r.values).filter(([, v]) => v !== null) as [string, string][];
        const exp = ttlSeconds > 0 ? r.eventMs + ttlSeconds * 1000 : 0;
        args.push(r.eventMs, r.createdMs, exp, entries.length);
        for (const [f, v] of entries) args.push(f, v);
      }
      pipe.evalsha(sha, keys.length, ...keys, ...args);
      calls++;
    }
    if (calls === 0) return 0;
    const res = await pipe.exec();
    for (const [err, n] of res ?? []) {
      if (err) throw err;
      newer += Number(n);
    }
    return newer;
  }

  async read(view: string, keys: string[], features: string[]): Promise<OnlineHit[]> {
    if (keys.length === 1) {
      const v = await this.redis.hmget(this.keyOf(view, keys[0]!), "__ts", ...features);
      return [{ eventMs: v[0] === null || v[0] === undefined ? null : Number(v[0]), values: v.slice(1) }];
    }
    const pipe = this.redis.pipeline();
    for (const k of keys) pipe.hmget(this.keyOf(view, k), "__ts", ...features);
    const res = await pipe.exec();
    return (res ?? []).map(([err, v]) => {
      if (err) throw err;
      const arr = v as (string | null)[];
      return { eventMs: arr[0] === null ? null : Number(arr[0]), values: arr.slice(1) };
    });
  }

  /** Deletes every key under the prefix (tests, environment resets). */
  async clear(): Promise<number> {
    let n = 0;
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${this.prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) n += await this.redis.del(...keys);
    } while (cursor !== "0");
    return n;
  }
}

/**
 * The Redis key prefix of a project and environment.
 *
 * @example
 * ```ts
 * import { onlinePrefix } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(onlinePrefix("fraud", "prod"), "mf:fraud:prod:");
 * ```
 */
export function onlinePrefix(project: string, env: string): string {
  return `mf:${project}:${env}:`;
}
