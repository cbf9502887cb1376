/**
 * The feature server's Prometheus metrics: request latency by transport,
 * values served by status and the hit rate, the age of served values, and per
 * feature the share served NOT_FOUND or OUTSIDE_MAX_AGE.
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
  /**
   * Counts one request's values of one feature (`view:feature`): `n` served, of which `notFound` NOT_FOUND and
   * `outside` OUTSIDE_MAX_AGE. Kept in a plain map on the hot path; the per-feature series
   * (`mercury_features_feature_values_total{feature,status}`, `mercury_features_feature_status_share{feature,status}`)
   * are made when `/metrics` is read.
   */
  observeFeature(feature: string, n: number, notFound: number, outside: number): void;
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
 * m.observeFeature("v:a", 4, 1, 0);
 * assert.match(m.registry.expose(), /mercury_features_feature_status_share\{feature="v:a",status="NOT_FOUND"\} 0\.25/);
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
  // feature → [served, NOT_FOUND, OUTSIDE_MAX_AGE]
  const perFeature = new Map<string, [number, number, number]>();
  registry.addSource(() => {
    const r = new Registry();
    const count = r.counter(
      "mercury_features_feature_values_total",
      "Values served per feature since start: all of them, NOT_FOUND, OUTSIDE_MAX_AGE",
      ["feature", "status"],
    );
    const share = r.gauge(
      "mercury_features_feature_status_share",
      "Share of a feature's values served NOT_FOUND or OUTSIDE_MAX_AGE since start (a serving-side quality check)",
      ["feature", "status"],
    );
    for (const [feature, [n, nf, out]] of perFeature) {
      count.inc({ feature, status: "all" }, n);
      count.inc({ feature, status: "NOT_FOUND" }, nf);
      count.inc({ feature, status: "OUTSIDE_MAX_AGE" }, out);
      if (n > 0) {
        share.set({ feature, status: "NOT_FOUND" }, nf / n);
        share.set({ feature, status: "OUTSIDE_MAX_AGE" }, out / n);
      }
    }
    return r.expose();
  });
  return {
    registry,
    observeFeature(feature, n, notFound, outside) {
      const c = perFeature.get(feature);
      if (c) {
        c[0] += n;
        c[1] += notFound;
        c[2] += outside;
      } else perFeature.set(feature, [n, notFound, outside]);
    },
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
