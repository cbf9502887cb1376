/**
 * `@mercury/forecast/prophet`: Prophet and MSTL through augurs (wasm). A
 * separate entry point so `@mercury/forecast` never loads the wasm modules;
 * the registry (`createForecaster("prophet")`, `"mstl"`) loads this on first fit.
 *
 * @example
 * ```ts
 * import { Mstl } from "@mercury/forecast/prophet";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 96 }, (_, t) => 20 + 5 * Math.sin((2 * Math.PI * t) / 24));
 * const m = new Mstl();
 * await m.fit(y, { season: 24 });
 * assert.equal(m.predict(24).mean.length, 24);
 * ```
 *
 * @module
 */
export { initAugurs, Mstl, type MstlParams, Prophet, type ProphetParams } from "./models/augurs.ts";
