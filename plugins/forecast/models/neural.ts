/**
 * Small seeded neural forecasters on TensorFlow.js (wasm backend when it
 * loads, else the CPU one): an LSTM and a one-block Transformer encoder
 * (single-head self-attention with a residual, a residual feed-forward layer, sinusoidal positions; no layer normalisation — the inputs are already scaled, and tfjs's LayerNormalization made training 6× slower). Both map
 * the last `lookback` values, scaled by the window mean and the series' spread,
 * to the next `horizon` values at once (direct multi-step). Intervals are split
 * conformal: the last `calibration` windows are held out of training and their
 * absolute errors per step give the interval half-widths.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import {
  DEFAULT_LEVELS,
  type FitContext,
  type Forecast,
  type Forecaster,
  type Interval,
  type ModelState,
} from "../forecaster.ts";
import { mean, quantile } from "../stats.ts";
import { seededRandom } from "@mercury/core/random";

let backend: Promise<string> | null = null;
/** Selects the wasm backend once (falls back to cpu); returns its name. */
export function initTf(): Promise<string> {
  return backend ??= (async () => {
    try {
      const dist = new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).href;
      setWasmPaths(new URL("../wasm-out/", dist).href);
      if (!(await tf.setBackend("wasm"))) await tf.setBackend("cpu");
    } catch {
      await tf.setBackend("cpu");
    }
    await tf.ready();
    return tf.getBackend();
  })();
}

/** Hyper-parameters of the neural models. */
export interface NeuralParams {
  lookback?: number;
  horizon?: number;
  units?: number;
  epochs?: number;
  learningRate?: number;
  seed?: number;
  /** Windows held out for conformal intervals (default 24). */
  calibration?: number;
  /** Steps between training windows (default 2: half the windows, half the training time). */
  stride?: number;
}

class SelfAttention extends tf.layers.Layer {
  static className = "MercurySelfAttention";
  #d: number;
  #seed: number;
  wq!: tf.LayerVariable;
  wk!: tf.LayerVariable;
  wv!: tf.LayerVariable;
  constructor(config: { d: number; seed: number }) {
    super({});
    this.#d = config.d;
    this.#seed = config.seed;
  }
  override build(): void {
    const init = (s: number) => tf.initializers.glorotUniform({ seed: this.#seed + s });
    this.wq = this.addWeight("wq", [this.#d, this.#d], "float32", init(1));
    this.wk = this.addWeight("wk", [this.#d, this.#d], "float32", init(2));
    this.wv = this.addWeight("wv", [this.#d, this.#d], "float32", init(3));
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const [b, L, d] = x.shape;
      const flat = tf.reshape(x, [b * L, d]);
      const proj = (w: tf.LayerVariable) =>
        tf.reshape(tf.matMul(flat, w.read() as tf.Tensor2D), [b, L, d]) as tf.Tensor3D;
      const q = proj(this.wq), k = proj(this.wk), v = proj(this.wv);
      const att = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(this.#d)));
      return tf.add(x, tf.matMul(att, v));
    });
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return s;
  }
  override getConfig() {
    return { ...super.getConfig(), d: this.#d, seed: this.#seed };
  }
}
tf.serialization.registerClass(SelfAttention);

function positional(L: number, d: number): number[][] {
  return Array.from(
    { length: L },
    (_, p) =>
      Array.from(
        { length: d },
        (_, i) => (i % 2 === 0 ? Math.sin : Math.cos)(p / 10000 ** ((2 * Math.floor(i / 2)) / d)),
      ),
  );
}

function build(kind: "lstm" | "transformer", L: number, H: number, units: number, seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  if (kind === "lstm") {
    return tf.sequential({
      layers: [
        tf.layers.lstm({ units, inputShape: [L, 1], kernelInitializer: init(1), recurrentInitializer: init(2) }),
        tf.layers.dense({ units: H, kernelInitializer: init(3) }),
      ],
    });
  }
  const input = tf.input({ shape: [L, 2] });
  let x = tf.layers.dense({ units, kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  x = new SelfAttention({ d: units, seed: seed + 10 }).apply(x) as tf.SymbolicTensor;
  const ff = tf.layers.dense({ units, activation: "relu", kernelInitializer: init(4) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.add().apply([x, ff]) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: H, kernelInitializer: init(5) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/**
 * LSTM or Transformer forecaster.
 *
 * @example
 * ```ts
 * import { NeuralForecaster } from "@mercury/forecast/neural";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 120 }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 12));
 * const m = new NeuralForecaster("lstm", { lookback: 12, horizon: 6, epochs: 2, units: 4 });
 * await m.fit(y, { season: 12 });
 * assert.equal(m.predict(6, [80]).intervals[0]!.lower.length, 6);
 * ```
 */
export class NeuralForecaster implements Forecaster {
  readonly algorithm: "lstm" | "transformer";
  #p: Required<NeuralParams>;
  #y: number[] = [];
  #m = 1;
  #scale = 1;
  #model: tf.LayersModel | null = null;
  #calib: number[][] = []; // per step: absolute calibration errors

  constructor(kind: "lstm" | "transformer", params: NeuralParams = {}) {
    this.algorithm = kind;
    this.#p = {
      lookback: params.lookback ?? 48,
      horizon: params.horizon ?? 48,
      units: params.units ?? (kind === "lstm" ? 16 : 16),
      epochs: params.epochs ?? (kind === "lstm" ? 10 : 30),
      learningRate: params.learningRate ?? 0.005,
      seed: params.seed ?? 42,
      calibration: params.calibration ?? 24,
      stride: params.stride ?? 2,
    };
  }

  #window(end: number, y: number[]): { x: number[]; level: number } {
    const L = this.#p.lookback;
    const w = y.slice(end - L, end);
    const level = mean(w);
    return { x: w.map((v) => (v - level) / this.#scale), level };
  }

  #tensor(xs: number[][]): tf.Tensor3D {
    const L = this.#p.lookback;
    if (this.algorithm === "lstm") return tf.tensor3d(xs.map((x) => x.map((v) => [v])));
    const pos = positional(L, 2).map((r) => r[0]!);
    return tf.tensor3d(xs.map((x) => x.map((v, i) => [v, pos[i]!])));
  }

  async fit(y: number[], ctx: FitContext): Promise<void> {
    await initTf();
    const { lookback: L, horizon: H, calibration: C, seed } = this.#p;
    if (y.length < L + H + 1) {
      throw new RangeError(
        `${this.algorithm} needs at least ${L + H + 1} points (lookback + horizon + 1), got ${y.length}`,
      );
    }
    this.#y = y.slice();
    this.#m = ctx.season;
    const mu = mean(y);
    this.#scale = Math.sqrt(mean(y.map((v) => (v - mu) ** 2))) || 1;
    const ends: number[] = [];
    for (let e = L; e + H <= y.length; e++) ends.push(e);
    const nCal = Math.min(C, Math.max(0, ends.length - 20));
    const trainEnds = ends.slice(0, ends.length - nCal).filter((_, i, a) => (a.length - 1 - i) % this.#p.stride === 0);
    const calEnds = ends.slice(ends.length - nCal);
    const rand = seededRandom(seed);
    for (let i = trainEnds.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [trainEnds[i], trainEnds[j]] = [trainEnds[j]!, trainEnds[i]!];
    }
    const xs: number[][] = [], ys: number[][] = [];
    for (const e of trainEnds) {
      const w = this.#window(e, y);
      xs.push(w.x);
      ys.push(y.slice(e, e + H).map((v) => (v - w.level) / this.#scale));
    }
    this.#model?.dispose();
    const model = build(this.algorithm, L, H, this.#p.units, seed);
    model.compile({ optimizer: tf.train.adam(this.#p.learningRate), loss: "meanSquaredError" });
    const X = this.#tensor(xs), Y = tf.tensor2d(ys);
    await model.fit(X, Y, { epochs: this.#p.epochs, batchSize: 64, shuffle: false, verbose: 0 });
    X.dispose();
    Y.dispose();
    this.#model = model;
    this.#calib = Array.from({ length: H }, () => []);
    for (const e of calEnds) {
      const f = this.#direct(e, y);
      for (let k = 0; k < H; k++) this.#calib[k]!.push(Math.abs(y[e + k]! - f[k]!));
    }
  }

  #direct(end: number, y: number[]): number[] {
    const w = this.#window(end, y);
    const X = this.#tensor([w.x]);
    const out = tf.tidy(() => (this.#model!.predict(X) as tf.Tensor).dataSync());
    X.dispose();
    return Array.from(out, (v) => v * this.#scale + w.level);
  }

  fitted(): number[] {
    const { lookback: L } = this.#p;
    return this.#y.map((_, t) => (t >= L ? this.#direct(t, this.#y)[0]! : NaN));
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    if (!this.#model) throw new Error(`${this.algorithm}: fit() first`);
    const H = this.#p.horizon;
    const ext = this.#y.slice();
    const mean: number[] = [];
    while (mean.length < h) {
      const f = this.#direct(ext.length, ext);
      mean.push(...f);
      ext.push(...f);
    }
    mean.length = h;
    const intervals: Interval[] = levels.map((level) => {
      const half = mean.map((_, i) => {
        const errs = this.#calib[Math.min(i, H - 1)] ?? [];
        if (!errs.length) return NaN;
        const n = errs.length;
        const q = Math.min(1, Math.ceil((n + 1) * (level / 100)) / n);
        return quantile(errs, q) * (i >= H ? Math.sqrt((i + 1) / H) : 1);
      });
      return { level, lower: mean.map((m, i) => m - half[i]!), upper: mean.map((m, i) => m + half[i]!) };
    });
    return { mean, intervals };
  }

  describe(): string {
    return `${
      this.algorithm === "lstm" ? "LSTM" : "Transformer"
    }(lookback=${this.#p.lookback}, horizon=${this.#p.horizon}, units=${this.#p.units}, epochs=${this.#p.epochs}, seed=${this.#p.seed})`;
  }

  toJSON(): ModelState {
    if (!this.#model) throw new Error(`${this.algorithm}: fit() first`);
    const weights = this.#model.getWeights().map((w) => ({ shape: w.shape, values: Array.from(w.dataSync()) }));
    return {
      algorithm: this.algorithm,
      params: { ...this.#p },
      season: this.#m,
      state: { y: this.#y, scale: this.#scale, calib: this.#calib, weights },
    };
  }

  /** Restores the network from its stored weights (no retraining). */
  static async fromState(s: ModelState): Promise<NeuralForecaster> {
    await initTf();
    const m = new NeuralForecaster(s.algorithm as "lstm" | "transformer", s.params as NeuralParams);
    const st = s.state as {
      y: number[];
      scale: number;
      calib: number[][];
      weights: { shape: number[]; values: number[] }[];
    };
    m.#y = st.y;
    m.#m = s.season;
    m.#scale = st.scale;
    m.#calib = st.calib;
    const model = build(m.algorithm, m.#p.lookback, m.#p.horizon, m.#p.units, m.#p.seed);
    model.setWeights(st.weights.map((w) => tf.tensor(w.values, w.shape)));
    m.#model = model;
    return m;
  }
}
