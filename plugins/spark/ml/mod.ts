/**
 * Spark ML from Deno through Spark Connect: `ops.ts` (fit, transform,
 * evaluate, save over Spark Connect's ML protocol), `train.ts` (a
 * cross-validated classification pipeline) and `log_model.ts` (the run and a
 * registered model version in MLflow, where the observe plugin finds models).
 *
 * @example Every combination of a parameter grid
 * ```ts
 * import { gridCombinations } from "@mercury/spark/ml";
 * import assert from "node:assert/strict";
 * assert.deepEqual(gridCombinations({ regParam: [0.01, 0.1], maxIter: [20] }), [
 *   { regParam: 0.01, maxIter: 20 },
 *   { regParam: 0.1, maxIter: 20 },
 * ]);
 * ```
 *
 * @module
 */
export {
  double,
  evaluate,
  fit,
  type MlParams,
  type MlParamValue,
  ModelRef,
  paramLiteral,
  saveStage,
  transform,
} from "./ops.ts";
export {
  type ClassifierName,
  CLASSIFIERS,
  type FoldScore,
  gridCombinations,
  parseGrid,
  syntheticClassification,
  trainClassifier,
  type TrainOptions,
  type TrainResult,
} from "./train.ts";
export { type LoggedModel, type LogOptions, logTrainResult } from "./log_model.ts";
