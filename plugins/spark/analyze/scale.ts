/**
 * Scale beyond this machine, on paper: a model fitted to a workload measured
 * at several input sizes on the local cluster, extrapolated to terabytes and
 * petabytes on N executors, with its assumptions stated.
 *
 * The model, per pass of the workload (e.g. TPC-H's 22 queries):
 *
 *     wall(D, N) = fixed + work(D) / (N · c · e) + shuffle(D) / (N · bandwidth)
 *     work(D)    = w · D           (task core-seconds, linear in the input)
 *     shuffle(D) = h · D           (bytes written to shuffle, linear in the input)
 *
 * `fixed` is what does not grow with the data (planning, scheduling, the
 * driver, result collection): the intercept of the measured wall times
 * against input GB. `w` and `h` are least-squares slopes through the origin
 * of the measured task core-seconds and shuffle bytes against input GB. `c`
 * is the cores per executor and `e` the parallel efficiency assumed at the
 * target's scale (the measured cluster's own is reported as
 * `localEfficiency`: task core-seconds over cores × the wall time beyond
 * `fixed`); the shuffle crosses the network at `bandwidth` per executor.
 * Cost is what {@linkcode cost} charges for holding N executors for that wall
 * time.
 *
 * @example
 * ```ts
 * import { extrapolate, fitScale } from "@mercury/spark/analyze";
 * import assert from "node:assert/strict";
 *
 * const model = fitScale([
 *   { label: "SF1", inputGB: 1, cores: 2, wallS: 60, taskCoreS: 100, shuffleGB: 0.5 },
 *   { label: "SF10", inputGB: 10, cores: 2, wallS: 530, taskCoreS: 1000, shuffleGB: 5 },
 * ]);
 * assert.equal(model.coreSPerGB, 100);
 * const tb = extrapolate(model, { inputGB: 1000, executors: 100, coresPerExecutor: 4, memoryGbPerExecutor: 16 });
 * assert.ok(tb.wallS > model.fixedS);
 * ```
 *
 * @module
 */
import { cost, DEFAULT_PRICES, type Prices } from "./analysis.ts";

/** One measured size of the workload on the local cluster. */
export interface ScaleSample {
  label: string;
  /** Size of the input read (e.g. the Parquet files), GB. */
  inputGB: number;
  /** Executor cores of the cluster it ran on. */
  cores: number;
  /** Wall time of one pass, seconds. */
  wallS: number;
  /** Task run time of one pass, core-seconds (Spark's executorRunTime summed). */
  taskCoreS: number;
  /** Shuffle bytes written in one pass, GB. */
  shuffleGB: number;
}

/** The fitted model. */
export interface ScaleModel {
  /** Seconds per pass that do not grow with the data: the intercept of wall time against input GB (≥ 0). */
  fixedS: number;
  /** How well the measured cluster kept its cores busy beyond `fixedS` (1 = every core busy all the time). */
  localEfficiency: number;
  /** Task core-seconds per input GB. */
  coreSPerGB: number;
  /** Shuffle GB written per input GB. */
  shufflePerInputGB: number;
  /** Each sample's residual: measured wall / modelled wall on its own cluster. */
  fit: { label: string; measuredS: number; modelS: number }[];
}

/** Where the model is asked to go. */
export interface ScaleTarget {
  inputGB: number;
  executors: number;
  coresPerExecutor: number;
  memoryGbPerExecutor: number;
  /** Parallel efficiency assumed at that scale (default 0.7: stragglers, skew, scheduling). */
  efficiency?: number;
  /** Network bandwidth per executor for the shuffle, GB/s (default 1.25: 10 Gbit/s). */
  networkGBps?: number;
  prices?: Prices;
}

/** One extrapolated point. */
export interface ScaleEstimate {
  inputGB: number;
  executors: number;
  wallS: number;
  computeS: number;
  shuffleS: number;
  shuffleGB: number;
  coreHours: number;
  money: number;
  currency: string;
}

const slope = (xs: number[], ys: number[]) =>
  xs.reduce((a, x, i) => a + x * ys[i]!, 0) / xs.reduce((a, x) => a + x * x, 0);

/** Fits the model to two or more sizes (it refuses fewer: one size cannot tell fixed from per-GB time). */
export function fitScale(samples: ScaleSample[]): ScaleModel {
  const sizes = new Set(samples.map((s) => s.inputGB));
  if (sizes.size < 2) throw new RangeError("fitScale needs samples at two or more input sizes");
  const gb = samples.map((s) => s.inputGB);
  const coreSPerGB = slope(gb, samples.map((s) => s.taskCoreS));
  const shufflePerInputGB = slope(gb, samples.map((s) => s.shuffleGB));
  // Ordinary least squares of wall time on input GB: its intercept is the part that does not grow with the data.
  const n = samples.length;
  const mx = gb.reduce((a, x) => a + x, 0) / n;
  const my = samples.reduce((a, s) => a + s.wallS, 0) / n;
  const b = samples.reduce((a, s) => a + (s.inputGB - mx) * (s.wallS - my), 0) /
    gb.reduce((a, x) => a + (x - mx) ** 2, 0);
  const fixedS = Math.max(0, my - b * mx);
  const localEfficiency = samples.reduce((a, s) => a + s.taskCoreS / s.cores / Math.max(1e-9, s.wallS - fixedS), 0) /
    n;
  const fit = samples.map((s) => ({
    label: s.label,
    measuredS: s.wallS,
    modelS: fixedS + (coreSPerGB * s.inputGB) / (s.cores * localEfficiency),
  }));
  return { fixedS, localEfficiency, coreSPerGB, shufflePerInputGB, fit };
}

/** Wall time, shuffle and cost of one pass at `target`, by the fitted model. */
export function extrapolate(model: ScaleModel, target: ScaleTarget): ScaleEstimate {
  const e = target.efficiency ?? 0.7;
  const bw = target.networkGBps ?? 1.25;
  const prices = target.prices ?? DEFAULT_PRICES;
  const slots = target.executors * target.coresPerExecutor;
  const computeS = (model.coreSPerGB * target.inputGB) / (slots * e);
  const shuffleGB = model.shufflePerInputGB * target.inputGB;
  const shuffleS = shuffleGB / (target.executors * bw);
  const wallS = model.fixedS + computeS + shuffleS;
  const c = cost(wallS * 1000, target.executors, target.coresPerExecutor, target.memoryGbPerExecutor * 1024, prices);
  return {
    inputGB: target.inputGB,
    executors: target.executors,
    wallS,
    computeS,
    shuffleS,
    shuffleGB,
    coreHours: c.coreHours,
    money: c.money,
    currency: prices.currency,
  };
}

/** One machine running the same workload in-process (DuckDB), fitted from its measured times. */
export interface SingleNodeModel {
  /** Seconds per pass that do not grow with the data (intercept, ≥ 0). */
  fixedS: number;
  /** Seconds per input GB on the measured machine. */
  sPerGB: number;
  /** Cores of the measured machine. */
  cores: number;
}

/**
 * Fits wall = fixed + s · D to one engine's times on one machine at two or more sizes (ordinary least squares).
 *
 * @example
 * ```ts
 * import { fitSingleNode, singleNodeCapacityGB } from "@mercury/spark/analyze";
 * import assert from "node:assert/strict";
 *
 * const duck = fitSingleNode([{ inputGB: 1, wallS: 11 }, { inputGB: 10, wallS: 101 }], 2);
 * assert.equal(Math.round(duck.sPerGB), 10);
 * assert.equal(Math.round(singleNodeCapacityGB(duck, 601)), 60); // 600 s of work at 10 s per GB
 * ```
 */
export function fitSingleNode(samples: { inputGB: number; wallS: number }[], cores: number): SingleNodeModel {
  if (new Set(samples.map((s) => s.inputGB)).size < 2) {
    throw new RangeError("fitSingleNode needs samples at two or more input sizes");
  }
  const n = samples.length;
  const mx = samples.reduce((a, s) => a + s.inputGB, 0) / n;
  const my = samples.reduce((a, s) => a + s.wallS, 0) / n;
  const sPerGB = samples.reduce((a, s) => a + (s.inputGB - mx) * (s.wallS - my), 0) /
    samples.reduce((a, s) => a + (s.inputGB - mx) ** 2, 0);
  return { fixedS: Math.max(0, my - sPerGB * mx), sPerGB, cores };
}

/**
 * The largest input one machine of `cores` cores finishes within `budgetS`, if the measured per-core rate holds at
 * that size and scales to `cores` with `efficiency` (1 on the measured machine itself). 0 when the budget does not
 * cover the fixed part.
 */
export function singleNodeCapacityGB(m: SingleNodeModel, budgetS: number, cores = m.cores, efficiency = 1): number {
  const sPerGB = (m.sPerGB * m.cores) / (cores * (cores === m.cores ? 1 : efficiency));
  return Math.max(0, (budgetS - m.fixedS) / sPerGB);
}

/**
 * Executors of `coresPerExecutor` cores the Spark model needs to finish `inputGB` within `budgetS` (rounded up;
 * `Infinity` when the budget does not cover the model's fixed part), with the same defaults as
 * {@linkcode extrapolate}.
 */
export function executorsFor(
  model: ScaleModel,
  inputGB: number,
  budgetS: number,
  coresPerExecutor: number,
  efficiency = 0.7,
  networkGBps = 1.25,
): number {
  const room = budgetS - model.fixedS;
  if (room <= 0) return Infinity;
  const perExecutorS = (model.coreSPerGB * inputGB) / (coresPerExecutor * efficiency) +
    (model.shufflePerInputGB * inputGB) / networkGBps;
  return Math.max(1, Math.ceil(perExecutorS / room));
}
