/**
 * The registered algorithm names, as plain strings: what the light manifest
 * lists in `--help` without loading the registry (whose neural and wasm
 * models load on first use). A test checks it against `ALGORITHMS`.
 *
 * @module
 */

/** Every algorithm of the registry, in registry order. */
export const ALGORITHM_NAMES: readonly string[] = [
  "naive",
  "seasonal_naive",
  "drift",
  "naive2",
  "auto_ets",
  "auto_arima",
  "theta",
  "optimized_theta",
  "mstl",
  "prophet",
  "lstm",
  "transformer",
  "nbeats",
];
