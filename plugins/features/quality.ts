/**
 * Feature quality per materialisation: null rate, min/max/mean/stddev,
 * quantiles and distinct count of every feature over the run's rows, compared
 * with the previous run; a shift beyond the threshold is flagged as drift.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { FeatureView } from "./definitions.ts";
import type { FeatureStats } from "./registry.ts";
import { quoteIdent as ident } from "@mercury/core/sql";
import { rows as readRows } from "./_duck.ts";

/** Drift thresholds. */
export interface DriftThresholds {
  /** Flag when the mean moves by more than this many previous standard deviations (default 0.5). */
  meanShiftSd: number;
  /** Flag when the null rate changes by more than this (absolute, default 0.05). */
  nullRateChange: number;
  /** Flag when the distinct count changes by more than this ratio (default 0.5), for strings. */
  distinctRatio: number;
}

/** The default thresholds. */
export const DEFAULT_THRESHOLDS: DriftThresholds = { meanShiftSd: 0.5, nullRateChange: 0.05, distinctRatio: 0.5 };

/** Computes the statistics of each feature of `view` over `relation` (one SQL pass). */
export async function computeStats(
  c: DuckDBConnection,
  view: FeatureView,
  relation: string,
): Promise<Map<string, FeatureStats>> {
  const parts: string[] = ["count(*) as __n"];
  for (const [i, f] of view.features.entries()) {
    const col = ident(f.name);
    // A PII feature keeps no values in its statistics (no min, max, mean or quantiles): counts only.
    const numeric = !f.pii &&
      (f.type === "int64" || f.type === "float64" || f.type === "bool" || f.type === "timestamp");
    const x = f.type === "bool"
      ? `cast(${col} as DOUBLE)`
      : f.type === "timestamp"
      ? `cast(epoch_ms(${col}) as DOUBLE)`
      : `cast(${col} as DOUBLE)`;
    parts.push(`count(${col}) as c${i}`, `approx_count_distinct(${col}) as d${i}`);
    if (numeric) {
      parts.push(
        `min(${x}) as mn${i}`,
        `max(${x}) as mx${i}`,
        `avg(${x}) as av${i}`,
        `stddev_samp(${x}) as sd${i}`,
        `approx_quantile(${x}, [0.5, 0.9, 0.99]) as q${i}`,
      );
    }
  }
  const [r] = await readRows(c, `select ${parts.join(", ")} from ${relation}`);
  const n = Number(r!.__n);
  const out = new Map<string, FeatureStats>();
  const num = (v: unknown) => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Number(v));
  for (const [i, f] of view.features.entries()) {
    const q = (r![`q${i}`] as unknown[] | null | undefined) ?? [];
    out.set(f.name, {
      count: n,
      nullRate: n === 0 ? 0 : 1 - Number(r![`c${i}`]) / n,
      min: num(r![`mn${i}`]),
      max: num(r![`mx${i}`]),
      mean: num(r![`av${i}`]),
      stddev: num(r![`sd${i}`]),
      p50: num(q[0]),
      p90: num(q[1]),
      p99: num(q[2]),
      distinct: Number(r![`d${i}`]),
    });
  }
  return out;
}

/**
 * Compares one feature's statistics with the previous run's; returns the
 * reason for flagging drift, or null.
 *
 * @example
 * ```ts
 * import { compareStats, DEFAULT_THRESHOLDS } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const base = { count: 100, nullRate: 0, min: 0, max: 10, mean: 5, stddev: 2, p50: 5, p90: 8, p99: 10, distinct: 10 };
 * assert.equal(compareStats(base, base, DEFAULT_THRESHOLDS), null);
 * assert.match(compareStats({ ...base, mean: 9 }, base, DEFAULT_THRESHOLDS)!, /mean moved 2\.00 sd/);
 * ```
 */
export function compareStats(now: FeatureStats, prev: FeatureStats | undefined, t: DriftThresholds): string | null {
  if (!prev || prev.count === 0 || now.count === 0) return null;
  const reasons: string[] = [];
  if (Math.abs(now.nullRate - prev.nullRate) > t.nullRateChange) {
    reasons.push(`null rate ${prev.nullRate.toFixed(3)} → ${now.nullRate.toFixed(3)}`);
  }
  if (now.mean !== null && prev.mean !== null) {
    const sd = prev.stddev && prev.stddev > 0 ? prev.stddev : Math.abs(prev.mean) || 1;
    const shift = Math.abs(now.mean - prev.mean) / sd;
    if (shift > t.meanShiftSd) {
      reasons.push(`mean moved ${shift.toFixed(2)} sd (${prev.mean.toFixed(3)} → ${now.mean.toFixed(3)})`);
    }
  } else if (prev.distinct > 0) {
    const ratio = Math.abs(now.distinct - prev.distinct) / prev.distinct;
    if (ratio > t.distinctRatio) reasons.push(`distinct count ${prev.distinct} → ${now.distinct}`);
  }
  return reasons.length ? reasons.join("; ") : null;
}
