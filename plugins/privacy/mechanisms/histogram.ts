/**
 * DP histograms over known or unknown keys, with contribution bounding per
 * privacy unit and partition selection.
 *
 * Each privacy unit keeps at most `maxPartitions` of its keys (chosen
 * uniformly with the CSPRNG) and counts once per key, so one unit changes
 * at most `maxPartitions` counts by 1 (L1 sensitivity `maxPartitions`).
 * Counts get discrete Laplace noise of scale maxPartitions/ε. With unknown
 * keys (`keys` not given) a key is released only if its noisy count reaches
 * the threshold τ = 1 + ⌈b·ln(maxPartitions/((1 + e^(−1/b))·δ))⌉, which a key
 * held by a single unit passes with probability at most δ/maxPartitions
 * (the Laplace thresholding of Korolova et al. 2009 and Google's
 * `LaplacePartitionSelection`). Keys from the data never leak otherwise.
 *
 * @example
 * ```ts
 * import { dpHistogram } from "@mercury/privacy/mechanisms/histogram";
 * import assert from "node:assert/strict";
 *
 * const rows = Array.from({ length: 2000 }, (_, i) => ({ unit: i, key: i % 2 ? "a" : "b" }));
 * rows.push({ unit: 9999, key: "rare" });
 * const h = dpHistogram(rows, { epsilon: 1, delta: 1e-6 });
 * assert.ok(h.bins.some((b) => b.key === "a"));
 * assert.ok(!h.bins.some((b) => b.key === "rare"));
 * ```
 *
 * @module
 */
import { uniformBelowSmall } from "./_rng.ts";
import { floatToRational, sampleDiscreteLaplace } from "./samplers.ts";

/** One released bin. */
export interface HistogramBin {
  key: string;
  /** The noisy count (may be negative for known keys; clamp at 0 to display). */
  count: number;
}

/** A DP histogram with what it cost and how precise it is. */
export interface DpHistogram {
  bins: HistogramBin[];
  /** Discrete Laplace scale b of each count. */
  scale: number;
  /** Release threshold (unknown keys only). */
  threshold?: number;
  epsilon: number;
  delta: number;
  /** Half-width of a 95% interval on each count. */
  halfWidth95: number;
}

/** Options of {@link dpHistogram}. */
export interface HistogramOptions {
  epsilon: number;
  /** Needed for unknown keys (partition selection); 0 with known keys. */
  delta?: number;
  /** The public list of keys; when absent the keys come from the data and are thresholded. */
  keys?: readonly string[];
  /** How many keys one privacy unit may count toward (default 1). */
  maxPartitions?: number;
}

/**
 * Keeps at most `maxPerUnit` items per unit (a uniform sample without
 * replacement, by the CSPRNG): contribution bounding per privacy unit.
 */
export function boundContributions<T>(
  items: Iterable<T>,
  unitOf: (t: T) => unknown,
  maxPerUnit: number,
): T[] {
  if (!(Number.isInteger(maxPerUnit) && maxPerUnit >= 1)) {
    throw new RangeError(`the contribution bound must be a whole number ≥ 1, got ${maxPerUnit}`);
  }
  const byUnit = new Map<unknown, T[]>();
  for (const t of items) {
    const u = unitOf(t);
    const list = byUnit.get(u);
    if (list) list.push(t);
    else byUnit.set(u, [t]);
  }
  const out: T[] = [];
  for (const list of byUnit.values()) {
    // Partial Fisher–Yates: the first maxPerUnit places.
    const m = Math.min(maxPerUnit, list.length);
    for (let i = 0; i < m; i++) {
      const j = i + uniformBelowSmall(list.length - i);
      [list[i], list[j]] = [list[j]!, list[i]!];
      out.push(list[i]!);
    }
  }
  return out;
}

/** Clamps x into [lower, upper]. */
export function clamp(x: number, lower: number, upper: number): number {
  return x < lower ? lower : x > upper ? upper : x;
}

/** The partition-selection threshold τ for discrete Laplace scale b (see the module doc). */
export function partitionThreshold(b: number, delta: number, maxPartitions: number): number {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
  return 1 + Math.ceil(b * Math.log(maxPartitions / ((1 + Math.exp(-1 / b)) * delta)));
}

/** A DP count per key; see the module doc. */
export function dpHistogram(
  rows: Iterable<{ unit: unknown; key: string }>,
  o: HistogramOptions,
): DpHistogram {
  if (!(Number.isFinite(o.epsilon) && o.epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${o.epsilon}`);
  const m = o.maxPartitions ?? 1;
  // One count per (unit, key), then at most m keys per unit.
  const seen = new Set<string>();
  const pairs: { unit: unknown; key: string }[] = [];
  for (const r of rows) {
    const id = JSON.stringify([r.unit, r.key]);
    if (!seen.has(id)) {
      seen.add(id);
      pairs.push(r);
    }
  }
  const kept = boundContributions(pairs, (p) => p.unit, m);
  const counts = new Map<string, number>();
  for (const p of kept) counts.set(p.key, (counts.get(p.key) ?? 0) + 1);
  const b = m / o.epsilon;
  const { num, den } = floatToRational(b);
  const noisy = (c: number) => c + Number(sampleDiscreteLaplace(num, den));
  const halfWidth95 = b * Math.log(1 / 0.05);
  if (o.keys) {
    const keys = o.keys;
    return {
      bins: keys.map((key) => ({ key, count: noisy(counts.get(key) ?? 0) })),
      scale: b,
      epsilon: o.epsilon,
      delta: 0,
      halfWidth95,
    };
  }
  const delta = o.delta ?? 0;
  if (!(delta > 0 && delta < 1)) {
    throw new RangeError(`unknown keys need delta in (0, 1) for partition selection, got ${delta}`);
  }
  const threshold = partitionThreshold(b, delta, m);
  const bins: HistogramBin[] = [];
  for (const [key, c] of [...counts].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    const v = noisy(c);
    if (v >= threshold) bins.push({ key, count: v });
  }
  return { bins, scale: b, threshold, epsilon: o.epsilon, delta, halfWidth95 };
}
