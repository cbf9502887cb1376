/**
 * A forecaster whose implementation module loads on first use: the registry
 * builds LSTM, Transformer (TensorFlow.js) and MSTL, Prophet (augurs wasm)
 * through it, so importing `@mercury/forecast` loads neither and a program
 * that never fits one of them never does.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { FitContext, Forecast, Forecaster, ModelState } from "./forecaster.ts";

/**
 * A {@linkcode Forecaster} that loads and builds the real model (`make`) when
 * it is first fitted, then forwards every call to it. Before `fit()`,
 * `describe()` says it is not fitted and the other methods throw.
 *
 * @example
 * ```ts
 * import { LazyForecaster } from "./_lazy_model.ts";
 * import { Baseline } from "./models/baseline.ts";
 * import assert from "node:assert/strict";
 *
 * let loads = 0;
 * const m = new LazyForecaster("naive", async () => (loads++, new Baseline("naive")));
 * assert.equal(m.describe(), "naive (not fitted)");
 * assert.equal(loads, 0);
 * await m.fit([1, 2, 3], { season: 1 });
 * assert.deepEqual(m.predict(2, [80]).mean, [3, 3]);
 * assert.equal(loads, 1);
 * ```
 */
export class LazyForecaster implements Forecaster {
  readonly algorithm: string;
  #make: () => Promise<Forecaster>;
  #model: Forecaster | null = null;

  constructor(algorithm: string, make: () => Promise<Forecaster>) {
    this.algorithm = algorithm;
    this.#make = make;
  }

  async fit(y: number[], ctx: FitContext): Promise<void> {
    const model = await this.#make();
    await model.fit(y, ctx);
    this.#model = model;
  }

  predict(h: number, levels?: number[]): Forecast {
    return this.#fitted().predict(h, levels);
  }

  fitted(): number[] {
    return this.#fitted().fitted();
  }

  describe(): string {
    return this.#model ? this.#model.describe() : `${this.algorithm} (not fitted)`;
  }

  toJSON(): ModelState {
    return this.#fitted().toJSON();
  }

  #fitted(): Forecaster {
    if (!this.#model) {
      throw new MercuryError("usage", `${this.algorithm}: fit() first`, { hint: "fit the model before using it" });
    }
    return this.#model;
  }
}
