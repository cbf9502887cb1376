/**
 * Text from a user's file made safe for a one-line terminal message.
 *
 * @module
 */

/**
 * Escapes control characters (C0, DEL, C1) as `\xNN` and cuts long text, so a
 * binary file quoted in an error never reaches the terminal as raw bytes.
 *
 * @example
 * ```ts
 * import { printable } from "./_printable.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(printable("a\u0000b\u001b[2J\n"), "a\\x00b\\x1b[2J\\x0a");
 * assert.equal(printable("x".repeat(500), 10), "xxxxxxxxxx…");
 * ```
 */
export function printable(text: string, max = 200): string {
  const cut = text.length > max ? text.slice(0, max) + "…" : text;
  // deno-lint-ignore no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
