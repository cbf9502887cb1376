/**
 * `@mercury/forecast/neural`: the LSTM and Transformer forecasters and the
 * global N-BEATS model on TensorFlow.js. A separate entry point so `@mercury/forecast` never loads
 * TensorFlow; the registry (`createForecaster("lstm")`) loads this on first fit.
 *
 * @example
 * ```ts
 * import { NeuralForecaster } from "@mercury/forecast/neural";
 * import assert from "node:assert/strict";
 *
 * const m = new NeuralForecaster("lstm", { lookback: 12, horizon: 6, epochs: 2, units: 4, calibration: 6 });
 * assert.equal(m.algorithm, "lstm");
 * ```
 *
 * @module
 */
export { initTf, NeuralForecaster, type NeuralParams } from "./models/neural.ts";
export {
  fitNBeats,
  NBeats,
  type NBeatsFit,
  type NBeatsParams,
  type NBeatsState,
  restoreNBeats,
} from "./models/nbeats.ts";
