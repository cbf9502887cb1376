/**
 * The feature server's Prometheus metrics: request latency by transport,
 * values served by status and the hit rate, and the age of served values.
 *
 * @module
 */
import { Registry } from "@mercury/core";
import type { FeatureStatus } from "./online_features.ts";

/** The metrics a server exposes. */
export interface ServingMetrics {
  registry: Registry;
  observe(
    transport: string,
    seconds: number,
    statuses: Record<FeatureStatus, number>,
    staleness: Map<string, number[]>,
  ): void;
}

/**
 * Creates the serving metrics: request latency histogram, value counts by status (hit rate), staleness, drift.
 *
 * @example
 * ```ts
 * import { servingMetrics } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const m = servingMetrics();
 * m.observe("http", 0.001, { PRESENT: 3, NULL_VALUE: 0, NOT_FOUND: 1, OUTSIDE_MAX_AGE: 0 }, new Map([["v", [5]]]));
 * assert.match(m.registry.expose(), /mercury_features_values_total\{status="PRESENT"\} 3/);
 * assert.match(m.registry.expose(), /mercury_features_hit_rate 0\.75/);
 * ```
 */
export function servingMetrics(registry = new Registry()): ServingMetrics {
  const latency = registry.histogram("mercury_features_request_seconds", "getOnlineFeatures latency", ["transport"], [
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.5,
  ]);
  const values = registry.counter("mercury_features_values_total", "Feature values served, by status", ["status"]);
  const hit = registry.gauge("mercury_features_hit_rate", "Share of values served PRESENT since start");
  const stale = registry.histogram(
    "mercury_features_staleness_seconds",
    "Age of served values (now − event time)",
    ["view"],
    [1, 60, 600, 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400],
  );
  let present = 0;
  let total = 0;
  return {
    registry,
    observe(transport, seconds, statuses, staleness) {
      latency.observe({ transport }, seconds);
      for (const [s, n] of Object.entries(statuses)) {
        if (n > 0) values.inc({ status: s }, n);
        total += n;
      }
      present += statuses.PRESENT + statuses.NULL_VALUE;
      if (total > 0) hit.set({}, present / total);
      for (const [view, ages] of staleness) for (const a of ages) stale.observe({ view }, a);
    },
  };
}
