/**
 * The Prometheus metrics of a stream worker (`Processor`), registered on a
 * core `Registry` and served by `stream process --metrics-port`.
 *
 * @example
 * ```ts
 * import { Registry } from "@mercury/core";
 * import { workerMetrics } from "./worker_metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const r = new Registry();
 * workerMetrics(r).late.inc();
 * assert.match(r.expose(), /mercury_stream_late_events_total 1/);
 * ```
 *
 * @module
 */
import type { Registry } from "@mercury/core";

/** Registers the worker's metrics on `r` and returns them. */
export function workerMetrics(r: Registry) {
  return {
    eventsIn: r.counter("mercury_stream_events_in_total", "Records read from Kafka", ["partition"]),
    resultsOut: r.counter("mercury_stream_results_out_total", "Final window results written"),
    late: r.counter("mercury_stream_late_events_total", "Events behind the watermark (dead-lettered)"),
    dead: r.counter("mercury_stream_dead_letter_total", "Records sent to the dead-letter topic", ["reason"]),
    lag: r.gauge("mercury_stream_consumer_lag", "End offset minus next offset", ["partition"]),
    watermark: r.gauge("mercury_stream_watermark_seconds", "Event-time watermark", ["partition"]),
    open: r.gauge("mercury_stream_open_windows", "Open (key, window) pairs in state"),
    latency: r.histogram(
      "mercury_stream_end_to_end_latency_seconds",
      "From a record's append to Kafka to its checkpoint committing (sampled 1/64)",
      [],
      [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30],
    ),
    commit: r.histogram("mercury_stream_commit_seconds", "Checkpoint transaction time", [], [
      0.005,
      0.01,
      0.025,
      0.05,
      0.1,
      0.25,
      0.5,
      1,
      5,
    ]),
    rebalances: r.counter("mercury_stream_rebalances_total", "Consumer group rebalances seen"),
    fenced: r.counter("mercury_stream_fenced_total", "Checkpoints refused because another worker moved a partition"),
    // Two clock reads per fetch response or batch, not per event: cheap enough to keep on.
    stage: r.counter(
      "mercury_stream_stage_seconds_total",
      "Worker time per stage: parse (walking and parsing the records of fetch responses), enrich (wall, with its " +
        "round trips), aggregate (window updates and closes), checkpoint (taking one; the commit is commit_seconds)",
      ["stage"],
    ),
  };
}

/** The metrics {@linkcode workerMetrics} registers. */
export type WorkerMetrics = ReturnType<typeof workerMetrics>;

/** A committed checkpoint, as {@linkcode recordCommit} measures it. */
export interface CommittedCheckpoint {
  /** `performance.now()` when the commit started. */
  startedAt: number;
  /** Append times of the records sampled for latency in it. */
  samples: readonly number[];
  results: number;
  /** Each partition's largest event time in it. */
  maxTs: readonly { partition: number; maxTs: number | null }[];
  /** The topology's out-of-orderness bound, in ms (watermark = max event time − bound). */
  boundMs: number;
  /** Open (key, window) pairs in the worker's state now. */
  open: number;
}

/** Records a committed checkpoint: commit time, end-to-end latency samples, results, watermarks, open windows. */
export function recordCommit(m: WorkerMetrics, c: CommittedCheckpoint, debug = false): void {
  const committedAt = Date.now();
  m.commit.observe({}, (performance.now() - c.startedAt) / 1000);
  for (const ts of c.samples) m.latency.observe({}, Math.max(0, committedAt - ts) / 1000);
  if (debug && c.samples.length) {
    console.error(
      `checkpoint: ${c.samples.length} latency samples, oldest ${committedAt - Math.min(...c.samples)} ms; ` +
        `commit ${(performance.now() - c.startedAt).toFixed(0)} ms`,
    );
  }
  m.resultsOut.inc({}, c.results);
  for (const { partition, maxTs } of c.maxTs) {
    m.watermark.set({ partition: String(partition) }, Math.max(0, (maxTs ?? 0) - c.boundMs) / 1000);
  }
  m.open.set({}, c.open);
}
