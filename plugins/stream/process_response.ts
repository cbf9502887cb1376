/**
 * A stream worker's processing of one fetch response: records already
 * counted (or of partitions no longer the worker's) are skipped, each other
 * record is parsed in place (rejects are dead-lettered), then enrichment and
 * aggregation run `batchSize` events at a time; the windows the watermark
 * closes join their partition's pending results. No checkpoint is taken
 * inside: the partitions' offsets already point past the whole response.
 *
 * @module
 */
import type { Observation } from "./aggregator.ts";
import { isRejected } from "./event.ts";
import type { Fetcher, FetchResponse } from "./fetcher.ts";
import type { PartitionState } from "./partition_state.ts";
import type { Topology } from "./topology.ts";
import type { WorkerMetrics } from "./worker_metrics.ts";

/** What {@linkcode processResponse} works on. */
export interface ProcessContext<E> {
  topology: Topology<E>;
  /** Every partition of the response is loaded here. */
  parts: Map<number, PartitionState>;
  /** The fetcher the response came from (its positions: the partitions the worker still reads). */
  fetcher: Fetcher;
  /** Whether the store takes observation logs. */
  logs: boolean;
  batchSize: number;
  metrics: WorkerMetrics;
  /** Counts a record read (appended to Kafka at `timestamp`: every so many are kept as latency samples). */
  counted(timestamp: number): void;
  /** Counts a late event in the run's stats. */
  lateEvent(): void;
  /** Dead-letters a record (its key at `buf[ks, ke)`, its value at `buf[vs, ve)`), counting it on `s`. */
  deadLetter(
    partition: number,
    offset: number,
    buf: Uint8Array,
    ks: number,
    ke: number,
    vs: number,
    ve: number,
    reason: string,
    s: PartitionState,
  ): void;
}

/** Processes one fetch response (see the module notes). */
export async function processResponse<E>(ctx: ProcessContext<E>, response: FetchResponse): Promise<void> {
  const t = ctx.topology;
  const events: E[] = [];
  const states: PartitionState[] = [];
  // Where each accepted record is (for a late event's dead letter): buffer, offset, key and value bounds.
  const bufs: Uint8Array[] = [];
  const spans: number[] = [];
  const before = new Map<PartitionState, number>();
  for (const part of response.partitions) {
    const s = ctx.parts.get(part.partition)!;
    before.set(s, s.events);
  }
  let current: PartitionState | undefined;
  let currentP = -1;
  let currentOwned = false;
  const parseAt = t.parseAt;
  // The partitions this worker still reads: records of any other are left to their new owner.
  const owned = ctx.fetcher.positions;
  const stage = ctx.metrics.stage;
  const visitStart = performance.now();
  ctx.fetcher.visit(response, (p, offset, timestamp, buf, ks, ke, vs, ve) => {
    if (p !== currentP) {
      current = ctx.parts.get(p)!;
      currentP = p;
      currentOwned = owned.has(p);
    }
    const s = current!;
    if (offset < s.next || !currentOwned) return; // already counted, or no longer this worker's
    s.next = offset + 1;
    s.dirty = true;
    s.events++;
    ctx.counted(timestamp);
    const parsed = vs < 0 ? t.parse(null) : parseAt ? parseAt(buf, vs, ve) : t.parse(buf.subarray(vs, ve));
    if (isRejected(parsed)) {
      ctx.deadLetter(p, offset, buf, ks, ke, vs, ve, parsed.reason, s);
      return;
    }
    events.push(parsed);
    states.push(s);
    bufs.push(buf);
    spans.push(offset, ks, ke, vs, ve);
  });
  stage.inc({ stage: "parse" }, (performance.now() - visitStart) / 1000);
  for (const [s, n] of before) {
    if (s.events > n) ctx.metrics.eventsIn.inc({ partition: String(s.partition) }, s.events - n);
  }
  const logs = ctx.logs;
  const size = ctx.batchSize;
  for (let from = 0; from < events.length; from += size) {
    let batch = events.slice(from, from + size);
    const enrichStart = performance.now();
    for (const enrich of t.enrichers) batch = await enrich(batch);
    const aggregateStart = performance.now();
    if (t.enrichers.length) stage.inc({ stage: "enrich" }, (aggregateStart - enrichStart) / 1000);
    const now = Date.now();
    const touched = new Set<PartitionState>();
    // One observation object, refilled per event (the aggregator and the log encoder keep none of it).
    const o: Observation = { key: "", ts: 0, value: 0, distinct: "", attrs: undefined };
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      const k = from + i;
      const s = states[k]!;
      o.key = t.keyBy(e);
      o.ts = t.timeDomain === "processing" ? now : t.eventTime(e);
      o.value = t.value(e);
      o.distinct = t.distinct(e);
      o.attrs = t.attrs?.(e);
      const outcome = s.agg.add(o);
      if (logs && outcome === "ok") s.log.append(o);
      if (outcome === "late") {
        const x = 5 * k;
        ctx.deadLetter(
          s.partition,
          spans[x]!,
          bufs[k]!,
          spans[x + 1]!,
          spans[x + 2]!,
          spans[x + 3]!,
          spans[x + 4]!,
          "late: its windows are already final",
          s,
        );
        s.late++;
        ctx.lateEvent();
        ctx.metrics.late.inc();
      }
      touched.add(s);
    }
    for (const s of touched) s.pending.push(...s.agg.advance());
    stage.inc({ stage: "aggregate" }, (performance.now() - aggregateStart) / 1000);
    // Yield to I/O between steps, or the commit in flight would wait for the whole backlog.
    if (from + size < events.length) await new Promise((r) => setTimeout(r, 0));
  }
}
