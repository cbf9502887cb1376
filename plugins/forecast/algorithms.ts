/**
 * The algorithm registry: every model by name, how to build it from
 * parameters, how to restore it from JSON, the least data it needs and the
 * parameter grid `tune` searches. The neural models (TensorFlow.js) and the
 * augurs models (MSTL, Prophet; wasm) are imported when one is first fitted or
 * restored, so the registry itself loads neither.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { Forecaster, ModelState } from "./forecaster.ts";
import { Baseline } from "./models/baseline.ts";
import { AutoETS } from "./models/ets.ts";
import { Theta } from "./models/theta.ts";
import { AutoARIMA } from "./models/arima.ts";
import { LazyForecaster } from "./_lazy_model.ts";

const augurs = () => import("./models/augurs.ts");
const neural = () => import("./models/neural.ts");
const nbeats = () => import("./models/nbeats.ts");

/** What the registry knows about one algorithm. */
export interface AlgorithmInfo {
  name: string;
  description: string;
  /** Builds an unfitted model. */
  create(params: Record<string, unknown>): Forecaster;
  /** Restores a fitted model from `toJSON()` output. */
  restore(state: ModelState): Promise<Forecaster> | Forecaster;
  /** The fewest points it fits on, for a seasonal period m. */
  minPoints(m: number): number;
  /** Parameter grid for `tune`. */
  grid: Record<string, unknown[]>;
}

const refit = (make: (p: Record<string, unknown>) => Forecaster) => async (s: ModelState) => {
  const m = make(s.params);
  await m.fit((s.state as { y: number[] }).y, { season: s.season });
  return m;
};

const baseline = (
  name: "naive" | "seasonal_naive" | "drift" | "naive2",
  description: string,
  min: (m: number) => number,
): AlgorithmInfo => ({
  name,
  description,
  create: () => new Baseline(name),
  restore: refit(() => new Baseline(name)),
  minPoints: min,
  grid: {},
});

const list: AlgorithmInfo[] = [
  baseline("naive", "last value carried forward", () => 2),
  baseline("seasonal_naive", "value one season ago", (m) => m + 1),
  baseline("drift", "random walk with drift", () => 3),
  baseline("naive2", "M4 Naive2: naive on the seasonally adjusted series", () => 2),
  {
    name: "auto_ets",
    description: "ETS (error/trend/season, damped) chosen by AICc",
    create: (p) => new AutoETS(p as { model?: string; damped?: boolean }),
    restore: (s) => AutoETS.fromState(s),
    // Shorter than two seasons (+2) it fits non-seasonal models only, as statsforecast does, and says so in describe().
    minPoints: () => 4,
    grid: { model: ["ZZZ", "ZZN", "ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA", "MNM", "MAM", "MAdM", "MNN", "MAdN"] },
  },
  {
    name: "auto_arima",
    description: "seasonal ARIMA, Hyndman–Khandakar stepwise search, exact ML",
    create: (p) => new AutoARIMA(p),
    restore: (s) => AutoARIMA.fromState(s),
    // Shorter than two seasons (+3) it searches non-seasonal models only and says so in describe().
    minPoints: () => 8,
    grid: { maxP: [2, 5], maxQ: [2, 5], maxSP: [0, 1, 2], maxSQ: [1, 2], maxOrder: [3, 5] },
  },
  {
    name: "theta",
    description: "Theta method (θ=2, SES, M4 seasonal adjustment)",
    create: (p) => new Theta(p as { theta?: number; seasonal?: boolean }),
    restore: (s) => Theta.fromState(s),
    minPoints: () => 4,
    grid: { theta: [1, 1.5, 2, 2.5, 3, 4], seasonal: [true, false] },
  },
  {
    name: "optimized_theta",
    description: "optimised Theta (θ, α, level by least squares)",
    create: (p) => new Theta({ ...(p as { seasonal?: boolean }), optimise: true }),
    restore: (s) => Theta.fromState(s),
    minPoints: () => 4,
    grid: { seasonal: [true, false] },
  },
  {
    name: "mstl",
    description: "MSTL decomposition (augurs), trend by AutoETS",
    create: (p) => new LazyForecaster("mstl", async () => new (await augurs()).Mstl(p)),
    restore: async (s) => (await augurs()).Mstl.fromState(s),
    // Shorter than two seasons it forecasts with a non-seasonal AutoETS and says so in describe().
    minPoints: () => 4,
    grid: { multiples: [[1], [1, 7], [1, 2], [1, 7, 14]] },
  },
  {
    name: "prophet",
    description: "Prophet (Stan model in wasm via augurs), MAP fit",
    create: (p) => new LazyForecaster("prophet", async () => new (await augurs()).Prophet(p)),
    restore: async (s) => (await augurs()).Prophet.fromState(s),
    minPoints: () => 3,
    grid: {
      changepointPriorScale: [0.001, 0.01, 0.05, 0.1, 0.5],
      seasonalityPriorScale: [0.1, 1, 10],
      seasonalityMode: ["additive", "multiplicative"],
    },
  },
  {
    name: "lstm",
    description: "LSTM on TensorFlow.js (seeded), conformal intervals",
    create: (p) => new LazyForecaster("lstm", async () => new (await neural()).NeuralForecaster("lstm", p)),
    restore: async (s) => (await neural()).NeuralForecaster.fromState(s),
    minPoints: (m) => Math.max(2, 2 * m) + 2 * Math.max(2, m) + 25,
    grid: { units: [8, 16], epochs: [10, 20] },
  },
  {
    name: "transformer",
    description: "one-block Transformer encoder on TensorFlow.js (seeded), conformal intervals",
    create: (p) =>
      new LazyForecaster("transformer", async () => new (await neural()).NeuralForecaster("transformer", p)),
    restore: async (s) => (await neural()).NeuralForecaster.fromState(s),
    minPoints: (m) => Math.max(2, 2 * m) + 2 * Math.max(2, m) + 25,
    grid: { units: [8, 16], epochs: [20, 40] },
  },
  {
    name: "nbeats",
    description:
      "N-BEATS MLP stacks on TensorFlow.js (seeded), one network across all series of a batch, conformal intervals",
    create: (p) => new LazyForecaster("nbeats", async () => new (await nbeats()).NBeats(p)),
    restore: async (s) => (await nbeats()).NBeats.fromState(s),
    // Shorter than its lookback, the input is padded with the first value; it trains on windows of the longer series.
    minPoints: () => 3,
    grid: { lookback: [2, 3, 5], units: [64, 128, 256], epochs: [5, 10, 20], blocks: [2, 3, 4] },
  },
];

/**
 * Algorithms that train one model across every series of a batch: `forecastBatch` fits them once over all its
 * series (an ensemble member of this kind too) instead of once a series.
 */
export const GLOBAL_ALGORITHMS: ReadonlySet<string> = new Set(["nbeats"]);

/** The registered algorithms by name. */
export const ALGORITHMS: ReadonlyMap<string, AlgorithmInfo> = new Map(list.map((a) => [a.name, a]));

const ALIASES: Record<string, string> = {
  snaive: "seasonal_naive",
  ets: "auto_ets",
  autoets: "auto_ets",
  arima: "auto_arima",
  autoarima: "auto_arima",
  otm: "optimized_theta",
  n_beats: "nbeats",
  autotheta: "optimized_theta",
  rwd: "drift",
};

/**
 * Looks an algorithm up by name or alias (`arima`, `ets`, `snaive`…); an
 * unknown name is a usage error listing the known ones.
 *
 * @example
 * ```ts
 * import { algorithm } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal(algorithm("arima").name, "auto_arima");
 * assert.throws(() => algorithm("magic"), /unknown algorithm "magic"/);
 * ```
 */
export function algorithm(name: string): AlgorithmInfo {
  const key = name.toLowerCase().replace(/-/g, "_");
  const info = ALGORITHMS.get(ALIASES[key] ?? key);
  if (!info) {
    throw new MercuryError("usage", `unknown algorithm "${name}"`, {
      where: "--algorithm",
      hint: `use one of ${[...ALGORITHMS.keys()].join(", ")}, or ensemble`,
    });
  }
  return info;
}
