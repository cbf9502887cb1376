/**
 * The processing topology as a typed, composable value:
 * parse and validate → enrich → key by → window → aggregate. A
 * {@linkcode Processor} runs it against Kafka with an exactly-once sink.
 *
 * @example
 * ```ts
 * import { parseEvent, topology, tumbling } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const t = topology(parseEvent)
 *   .keyBy((e) => e.user)
 *   .window(tumbling(60_000), { maxOutOfOrdernessMs: 5_000 })
 *   .aggregate({ value: (e) => e.amount, distinct: (e) => e.device, eventTime: (e) => e.ts });
 * assert.equal(t.window.kind, "tumbling");
 * assert.equal(t.keyBy({ id: "1", user: "u7", device: "d", amount: 1, ts: 0 }), "u7");
 * ```
 *
 * @module
 */
import type { Rejected } from "./event.ts";
import type { WindowSpec } from "./window.ts";

/** Enriches a batch of events (e.g. one Redis round trip for the batch's keys). */
export type Enricher<E> = (events: E[]) => Promise<E[]> | E[];

/** A complete topology. */
export interface Topology<E> {
  parse: (value: Uint8Array | null | undefined) => E | Rejected;
  /**
   * The same parser on bytes `start..end` of a fetched batch, when it has one
   * (e.g. `parseEventAt`): the worker then makes no view per record.
   */
  parseAt?: (buf: Uint8Array, start: number, end: number) => E | Rejected;
  enrichers: readonly Enricher<E>[];
  keyBy: (e: E) => string;
  window: WindowSpec;
  maxOutOfOrdernessMs: number;
  allowedLatenessMs: number;
  /** Event time (from the event) or processing time (arrival at the worker). */
  timeDomain: "event" | "processing";
  eventTime: (e: E) => number;
  value: (e: E) => number;
  distinct: (e: E) => string;
  attrs?: (e: E) => Record<string, string> | undefined;
}

interface WindowOptions {
  maxOutOfOrdernessMs?: number;
  allowedLatenessMs?: number;
  timeDomain?: "event" | "processing";
}

interface AggregateOptions<E> {
  value: (e: E) => number;
  distinct: (e: E) => string;
  eventTime: (e: E) => number;
  attrs?: (e: E) => Record<string, string> | undefined;
}

/**
 * Starts a topology from a parser, and optionally the same parser on a byte
 * range (see {@linkcode Topology.parseAt}).
 */
export function topology<E>(
  parse: (value: Uint8Array | null | undefined) => E | Rejected,
  parseAt?: (buf: Uint8Array, start: number, end: number) => E | Rejected,
) {
  const enrichers: Enricher<E>[] = [];
  const builder = {
    /** Adds an enrichment step (run in order). */
    enrich(fn: Enricher<E>) {
      enrichers.push(fn);
      return builder;
    },
    /** Sets the key that windows are kept per. */
    keyBy(keyBy: (e: E) => string) {
      return {
        /** Sets the window and its time semantics. */
        window(window: WindowSpec, options: WindowOptions = {}) {
          return {
            /** Names what is aggregated; returns the finished topology. */
            aggregate(agg: AggregateOptions<E>): Topology<E> {
              return Object.freeze({
                parse,
                parseAt,
                enrichers: [...enrichers],
                keyBy,
                window,
                maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 5_000,
                allowedLatenessMs: options.allowedLatenessMs ?? 0,
                timeDomain: options.timeDomain ?? "event",
                eventTime: agg.eventTime,
                value: agg.value,
                distinct: agg.distinct,
                attrs: agg.attrs,
              });
            },
          };
        },
      };
    },
  };
  return builder;
}
