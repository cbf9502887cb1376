/**
 * Seeded synthetic development data for the forecasters: series shaped like
 * real weekly, daily, monthly, quarterly and yearly data — a level that
 * wanders and, for weekly data, shifts abruptly, a smooth seasonal pattern of
 * the frequency's period, a mild trend and noise — each with the horizon to
 * hold out. Defaults and rules of the models are chosen on these (and on
 * M4 Hourly's training part), never on a test horizon; the shared forecaster
 * suite checks every model on one series of each kind.
 *
 * @module
 */
import { normal, seededRandom } from "@mercury/core/random";

/** The kinds of synthetic series and their seasonal period, length range and horizon. */
export const SYNTHETIC_KINDS = {
  /** 52-week yearly season, 3–6 years, abrupt level shifts. */
  weekly: { m: 52, n: [160, 320], h: 13 },
  /** Weekly series shorter than two seasons (60–100 points). */
  weekly_short: { m: 52, n: [60, 100], h: 13 },
  /** 7-day season, 1–2 years. */
  daily: { m: 7, n: [365, 730], h: 14 },
  /** 365-day season, 2.2–3 years. */
  daily_yearly: { m: 365, n: [800, 1100], h: 28 },
  /** 12-month season, 6–20 years. */
  monthly: { m: 12, n: [72, 240], h: 18 },
  /** 4-quarter season, 10–25 years. */
  quarterly: { m: 4, n: [40, 100], h: 8 },
  /** No season, 20–50 years. */
  yearly: { m: 1, n: [20, 50], h: 6 },
} as const;

/** A kind of synthetic series. */
export type SyntheticKind = keyof typeof SYNTHETIC_KINDS;

/** One synthetic series: its values (training part and the held-out horizon together), period and horizon. */
export interface SyntheticSeries {
  id: string;
  kind: SyntheticKind;
  /** Seasonal period. */
  m: number;
  /** Horizon held out at the end of `y`. */
  h: number;
  y: number[];
}

/**
 * One seeded synthetic series of a kind: the same (kind, seed) always gives
 * the same values. Values stay positive.
 *
 * @example
 * ```ts
 * import { syntheticSeries } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const s = syntheticSeries("weekly", 1);
 * assert.equal(s.m, 52);
 * assert.ok(s.y.length >= 160 + 13 && s.y.every((v) => v > 0));
 * assert.deepEqual(syntheticSeries("weekly", 1).y, s.y);
 * ```
 */
export function syntheticSeries(kind: SyntheticKind, seed: number): SyntheticSeries {
  const spec = SYNTHETIC_KINDS[kind];
  const u = seededRandom(seed * 7919 + kind.length * 104729 + 17);
  const gauss = () => normal(u);
  const n = spec.n[0] + Math.floor(u() * (spec.n[1] - spec.n[0] + 1));
  const total = n + spec.h;
  const m = spec.m;
  const base = Math.exp(Math.log(50) + u() * Math.log(100)); // 50 … 5,000
  const amp = m > 1 ? 0.05 + 0.3 * u() : 0; // seasonal amplitude, share of the level
  const phase = u() * 2 * Math.PI;
  const harmonic2 = 0.5 * u();
  const slope = (u() - 0.5) * (m === 1 ? 0.06 : 0.004); // share of the level per step
  const wander = kind === "yearly" ? 0.03 : 0.01; // random-walk step of the level, share of it
  const noise = 0.02 + 0.06 * u();
  // level shifts: weekly series get one to three, the others none
  const shifts = new Map<number, number>();
  if (kind === "weekly" || kind === "weekly_short") {
    const k = 1 + Math.floor(u() * 3);
    for (let i = 0; i < k; i++) {
      const at = Math.floor(total * (0.3 + 0.65 * u()));
      shifts.set(at, (u() < 0.5 ? -1 : 1) * (0.2 + 0.5 * u()));
    }
  }
  const y: number[] = [];
  let level = base;
  for (let t = 0; t < total; t++) {
    const shift = shifts.get(t);
    if (shift !== undefined) level *= shift > 0 ? 1 + shift : 1 / (1 - shift);
    level *= Math.exp(wander * gauss() + slope);
    const w = (2 * Math.PI * t) / Math.max(1, m);
    const season = m > 1 ? amp * (Math.sin(w + phase) + harmonic2 * Math.sin(2 * w + 2 * phase)) : 0;
    y.push(Math.max(1e-3 * base, level * (1 + season) * (1 + noise * gauss())));
  }
  return { id: `${kind}-${seed}`, kind, m, h: spec.h, y };
}

/**
 * `count` seeded series of a kind (seeds `first` … `first + count − 1`).
 *
 * @example
 * ```ts
 * import { syntheticSet } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const set = syntheticSet("quarterly", 3);
 * assert.deepEqual(set.map((s) => s.id), ["quarterly-1", "quarterly-2", "quarterly-3"]);
 * ```
 */
export function syntheticSet(kind: SyntheticKind, count: number, first = 1): SyntheticSeries[] {
  return Array.from({ length: count }, (_, i) => syntheticSeries(kind, first + i));
}
