/**
 * N-BEATS (Oreshkin et al., 2020), generic architecture, as a **global** model: one network of fully connected
 * blocks trained on windows drawn from every series of a batch, on TensorFlow.js (wasm backend when it loads). Each
 * block maps its input (the lookback window minus what the blocks before it explained) through `layers` ReLU layers
 * to a backcast, subtracted from the input of the next block, and a forecast; the forecasts of all blocks add up.
 * Windows are scaled by their own mean and mean absolute deviation, so series of any level share one network; the
 * loss is the mean absolute error on that scale. Series shorter than the lookback are padded with their first value.
 *
 * Intervals are split conformal across the batch: the last window of each series (one per series in a batch of
 * 48 or more; more windows per series in small batches) is held out of training together with the horizon before it,
 * its absolute errors divided by the series' MASE scale are pooled per step, and a series' half-width is that
 * quantile (with the (n+1) correction) times its own scale.
 *
 * Seeded: initialisers, the sampled windows and their order come from `seed`; the same data and seed give the same
 * weights on one backend.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "@mercury/core/random";
import { DEFAULT_LEVELS, type FitContext, type Forecast, type Forecaster, type ModelState } from "../forecaster.ts";
import { quantile } from "../stats.ts";
import { initTf } from "./neural.ts";

/** Hyper-parameters of {@linkcode NBeats}. */
export interface NBeatsParams {
  /** Steps the network forecasts at once (default: the batch horizon, or 2 seasons clamped to 6–96). */
  horizon?: number;
  /**
   * Input length as a multiple of the horizon; a list trains one network per length and takes the median of their
   * forecasts, as N-BEATS' ensembles do (default [3, 5], chosen on the validation set).
   */
  lookback?: number | number[];
  /** Blocks (default 3). */
  blocks?: number;
  /** Hidden layers per block (default 2). */
  layers?: number;
  /** Units per hidden layer (default 128). */
  units?: number;
  /** Passes over the sampled windows (default 10). */
  epochs?: number;
  /** Training windows sampled from all series (default 12,000). */
  samples?: number;
  /** Windows are drawn from the last `history` horizons of each series (default 20). */
  history?: number;
  /** Adam's learning rate (default 0.001). */
  learningRate?: number;
  /** Mini-batch size (default 256). */
  batchSize?: number;
  seed?: number;
}

type Resolved = Required<Omit<NBeatsParams, "lookback">> & { lookback: number[] };

function resolve(p: NBeatsParams, season: number): Resolved {
  const horizon = p.horizon ?? Math.min(96, Math.max(6, 2 * season));
  return {
    horizon,
    lookback: typeof p.lookback === "number" ? [p.lookback] : p.lookback?.length ? p.lookback : [3, 5],
    blocks: p.blocks ?? 3,
    layers: p.layers ?? 2,
    units: p.units ?? 128,
    epochs: p.epochs ?? 10,
    samples: p.samples ?? 12_000,
    history: p.history ?? 20,
    learningRate: p.learningRate ?? 0.001,
    batchSize: p.batchSize ?? 256,
    seed: p.seed ?? 42,
  };
}

function build(L: number, H: number, p: Resolved): tf.LayersModel {
  let k = 0;
  const init = () => tf.initializers.glorotUniform({ seed: p.seed + ++k });
  const input = tf.input({ shape: [L] });
  let x: tf.SymbolicTensor = input;
  let forecast: tf.SymbolicTensor | null = null;
  for (let b = 0; b < p.blocks; b++) {
    let hdn = x;
    for (let l = 0; l < p.layers; l++) {
      hdn = tf.layers.dense({ units: p.units, activation: "relu", kernelInitializer: init() }).apply(
        hdn,
      ) as tf.SymbolicTensor;
    }
    const f = tf.layers.dense({ units: H, kernelInitializer: init() }).apply(hdn) as tf.SymbolicTensor;
    forecast = forecast ? tf.layers.add().apply([forecast, f]) as tf.SymbolicTensor : f;
    if (b < p.blocks - 1) {
      // x − backcast: the dense layer learns the negated backcast (tfjs layers have no subtract).
      const back = tf.layers.dense({ units: L, kernelInitializer: init() }).apply(hdn) as tf.SymbolicTensor;
      x = tf.layers.add().apply([x, back]) as tf.SymbolicTensor;
    }
  }
  return tf.model({ inputs: input, outputs: forecast! });
}

/** The window ending before `end` (exclusive), padded on the left with the first value, and its scale. */
function window(y: number[], end: number, L: number): { x: number[]; level: number; spread: number } {
  const start = end - L;
  const x = new Array<number>(L);
  const first = y[0]!;
  for (let i = 0; i < L; i++) x[i] = start + i >= 0 ? y[start + i]! : first;
  const real = y.slice(Math.max(0, start), end);
  let level = 0;
  for (const v of real) level += v;
  level /= real.length;
  let spread = 0;
  for (const v of real) spread += Math.abs(v - level);
  spread /= real.length;
  if (!(spread > 1e-8 * (1 + Math.abs(level)))) spread = Math.abs(level) > 0 ? Math.abs(level) * 0.01 : 1;
  return { x: x.map((v) => (v - level) / spread), level, spread };
}

/** Mean absolute seasonal difference (lag m, lag 1 when the series is too short; 1 when flat). */
function maseScale(y: number[], m: number): number {
  const lag = y.length > m ? m : 1;
  let s = 0, n = 0;
  for (let t = lag; t < y.length; t++) (s += Math.abs(y[t]! - y[t - lag]!)), n++;
  const v = n ? s / n : 0;
  return v > 0 ? v : Math.abs(y[y.length - 1] ?? 0) * 0.01 || 1;
}

/** What {@linkcode fitNBeats} returns: the trained network and everything needed to forecast each series. */
export interface NBeatsFit {
  /** Forecasts series `i` of the training batch (or any `y`) `h` steps ahead with conformal intervals. */
  forecast(y: number[], h: number, levels?: readonly number[], season?: number): Forecast;
  /** Forecasts many series in one network call per horizon chunk. */
  forecastMany(ys: number[][], h: number, levels?: readonly number[], season?: number): Forecast[];
  describe(): string;
  /** Parameters (resolved), weights and the pooled calibration errors. */
  state(): NBeatsState;
  seconds: number;
  dispose(): void;
}

/** The stored state of a trained N-BEATS network. */
export interface NBeatsState {
  params: Resolved;
  season: number;
  /** Per network (one per lookback), its weights. */
  weights: { shape: number[]; values: number[] }[][];
  /** Per step: calibration errors in units of each series' MASE scale. */
  calib: number[][];
  trainedOn: number;
}

const median = (v: number[]) => {
  const s = v.slice().sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
};

function makeFit(models: tf.LayersModel[], st: Omit<NBeatsState, "weights">, seconds: number): NBeatsFit {
  const { horizon: H } = st.params;
  const Ls = st.params.lookback.map((k) => k * H);
  const direct = (ys: number[][]): number[][] => {
    const each = models.map((model, j) => {
      const ws = ys.map((y) => window(y, y.length, Ls[j]!));
      const out = tf.tidy(() => {
        const X = tf.tensor2d(ws.map((w) => w.x));
        return (model.predict(X) as tf.Tensor).arraySync() as number[][];
      });
      return out.map((row, i) => row.map((v) => v * ws[i]!.spread + ws[i]!.level));
    });
    // A series that never went below zero is not forecast below zero (chosen on validation: MASE 1.015 → 1.007).
    return ys.map((y, i) =>
      each[0]![i]!.map((_, k) => {
        const v = median(each.map((e) => e[i]![k]!));
        return v < 0 && y.every((x) => x >= 0) ? 0 : v;
      })
    );
  };
  const forecastMany = (ys: number[][], h: number, levels: readonly number[] = DEFAULT_LEVELS, season = st.season) => {
    const ext = ys.map((y) => y.slice());
    const means: number[][] = ys.map(() => []);
    while (means[0]!.length < h) {
      const f = direct(ext);
      f.forEach((row, i) => {
        means[i]!.push(...row);
        ext[i]!.push(...row);
      });
    }
    return ys.map((y, i) => {
      const mean = means[i]!.slice(0, h);
      const scale = maseScale(y, season);
      const intervals = levels.map((level) => {
        const half = mean.map((_, k) => {
          const errs = st.calib[Math.min(k, H - 1)] ?? [];
          if (!errs.length) return NaN;
          const n = errs.length;
          const q = Math.min(1, Math.ceil((n + 1) * (level / 100)) / n);
          return quantile(errs, q) * scale * (k >= H ? Math.sqrt((k + 1) / H) : 1);
        });
        const floor = y.every((x) => x >= 0) ? 0 : -Infinity;
        return {
          level,
          lower: mean.map((m, k) => Math.max(floor, m - half[k]!)),
          upper: mean.map((m, k) => m + half[k]!),
        };
      });
      return { mean, intervals };
    });
  };
  return {
    forecast: (y, h, levels, season) => forecastMany([y], h, levels, season)[0]!,
    forecastMany,
    describe: () => {
      const p = st.params;
      return `N-BEATS(global over ${st.trainedOn} series, ${
        models.length > 1 ? `median of ${models.length} networks, ` : ""
      }lookback=${
        Ls.join("/")
      }, horizon=${H}, blocks=${p.blocks}×${p.layers}×${p.units}, epochs=${p.epochs}, seed=${p.seed})`;
    },
    state: () => ({
      ...st,
      weights: models.map((model) =>
        model.getWeights().map((w) => ({ shape: w.shape, values: Array.from(w.dataSync()) }))
      ),
    }),
    seconds,
    dispose: () => models.forEach((m) => m.dispose()),
  };
}

/**
 * Trains one N-BEATS network on all `series` (values oldest first, one season `season`) and returns it.
 *
 * @example
 * ```ts
 * import { fitNBeats } from "@mercury/forecast/neural";
 * import assert from "node:assert/strict";
 *
 * const ys = [0, 1, 2].map((k) => Array.from({ length: 60 }, (_, t) => 10 * (k + 1) + Math.sin((2 * Math.PI * t) / 6)));
 * const fit = await fitNBeats(ys, 6, { horizon: 6, lookback: 2, units: 8, epochs: 2, samples: 200 });
 * const f = fit.forecast(ys[1]!, 6, [90]);
 * assert.equal(f.mean.length, 6);
 * assert.ok(f.intervals[0]!.lower[0]! <= f.mean[0]!);
 * fit.dispose();
 * ```
 */
export async function fitNBeats(series: number[][], season: number, params: NBeatsParams = {}): Promise<NBeatsFit> {
  await initTf();
  const t0 = performance.now();
  const p = resolve(params, season);
  const H = p.horizon, L = Math.max(...p.lookback) * H;
  if (!series.length) throw new RangeError("nbeats needs at least one series");
  for (const y of series) {
    if (y.length < 2) throw new RangeError(`nbeats needs at least 2 points a series, got ${y.length}`);
  }
  // Calibration: the last c window ends of each series, with the horizon before them kept out of training.
  const cPer = Math.max(1, Math.min(24, Math.ceil(48 / series.length)));
  const trainPairs: [number, number][] = [];
  const calPairs: [number, number][] = [];
  const minEnd = (n: number) => Math.min(L, Math.max(1, Math.floor(n / 4)));
  series.forEach((y, s) => {
    const n = y.length;
    const lastEnd = n - H;
    if (lastEnd < 1) return; // too short to train on: forecast only (padded input)
    // At most a third of the usable window ends calibrate; the rest train.
    const c = Math.max(0, Math.min(cPer, Math.floor((lastEnd - H - minEnd(n) + 2) / 3)));
    for (let j = 0; j < c; j++) calPairs.push([s, lastEnd - j]);
    const hi = c > 0 ? lastEnd - c + 1 - H : lastEnd;
    const lo = Math.max(minEnd(n), hi - p.history * H);
    for (let e = lo; e <= hi; e++) trainPairs.push([s, e]);
  });
  if (!trainPairs.length) {
    throw new RangeError(`nbeats with horizon ${H} needs at least one series of at least ${H + 2} points`);
  }
  const rand = seededRandom(p.seed);
  const picks: [number, number][] = [];
  if (trainPairs.length <= p.samples) picks.push(...trainPairs);
  else for (let i = 0; i < p.samples; i++) picks.push(trainPairs[Math.floor(rand() * trainPairs.length)]!);
  for (let i = picks.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [picks[i], picks[j]] = [picks[j]!, picks[i]!];
  }
  const models: tf.LayersModel[] = [];
  for (const [j, k] of p.lookback.entries()) {
    const xs: number[][] = [], ts: number[][] = [];
    for (const [s, e] of picks) {
      const y = series[s]!;
      const w = window(y, e, k * H);
      xs.push(w.x);
      ts.push(y.slice(e, e + H).map((v) => (v - w.level) / w.spread));
    }
    const model = build(k * H, H, { ...p, seed: p.seed + 1000 * j });
    model.compile({ optimizer: tf.train.adam(p.learningRate), loss: "meanAbsoluteError" });
    const X = tf.tensor2d(xs), Y = tf.tensor2d(ts);
    await model.fit(X, Y, {
      epochs: p.epochs,
      batchSize: p.batchSize,
      shuffle: false,
      verbose: 0,
      yieldEvery: "never",
    });
    X.dispose();
    Y.dispose();
    models.push(model);
  }
  const st = { params: p, season, calib: [] as number[][], trainedOn: series.length };
  const fit = makeFit(models, st, 0);
  const calib: number[][] = Array.from({ length: H }, () => []);
  if (calPairs.length) {
    const fs = fit.forecastMany(calPairs.map(([s, e]) => series[s]!.slice(0, e)), H, []);
    calPairs.forEach(([s, e], i) => {
      const y = series[s]!;
      const scale = maseScale(y.slice(0, e), season);
      for (let k = 0; k < H; k++) calib[k]!.push(Math.abs(y[e + k]! - fs[i]!.mean[k]!) / scale);
    });
  }
  st.calib = calib;
  return makeFit(models, st, (performance.now() - t0) / 1000);
}

/** Rebuilds a trained network from {@linkcode NBeatsFit.state} (no retraining). */
export async function restoreNBeats(s: NBeatsState): Promise<NBeatsFit> {
  await initTf();
  const H = s.params.horizon;
  const models = s.params.lookback.map((k, j) => {
    const model = build(k * H, H, { ...s.params, seed: s.params.seed + 1000 * j });
    model.setWeights(s.weights[j]!.map((w) => tf.tensor(w.values, w.shape)));
    return model;
  });
  return makeFit(models, { params: s.params, season: s.season, calib: s.calib, trainedOn: s.trainedOn }, 0);
}

/**
 * N-BEATS behind the one-series {@linkcode Forecaster} contract: `fit()` trains the network on that series alone
 * (`forecast batch` trains one network across all series instead).
 *
 * @example
 * ```ts
 * import { NBeats } from "@mercury/forecast/neural";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 120 }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 12));
 * const m = new NBeats({ horizon: 6, lookback: 2, units: 8, epochs: 2, samples: 100 });
 * await m.fit(y, { season: 12 });
 * assert.equal(m.predict(6, [80]).mean.length, 6);
 * ```
 */
export class NBeats implements Forecaster {
  readonly algorithm = "nbeats";
  #params: NBeatsParams;
  #fit: NBeatsFit | null = null;
  #y: number[] = [];
  #m = 1;

  constructor(params: NBeatsParams = {}) {
    this.#params = params;
  }

  async fit(y: number[], ctx: FitContext): Promise<void> {
    this.#fit?.dispose();
    this.#y = y.slice();
    this.#m = ctx.season;
    // One series: a horizon of at most a third of it, so that enough windows remain to train on.
    const horizon = this.#params.horizon ??
      Math.max(1, Math.min(96, Math.max(6, 2 * ctx.season), Math.floor(y.length / 3)));
    this.#fit = await fitNBeats([this.#y], ctx.season, { ...this.#params, horizon });
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    if (!this.#fit) throw new Error("nbeats: fit() first");
    return this.#fit.forecast(this.#y, h, levels, this.#m);
  }

  fitted(): number[] {
    if (!this.#fit) throw new Error("nbeats: fit() first");
    const ends = this.#y.map((_, t) => t).filter((t) => t >= 1);
    const fs = this.#fit.forecastMany(ends.map((t) => this.#y.slice(0, t)), 1, []);
    return [NaN, ...fs.map((f) => f.mean[0]!)];
  }

  describe(): string {
    return this.#fit ? this.#fit.describe().replace("global over 1 series, ", "") : "nbeats (not fitted)";
  }

  toJSON(): ModelState {
    if (!this.#fit) throw new Error("nbeats: fit() first");
    return {
      algorithm: this.algorithm,
      params: { ...this.#params },
      season: this.#m,
      state: { y: this.#y, nbeats: this.#fit.state() },
    };
  }

  /** Restores the network from its stored weights. */
  static async fromState(s: ModelState): Promise<NBeats> {
    const m = new NBeats(s.params as NBeatsParams);
    const st = s.state as { y: number[]; nbeats: NBeatsState };
    m.#y = st.y;
    m.#m = s.season;
    m.#fit = await restoreNBeats(st.nbeats);
    return m;
  }
}
