/**
 * Ground truth, recomputed independently from the topic, compared with what
 * the sink holds (final windows plus the open windows of the checkpoints).
 *
 * @module
 */
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import { MercuryError } from "@mercury/core";
import type { Sql } from "@mercury/core/services/postgres";
import { WindowAggregator } from "./aggregator.ts";
import { replayObservations } from "./observation_log.ts";
import { PostgresSink } from "./postgres_sink.ts";
import { type Event, isRejected, parseEvent } from "./event.ts";
import { type WindowSpec, windowStarts } from "./window.ts";
import { closeWithin, DEFAULT_REQUEST_TIMEOUT_MS, platformaticTimeouts, withKafkaDeadline } from "./kafka_deadline.ts";

/** Count and sum per `key|start|end`. */
export type Totals = Map<string, { count: number; sum: number }>;

/**
 * Reads every record of `topic` (partition by partition, in offset order).
 * Each Kafka request has `requestTimeoutMs` (default 10 s; joining the
 * reader's group 20 s more): a broker that does not answer is an
 * `unavailable` error naming it.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<Map<number, Uint8Array[]>> {
  const consumer = new Consumer({
    clientId: "mercury-verify",
    groupId: `mercury-verify-${crypto.randomUUID()}`,
    bootstrapBrokers: brokers,
    maxWaitTime: 100,
    ...platformaticTimeouts(requestTimeoutMs),
  });
  try {
    const unknown = () => new MercuryError("not_found", `unknown topic "${topic}"`, { where: brokers.join(",") });
    const offsets = consumer.listOffsets({ topics: [topic] }).catch((err: Error) => {
      throw /unknown topic/i.test(err.message) ? unknown() : err;
    });
    const ends = (await withKafkaDeadline(offsets, requestTimeoutMs, brokers, "end offsets")).get(topic);
    if (!ends) throw unknown();
    const byPartition = new Map<number, Uint8Array[]>(ends.map((_, p) => [p, []]));
    let remaining = ends.reduce((s, e) => s + Number(e), 0);
    if (remaining === 0) return byPartition;
    const stream = await withKafkaDeadline(
      consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false }),
      requestTimeoutMs + 20_000,
      brokers,
      "joining the reader's group",
    );
    for await (const m of stream) {
      byPartition.get(m.partition)!.push(m.value as unknown as Uint8Array);
      if (--remaining === 0) break;
    }
    await stream.close();
    return byPartition;
  } finally {
    await closeWithin(() => consumer.close(true), requestTimeoutMs);
  }
}

/**
 * The exact per-window count and sum of amount per user, with the same
 * lateness rule as the pipeline (per partition, in offset order: an event is
 * dropped when every window it falls in ends at or before
 * max event time − out-of-orderness − lateness).
 */
export function groundTruth(
  partitions: Map<number, Uint8Array[]>,
  window: WindowSpec,
  maxOutOfOrdernessMs: number,
  allowedLatenessMs: number,
  now = Date.now(),
): { totals: Totals; events: number; late: number; malformed: number } {
  if (window.kind === "session") {
    return sessionTruth(partitions, window.gap, maxOutOfOrdernessMs, allowedLatenessMs, now);
  }
  const totals: Totals = new Map();
  let events = 0;
  let late = 0;
  let malformed = 0;
  for (const values of partitions.values()) {
    let maxTs = -Infinity;
    for (const v of values) {
      const e = parseEvent(v, { now: () => now });
      if (isRejected(e)) {
        malformed++;
        continue;
      }
      const ev = e as Event;
      const closed = maxTs - maxOutOfOrdernessMs - allowedLatenessMs;
      const starts = windowStarts(ev.ts, window).filter((s) => s + windowSize(window) > closed);
      if (starts.length === 0) {
        late++;
        continue;
      }
      events++;
      for (const s of starts) {
        const k = `${ev.user}|${s}|${s + windowSize(window)}`;
        const t = totals.get(k) ?? { count: 0, sum: 0 };
        t.count++;
        t.sum += ev.amount;
        totals.set(k, t);
      }
      if (ev.ts > maxTs) maxTs = ev.ts;
    }
  }
  return { totals, events, late, malformed };
}

/**
 * Session windows recomputed per partition in offset order, written from the
 * pipeline's documented rule rather than its code: an event is late when its
 * session would end (`ts + gap`) at or before max event time − out-of-orderness
 * − lateness; otherwise it opens a session `[ts, ts + gap)` that absorbs every
 * session of its user it touches that is not final yet (one ending after that
 * bound), chaining until nothing more touches; a final session is never
 * reopened. Both final and still-open sessions are counted.
 */
function sessionTruth(
  partitions: Map<number, Uint8Array[]>,
  gap: number,
  maxOutOfOrdernessMs: number,
  allowedLatenessMs: number,
  now: number,
): { totals: Totals; events: number; late: number; malformed: number } {
  type Session = { start: number; end: number; count: number; sum: number };
  const totals: Totals = new Map();
  let events = 0;
  let late = 0;
  let malformed = 0;
  for (const values of partitions.values()) {
    let maxTs = -Infinity;
    const byUser = new Map<string, Session[]>();
    for (const v of values) {
      const e = parseEvent(v, { now: () => now });
      if (isRejected(e)) {
        malformed++;
        continue;
      }
      const ev = e as Event;
      const closed = maxTs - maxOutOfOrdernessMs - allowedLatenessMs;
      if (ev.ts + gap <= closed) {
        late++;
        continue;
      }
      events++;
      const all = byUser.get(ev.user) ?? [];
      const merged: Session = { start: ev.ts, end: ev.ts + gap, count: 1, sum: ev.amount };
      let rest = all;
      for (let absorbed = true; absorbed;) {
        absorbed = false;
        const next: Session[] = [];
        for (const x of rest) {
          if (x.end > closed && x.start <= merged.end && merged.start <= x.end) {
            merged.start = Math.min(merged.start, x.start);
            merged.end = Math.max(merged.end, x.end);
            merged.count += x.count;
            merged.sum += x.sum;
            absorbed = true;
          } else {
            next.push(x);
          }
        }
        rest = next;
      }
      rest.push(merged);
      byUser.set(ev.user, rest);
      if (ev.ts > maxTs) maxTs = ev.ts;
    }
    for (const [user, sessions] of byUser) {
      for (const x of sessions) {
        const k = `${user}|${x.start}|${x.end}`;
        const t = totals.get(k) ?? { count: 0, sum: 0 };
        t.count += x.count;
        t.sum += x.sum;
        totals.set(k, t);
      }
    }
  }
  return { totals, events, late, malformed };
}

function windowSize(w: Exclude<WindowSpec, { kind: "session" }>): number {
  return w.size;
}

/** What the sink holds: final windows plus open windows from the checkpoints. */
export async function sinkTotals(sql: Sql, pipeline: string): Promise<Totals> {
  const totals: Totals = new Map();
  const add = (key: string, start: number, end: number, count: number, sum: number) => {
    const k = `${key}|${start}|${end}`;
    const t = totals.get(k) ?? { count: 0, sum: 0 };
    t.count += count;
    t.sum += sum;
    totals.set(k, t);
  };
  const rows =
    await sql`select key, window_start, window_end, count, sum from stream_windows where pipeline = ${pipeline}`;
  for (const r of rows) add(r.key, r.window_start.getTime(), r.window_end.getTime(), Number(r.count), r.sum);
  // Open windows: each partition's snapshot, plus the observations logged after it replayed.
  const sink = await PostgresSink.open(sql, pipeline);
  const parts = await sql`select topic, partition from stream_checkpoints where pipeline = ${pipeline}`;
  for (const { topic, partition } of parts) {
    const loaded = await sink.load(topic, partition);
    if (loaded.log?.length) {
      if (!loaded.aggregator) throw new Error(`${pipeline} ${topic}/${partition}: logged observations but no options`);
      const agg = WindowAggregator.restore(loaded.aggregator, loaded.state);
      replayObservations(agg, loaded.log);
      for (const w of agg.openWindows()) add(w.key, w.start, w.end, w.count, w.sum);
    } else {
      for (const [key, start, end, acc] of loaded.state?.open ?? []) add(key, start, end, acc.c, acc.s);
    }
  }
  return totals;
}

/** Differences between two totals (empty when they agree; sums compared to 1e-6). */
export function compareTotals(expected: Totals, actual: Totals, limit = 10): string[] {
  const diffs: string[] = [];
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (!a) diffs.push(`${k}: missing (expected count ${e.count})`);
    else if (a.count !== e.count || Math.abs(a.sum - e.sum) > 1e-6 * Math.max(1, Math.abs(e.sum))) {
      diffs.push(`${k}: count ${a.count} sum ${a.sum.toFixed(2)}, expected count ${e.count} sum ${e.sum.toFixed(2)}`);
    }
    if (diffs.length >= limit) return diffs;
  }
  for (const [k, a] of actual) {
    if (!expected.has(k)) diffs.push(`${k}: unexpected (count ${a.count})`);
    if (diffs.length >= limit) break;
  }
  return diffs;
}
