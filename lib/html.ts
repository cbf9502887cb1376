/**
 * HTML escaping in a light module (no vega, no DuckDB), for plugins that
 * render HTML themselves. `@mercury/core/display` re-exports the same function.
 *
 * @module
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML element content and (quoted) attribute values:
 * `& < > " '` become entities.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "@mercury/core/html";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeHtml(`<a href="x">Tom & 'Jerry'</a>`),
 *   "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
