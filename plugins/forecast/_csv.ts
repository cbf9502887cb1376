/**
 * Rows as CSV text, the format every `forecast` command writes.
 *
 * @module
 */

/**
 * CSV of `rows` with the first row's keys as the header; strings holding a
 * comma, quote or newline are quoted (quotes doubled). No rows → "".
 *
 * @example
 * ```ts
 * import { csv } from "./_csv.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(csv([{ id: "a,b", y: 1 }, { id: 'say "hi"', y: 2 }]), 'id,y\n"a,b",1\n"say ""hi""",2\n');
 * assert.equal(csv([]), "");
 * ```
 */
export function csv(rows: Record<string, unknown>[]): string {
  if (!rows.length) return "";
  const cols = Object.keys(rows[0]!);
  const q = (
    v: unknown,
  ) => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v ?? ""));
  return [cols.join(","), ...rows.map((r) => cols.map((c) => q(r[c])).join(","))].join("\n") + "\n";
}
