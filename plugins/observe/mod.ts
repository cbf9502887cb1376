/**
 * `@mercury/observe`: the plugin's public API and its manifest.
 *
 * @example
 * ```ts
 * import { hello, manifest } from "@mercury/observe";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "observe");
 * assert.equal(typeof hello, "function");
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { hello } from "./commands/hello.ts";
