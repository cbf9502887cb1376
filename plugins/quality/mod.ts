/**
 * `@mercury/quality`: the plugin's public API and its manifest.
 *
 * @example
 * ```ts
 * import { hello, manifest } from "@mercury/quality";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "quality");
 * assert.equal(typeof hello, "function");
 * ```
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { hello } from "./commands/hello.ts";
