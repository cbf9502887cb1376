/**
 * The result cache. A key is the normalised SQL, the parameters, the format
 * and the version of every table the query reads, so a write to one table
 * makes exactly the entries that read it unreachable (and {@linkcode
 * MemoryCache.invalidate} drops them at once). {@linkcode MemoryCache} is an
 * LRU bounded by bytes; {@linkcode RedisCache} shares entries between API
 * instances. Both implement {@linkcode ResultCache}.
 *
 * @example
 * ```ts
 * import { cacheKey, MemoryCache } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const cache = new MemoryCache(10);
 * const k1 = await cacheKey("select 1", [], "json", { t: 1 });
 * await cache.set(k1, new Uint8Array(6), ["t"]);
 * await cache.set(await cacheKey("select 2", [], "json", { t: 1 }), new Uint8Array(6), ["t"]);
 * assert.equal(await cache.get(k1), undefined); // evicted: 12 bytes > 10
 * assert.notEqual(k1, await cacheKey("select 1", [], "json", { t: 2 })); // a new version, a new key
 * ```
 *
 * @module
 */
import type { Redis } from "ioredis";
import { Buffer } from "node:buffer";

/** Where cached results live. */
export interface ResultCache {
  readonly kind: string;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores `value`; `tables` are the tables it read (for invalidation). */
  set(key: string, value: Uint8Array, tables: string[]): Promise<void>;
  /** Drops every entry that read `table`. */
  invalidate(table: string): Promise<number>;
  /** Entries and bytes held (memory) or -1 when unknown. */
  stats(): { entries: number; bytes: number };
}

/** The cache key: a SHA-256 over everything that decides the bytes of the answer. */
export async function cacheKey(
  normalisedSql: string,
  params: unknown,
  format: string,
  versions: Record<string, number | string>,
): Promise<string> {
  const text = JSON.stringify([normalisedSql, params ?? null, format, Object.entries(versions).sort()]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An in-memory LRU bounded by the total bytes of its values. */
export class MemoryCache implements ResultCache {
  readonly kind = "memory";
  #map = new Map<string, { value: Uint8Array; tables: string[] }>();
  #bytes = 0;
  constructor(readonly maxBytes: number) {}

  get(key: string): Promise<Uint8Array | undefined> {
    const e = this.#map.get(key);
    if (!e) return Promise.resolve(undefined);
    this.#map.delete(key);
    this.#map.set(key, e);
    return Promise.resolve(e.value);
  }

  set(key: string, value: Uint8Array, tables: string[]): Promise<void> {
    if (value.byteLength > this.maxBytes) return Promise.resolve();
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.value.byteLength;
      this.#map.delete(key);
    }
    this.#map.set(key, { value, tables });
    this.#bytes += value.byteLength;
    for (const [k, e] of this.#map) {
      if (this.#bytes <= this.maxBytes) break;
      this.#map.delete(k);
      this.#bytes -= e.value.byteLength;
    }
    return Promise.resolve();
  }

  invalidate(table: string): Promise<number> {
    let n = 0;
    for (const [k, e] of this.#map) {
      if (e.tables.includes(table)) {
        this.#map.delete(k);
        this.#bytes -= e.value.byteLength;
        n++;
      }
    }
    return Promise.resolve(n);
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.#map.size, bytes: this.#bytes };
  }
}

/**
 * Entries in Redis under `prefix`, with a TTL, shared by API instances on one
 * data dir. Keys already carry table versions, so stale entries are never read;
 * `invalidate` also deletes them through a per-table set of keys.
 */
export class RedisCache implements ResultCache {
  readonly kind = "redis";
  constructor(readonly redis: Redis, readonly prefix = "olap:cache:", readonly ttlSeconds = 3600) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = await this.redis.getBuffer(this.prefix + key);
    return v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : undefined;
  }

  async set(key: string, value: Uint8Array, tables: string[]): Promise<void> {
    const m = this.redis.multi().set(this.prefix + key, Buffer.from(value), "EX", this.ttlSeconds);
    for (const t of tables) m.sadd(`${this.prefix}t:${t}`, key).expire(`${this.prefix}t:${t}`, this.ttlSeconds);
    await m.exec();
  }

  async invalidate(table: string): Promise<number> {
    const set = `${this.prefix}t:${table}`;
    const keys = await this.redis.smembers(set);
    if (keys.length) await this.redis.del(...keys.map((k) => this.prefix + k));
    await this.redis.del(set);
    return keys.length;
  }

  stats(): { entries: number; bytes: number } {
    return { entries: -1, bytes: -1 };
  }
}
