/**
 * A deterministic load generator: keyed events with Zipf-like user activity,
 * bounded event-time disorder, and configurable shares of late and malformed
 * records. The same seed gives the same records, so a test can recompute the
 * ground truth from the generator alone.
 *
 * @module
 */
import type { Event } from "./event.ts";
import { seededRandom } from "@mercury/core/random";

/** Options of {@linkcode generateEvents}. */
export interface GeneratorOptions {
  /** Number of records (events plus malformed ones). */
  count: number;
  seed?: number;
  users?: number;
  devicesPerUser?: number;
  /** Event time of the first record, epoch ms (default 2026-01-01T00:00:00Z). */
  start?: number;
  /** Event-time spacing between consecutive records, ms (default 10). */
  stepMs?: number;
  /** Events are shuffled in event time by up to this many ms (default 2000). */
  disorderMs?: number;
  /** Share of events pushed far behind (late), 0..1 (default 0). */
  lateShare?: number;
  /** How far behind a late event is, ms (default 10 minutes). */
  lateByMs?: number;
  /** Share of malformed records, 0..1 (default 0). */
  malformedShare?: number;
  /** Producer id in event ids (default "gen"). */
  producerId?: string;
}

/** One generated record: its key and value, and the event when it is valid. */
export interface GeneratedRecord {
  key: string;
  value: string;
  event?: Event;
}

/** The seeded generator the events are drawn from: core's `seededRandom` (mulberry32), kept under its old name. */
export const prng: (seed: number) => () => number = seededRandom;

const MALFORMED = [
  () => "{not json",
  () => '{"id":"m","user":"u1","device":"d","amount":"12.5","ts":1}',
  () => '{"id":"m","device":"d","amount":1,"ts":1}',
  () => '{"id":"m","user":"u1","device":"d","amount":1,"ts":99999999999999}',
  () => "[]",
];

/**
 * Yields `count` records in production order.
 *
 * @example
 * ```ts
 * import { generateEvents } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const a = [...generateEvents({ count: 100, seed: 7, malformedShare: 0.1 })];
 * const b = [...generateEvents({ count: 100, seed: 7, malformedShare: 0.1 })];
 * assert.deepEqual(a, b);
 * assert.ok(a.some((r) => r.event === undefined));
 * ```
 */
export function* generateEvents(options: GeneratorOptions): Generator<GeneratedRecord> {
  const random = prng(options.seed ?? 1);
  const users = options.users ?? 1000;
  const devices = options.devicesPerUser ?? 3;
  const start = options.start ?? Date.UTC(2026, 0, 1);
  const step = options.stepMs ?? 10;
  const disorder = options.disorderMs ?? 2000;
  const lateShare = options.lateShare ?? 0;
  const lateBy = options.lateByMs ?? 600_000;
  const malformed = options.malformedShare ?? 0;
  const producer = options.producerId ?? "gen";
  for (let i = 0; i < options.count; i++) {
    const r = random();
    // Zipf-like: a few users are much busier than the rest.
    const u = Math.floor(users * Math.pow(random(), 2.2));
    const user = `u${u}`;
    if (r < malformed) {
      yield { key: user, value: MALFORMED[i % MALFORMED.length]!() };
      continue;
    }
    let ts = Math.round(start + i * step) - Math.floor(random() * disorder);
    if (random() < lateShare) ts -= lateBy;
    const event: Event = {
      id: `${producer}-${i}`,
      user,
      device: `d${u}-${Math.floor(random() * devices)}`,
      amount: Math.round(Math.exp(1 + random() * 4) * 100) / 100,
      ts,
    };
    yield { key: user, value: JSON.stringify(event), event };
  }
}
