/**
 * `@mercury/privacy`: the plugin's public API and its manifest.
 *
 * @example
 * ```ts
 * import { hello, manifest } from "@mercury/privacy";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "privacy");
 * assert.equal(typeof hello, "function");
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { hello } from "./commands/hello.ts";
