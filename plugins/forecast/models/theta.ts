/**
 * The Theta method (Assimakopoulos & Nikolopoulos 2000) as the M4 competition
 * ran it — classical multiplicative seasonal adjustment when the 90%
 * autocorrelation test says so, the θ=2 line smoothed by SES, combined 50/50
 * with the linear trend — and the optimised Theta method (θ, α and the initial
 * level chosen by least squares, Fiorucci et al. 2016).
 *
 * @module
 */
import {
  DEFAULT_LEVELS,
  type FitContext,
  type Forecast,
  type Forecaster,
  type ModelState,
  normalIntervals,
  residualSd,
} from "../forecaster.ts";
import { nelderMead } from "../optim.ts";
import { classicalIndices, linearFit, seasonalityTest } from "../stats.ts";

interface ThetaFit {
  theta: number;
  alpha: number;
  l0: number;
  a: number;
  b: number;
  indices: number[] | null;
}

function ses(z: number[], alpha: number, l0: number): { fitted: number[]; level: number } {
  let l = l0;
  const fitted = new Array<number>(z.length);
  for (let t = 0; t < z.length; t++) {
    fitted[t] = l;
    l = l + alpha * (z[t]! - l);
  }
  return { fitted, level: l };
}

function combine(x: number[], f: Omit<ThetaFit, "indices">) {
  const w = 1 / f.theta;
  const z = x.map((v, t) => f.theta * v + (1 - f.theta) * (f.a + f.b * t));
  const s = ses(z, f.alpha, f.l0);
  const fitted = s.fitted.map((v, t) => w * v + (1 - w) * (f.a + f.b * t));
  return { fitted, level: s.level };
}

/**
 * Theta (`optimise: false`, θ = 2) and optimised Theta (`optimise: true`).
 *
 * @example
 * ```ts
 * import { Theta } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const m = new Theta();
 * await m.fit(Array.from({ length: 40 }, (_, t) => 10 + 0.5 * t), { season: 1 });
 * const f = m.predict(5, [80]);
 * assert.ok(f.mean[4]! > f.mean[0]!);
 * ```
 */
export class Theta implements Forecaster {
  readonly algorithm: "theta" | "optimized_theta";
  #y: number[] = [];
  #m = 1;
  #fit: ThetaFit | null = null;

  #theta: number;
  #seasonal: boolean;

  /**
   * `theta`: the fixed θ of the classic method (default 2, M4's; ignored when optimised); `seasonal: false` skips the
   * seasonal adjustment even when the 90% ACF test asks for it (both searched by `tune`).
   */
  constructor(params: { optimise?: boolean; theta?: number; seasonal?: boolean } = {}) {
    this.algorithm = params.optimise ? "optimized_theta" : "theta";
    this.#theta = params.theta ?? 2;
    this.#seasonal = params.seasonal ?? true;
    if (!(this.#theta >= 1 && this.#theta <= 10)) throw new RangeError(`theta must be in [1, 10], got ${params.theta}`);
  }

  fit(y: number[], ctx: FitContext): Promise<void> {
    this.#y = y.slice();
    this.#m = Math.max(1, ctx.season);
    const indices = this.#seasonal && seasonalityTest(y, this.#m) && y.every((v) => v > 0)
      ? classicalIndices(y, this.#m)
      : null;
    const x = indices ? y.map((v, t) => v / indices[t % this.#m]!) : y.slice();
    const [a, b] = linearFit(x);
    const optimise = this.algorithm === "optimized_theta";
    const sse = (p: number[]) => {
      const [theta, alpha, l0] = optimise ? p : [this.#theta, p[0]!, p[1]!];
      if (!(alpha! > 1e-4 && alpha! < 0.9999) || !(theta! >= 1 && theta! <= 10)) return Infinity;
      const c = combine(x, { theta: theta!, alpha: alpha!, l0: l0!, a, b });
      let s = 0;
      for (let t = 0; t < x.length; t++) s += (x[t]! - c.fitted[t]!) ** 2;
      return s;
    };
    const x0 = optimise ? [2, 0.3, x[0]!] : [0.3, x[0]!];
    const r = nelderMead(sse, x0, { maxEval: 600, tol: 1e-9 });
    const p = optimise ? r.x : [this.#theta, ...r.x];
    this.#fit = { theta: p[0]!, alpha: p[1]!, l0: p[2]!, a, b, indices };
    return Promise.resolve();
  }

  #need(): ThetaFit {
    if (!this.#fit) throw new Error("Theta: fit() first");
    return this.#fit;
  }

  #adjusted(): number[] {
    const f = this.#need();
    return f.indices ? this.#y.map((v, t) => v / f.indices![t % this.#m]!) : this.#y;
  }

  fitted(): number[] {
    const f = this.#need();
    const c = combine(this.#adjusted(), f);
    return c.fitted.map((v, t) => (f.indices ? v * f.indices[t % this.#m]! : v));
  }

  predict(h: number, levels: readonly number[] = DEFAULT_LEVELS): Forecast {
    const f = this.#need();
    const x = this.#adjusted();
    const n = x.length;
    const c = combine(x, f);
    const w = 1 / f.theta;
    const s = residualSd(x.map((v, t) => v - c.fitted[t]!), 2);
    const mean: number[] = [];
    const sd: number[] = [];
    for (let i = 1; i <= h; i++) {
      const si = f.indices ? f.indices[(n + i - 1) % this.#m]! : 1;
      mean.push((w * c.level + (1 - w) * (f.a + f.b * (n - 1 + i))) * si);
      sd.push(s * Math.sqrt(1 + (i - 1) * f.alpha * f.alpha) * si);
    }
    return { mean, intervals: normalIntervals(mean, sd, levels) };
  }

  describe(): string {
    const f = this.#fit;
    return f
      ? `Theta(θ=${f.theta.toFixed(2)}, α=${f.alpha.toFixed(3)}${f.indices ? ", seasonally adjusted" : ""})`
      : this.algorithm;
  }

  toJSON(): ModelState {
    return { algorithm: this.algorithm, params: {}, season: this.#m, state: { y: this.#y, fit: this.#need() } };
  }

  /** Restores a model written by `toJSON()`. */
  static fromState(s: ModelState): Theta {
    const m = new Theta({ optimise: s.algorithm === "optimized_theta" });
    const st = s.state as { y: number[]; fit: ThetaFit };
    m.#y = st.y;
    m.#m = s.season;
    m.#fit = st.fit;
    return m;
  }
}
