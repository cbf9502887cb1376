/**
 * Enrichment joins: a dimension table in Redis (one pipelined round trip per
 * batch for keys not in the local cache) and a compacted Kafka topic read as
 * a changelog into memory.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { Consumer, type MessagesStream, MessagesStreamModes, stringDeserializers } from "@platformatic/kafka";
import { MercuryError } from "@mercury/core";
import type { Event } from "./event.ts";
import type { Enricher } from "./topology.ts";
import {
  closeWithin,
  DEFAULT_REQUEST_TIMEOUT_MS,
  kafkaUnavailable,
  platformaticTimeouts,
  withKafkaDeadline,
} from "./kafka_deadline.ts";

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
 * Kafka requests have `requestTimeoutMs` (default 10 s; joining the reader's
 * group 20 s more): a broker that does not answer, or a stream that fails
 * before catching up, rejects (`unavailable`, naming the broker) instead of
 * waiting for ever.
 */
export async function openChangelog(
  brokers: string[],
  topic: string,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<Changelog> {
  const table = new Map<string, string>();
  const consumer = new Consumer({
    clientId: `mercury-changelog-${topic}`,
    groupId: `mercury-changelog-${crypto.randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    ...platformaticTimeouts(requestTimeoutMs),
  });
  let stream: MessagesStream<string, string, string, string>;
  let ends: bigint[];
  try {
    const offsets = consumer.listOffsets({ topics: [topic] }).catch((err: Error) => {
      throw /unknown topic/i.test(err.message)
        ? new MercuryError("not_found", `unknown topic "${topic}"`, { where: brokers.join(",") })
        : err;
    });
    ends = (await withKafkaDeadline(offsets, requestTimeoutMs, brokers, "end offsets")).get(topic) ?? [];
    stream = await withKafkaDeadline(
      consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false }),
      requestTimeoutMs + 20_000,
      brokers,
      "joining the reader's group",
    );
  } catch (err) {
    await closeWithin(() => consumer.close(true), requestTimeoutMs);
    throw err;
  }
  const seen = new Map<number, bigint>();
  const caughtUp = () => ends.every((end, p) => end === 0n || (seen.get(p) ?? -1n) >= end - 1n);
  const { promise: ready, resolve: resolveReady, reject: failReady } = Promise.withResolvers<void>();
  // Until caught up, a failing stream fails the open; afterwards its errors are the caller's, as before.
  const onError = (err: Error) => failReady(err);
  stream.on("error", onError);
  if (caughtUp()) resolveReady();
  stream.on("data", (m) => {
    if (m.value === undefined || m.value === null || m.value === "") table.delete(m.key);
    else table.set(m.key, m.value);
    seen.set(m.partition, m.offset);
    if (caughtUp()) resolveReady();
  });
  try {
    await ready;
    stream.off("error", onError);
  } catch (err) {
    await closeWithin(() => stream.close(), requestTimeoutMs);
    await closeWithin(() => consumer.close(true), requestTimeoutMs);
    throw kafkaUnavailable(brokers, "reading the changelog", err);
  }
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
