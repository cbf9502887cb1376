/**
 * Shareable query links: the SQL lives in the URL's hash (`#sql=…`), so it never reaches a server log and the
 * link works for anyone who can open the UI.
 *
 * @example A query round-trips through a link
 * ```ts
 * import { queryFromHash, shareHash } from "./share.ts";
 * import assert from "node:assert/strict";
 *
 * const sql = "select region, sum(qty) as \"total #\" from sales -- 100%\ngroup by 1";
 * assert.equal(queryFromHash(shareHash(sql)), sql);
 * assert.equal(queryFromHash("#other=1"), undefined);
 * ```
 *
 * @module
 */

/** The hash (with `#`) of a link to `sql`. */
export function shareHash(sql: string): string {
  return `#sql=${encodeURIComponent(sql)}`;
}

/** The SQL of a link's hash, or undefined when the hash names none. */
export function queryFromHash(hash: string): string | undefined {
  const v = new URLSearchParams(hash.replace(/^#/, "")).get("sql");
  return v === null || !v.trim() ? undefined : v;
}
