/**
 * Enrichment joins: a dimension table in Redis (one pipelined round trip per
 * batch for keys not in the local cache) and a compacted Kafka topic read as
 * a changelog into memory.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { Consumer, MessagesStreamModes, stringDeserializers } from "@platformatic/kafka";
import type { Event } from "./event.ts";
import type { Enricher } from "./topology.ts";

/** An event with enrichment attributes (every {@linkcode Event} has the slot). */
export type EnrichedEvent = Event;

/** Options of {@linkcode redisDimension}. */
export interface RedisDimensionOptions {
  redis: Redis;
  /** Hash key per entity, e.g. `(id) => "dim:user:" + id`. */
  keyOf: (id: string) => string;
  /** Fields copied into `attrs`, with the value used when missing. */
  fields: Record<string, string>;
  /** Seconds a looked-up row is cached (default 60). */
  ttlSec?: number;
  /** Most cached rows (default 100,000). */
  maxEntries?: number;
}

/**
 * Joins each event's user with a Redis hash, e.g. `dim:user:u42 → {tier: "gold"}`.
 *
 * @example
 * ```ts ignore
 * const enrich = redisDimension({ redis, keyOf: (u) => `dim:user:${u}`, fields: { tier: "unknown" } });
 * ```
 */
export function redisDimension(options: RedisDimensionOptions): Enricher<EnrichedEvent> {
  const ttl = (options.ttlSec ?? 60) * 1000;
  const max = options.maxEntries ?? 100_000;
  const cache = new Map<string, { at: number; attrs: Record<string, string> }>();
  const fields = Object.keys(options.fields);
  return async (events) => {
    const now = Date.now();
    // One cache lookup per event; the misses are fetched in one pipelined round trip.
    let missed: number[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const hit = cache.get(e.user);
      if (hit && now - hit.at <= ttl) e.attrs = e.attrs ? { ...e.attrs, ...hit.attrs } : hit.attrs;
      else (missed ??= []).push(i);
    }
    if (!missed) return events;
    const ids = [...new Set(missed.map((i) => events[i]!.user))];
    const p = options.redis.pipeline();
    for (const id of ids) p.hmget(options.keyOf(id), ...fields);
    const replies = (await p.exec()) ?? [];
    ids.forEach((id, i) => {
      const [err, values] = replies[i] ?? [null, []];
      const attrs: Record<string, string> = {};
      fields.forEach((f, j) => {
        const v = err ? null : (values as (string | null)[])[j];
        attrs[f] = v ?? options.fields[f]!;
      });
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      // Shared by every event of this entity until it expires: frozen, never copied per event.
      cache.set(id, { at: now, attrs: Object.freeze(attrs) });
    });
    for (const i of missed) {
      const e = events[i]!;
      const attrs = cache.get(e.user)!.attrs;
      e.attrs = e.attrs ? { ...e.attrs, ...attrs } : attrs;
    }
    return events;
  };
}

/** A compacted topic held in memory and kept up to date. */
export interface Changelog {
  get(key: string): string | undefined;
  readonly size: number;
  close(): Promise<void>;
}

/**
 * Reads a compacted topic (key → latest value; a null value deletes) from the
 * beginning and follows it. Resolves once it has caught up with the end.
 */
export async function openChangelog(brokers: string[], topic: string): Promise<Changelog> {
  const table = new Map<string, string>();
  const consumer = new Consumer({
    clientId: `mercury-changelog-${topic}`,
    groupId: `mercury-changelog-${crypto.randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  const seen = new Map<number, bigint>();
  const caughtUp = () => ends.every((end, p) => end === 0n || (seen.get(p) ?? -1n) >= end - 1n);
  let resolveReady: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  if (caughtUp()) resolveReady!();
  stream.on("data", (m) => {
    if (m.value === undefined || m.value === null || m.value === "") table.delete(m.key);
    else table.set(m.key, m.value);
    seen.set(m.partition, m.offset);
    if (caughtUp()) resolveReady();
  });
  await ready;
  return {
    get: (k) => table.get(k),
    get size() {
      return table.size;
    },
    async close() {
      await stream.close();
      await consumer.close(true);
    },
  };
}

/** Enriches events with `attrs[field] = changelog.get(user) ?? fallback`. */
export function changelogDimension(changelog: Changelog, field: string, fallback = "unknown"): Enricher<EnrichedEvent> {
  return (events) => {
    for (const e of events) e.attrs = { ...e.attrs, [field]: changelog.get(e.user) ?? fallback };
    return events;
  };
}
