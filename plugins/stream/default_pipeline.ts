/**
 * The default pipeline — parse → Redis tier join → key by user → window →
 * amount aggregates — as a function ({@linkcode defaultTopology}) and as a
 * topology module that worker threads build for themselves
 * ({@linkcode defaultPipeline}, see `ThreadedProcessor`).
 *
 * @example
 * ```ts
 * import { defaultTopology, tumbling } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const t = defaultTopology(tumbling(60_000), { maxOutOfOrdernessMs: 5_000, allowedLatenessMs: 0 });
 * assert.equal(t.keyBy({ id: "1", user: "u7", device: "d", amount: 1, ts: 0 }), "u7");
 * assert.equal(t.enrichers.length, 0);
 * ```
 *
 * @module
 */
import { connectRedis } from "@mercury/core/services/redis";
import { parseEvent, parseEventAt } from "./event.ts";
import { type EnrichedEvent, redisDimension } from "./enrich.ts";
import { type Topology, topology } from "./topology.ts";
import type { WindowSpec } from "./window.ts";

/** The default pipeline: parse → Redis tier join → key by user → window → amount aggregates. */
export function defaultTopology(
  window: WindowSpec,
  options: {
    maxOutOfOrdernessMs: number;
    allowedLatenessMs: number;
    processingTime?: boolean;
    enrich?: (events: EnrichedEvent[]) => Promise<EnrichedEvent[]> | EnrichedEvent[];
  },
): Topology<EnrichedEvent> {
  const base = topology<EnrichedEvent>((v) => parseEvent(v), (b, s, e) => parseEventAt(b, s, e));
  const withEnrich = options.enrich ? base.enrich(options.enrich) : base;
  return withEnrich
    .keyBy((e) => e.user)
    .window(window, {
      maxOutOfOrdernessMs: options.maxOutOfOrdernessMs,
      allowedLatenessMs: options.allowedLatenessMs,
      timeDomain: options.processingTime ? "processing" : "event",
    })
    .aggregate({ value: (e) => e.amount, distinct: (e) => e.device, eventTime: (e) => e.ts, attrs: (e) => e.attrs });
}

/** What {@linkcode defaultPipeline} is built from (plain data: it crosses to a worker thread). */
export interface DefaultPipelineArgs {
  window: WindowSpec;
  maxOutOfOrdernessMs: number;
  allowedLatenessMs: number;
  processingTime?: boolean;
  /** Join the Redis dimension table `dim:user:<user>` (field `tier`), through the thread's own connection. */
  enrich?: boolean;
}

/**
 * The default pipeline as a topology module: each thread connects to Redis
 * itself. Pass `{ url: DEFAULT_PIPELINE, export: "defaultPipeline", args }`.
 */
export async function defaultPipeline(
  args: DefaultPipelineArgs,
): Promise<{ topology: Topology<EnrichedEvent>; close: () => Promise<void> }> {
  const redis = args.enrich ? await connectRedis() : undefined;
  const topology = defaultTopology(args.window, {
    ...args,
    enrich: redis
      ? redisDimension({ redis: redis.client, keyOf: (u) => `dim:user:${u}`, fields: { tier: "unknown" } })
      : undefined,
  });
  return { topology, close: async () => await redis?.close() };
}

/** This module's URL, for {@linkcode defaultPipeline} as a topology module. */
export const DEFAULT_PIPELINE: string = import.meta.url;
