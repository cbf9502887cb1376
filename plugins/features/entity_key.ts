/**
 * The online store's name for one entity of a view: its join key values in
 * the view's key order. One key is its value as text (`"42"`); several are
 * joined with `|` after escaping `\` as `\\` and `|` as `\|` in each part, so
 * no two entities share a name (`("a|b", "c")` is `a\|b|c`, `("a", "b|c")` is
 * `a|b\|c`). Materialisation computes the same text in DuckDB
 * ({@linkcode entityKeySql}); serving and push ingestion in TypeScript
 * ({@linkcode entityKey}). Parts without `\` or `|` encode as they always did.
 *
 * @module
 */

const escapePart = (s: string) => s.replaceAll("\\", "\\\\").replaceAll("|", "\\|");

/**
 * The entity key of one entity from its join key values (each read as text with `String`, as DuckDB casts them
 * to VARCHAR).
 *
 * @example
 * ```ts
 * import { entityKey } from "@mercury/features";
 * import assert from "node:assert/strict";
 *
 * assert.equal(entityKey([42]), "42");
 * assert.equal(entityKey(["a|b", "c"]), "a\\|b|c");
 * assert.notEqual(entityKey(["a|b", "c"]), entityKey(["a", "b|c"]));
 * ```
 */
export function entityKey(values: readonly unknown[]): string {
  if (values.length === 1) return String(values[0]);
  return values.map((v) => escapePart(String(v))).join("|");
}

/**
 * The DuckDB expression computing {@linkcode entityKey} from quoted key columns; NULL when any key is NULL (such a
 * row names no entity a request can ask for, and is not materialised).
 *
 * @example
 * ```ts
 * import { entityKeySql } from "@mercury/features";
 * import assert from "node:assert/strict";
 *
 * assert.equal(entityKeySql(['"card_id"']), 'cast("card_id" as varchar)');
 * assert.match(entityKeySql(['"a"', '"b"']), /^replace\(replace\(cast\("a" as varchar\)/);
 * ```
 */
export function entityKeySql(quotedColumns: readonly string[]): string {
  const text = (c: string) => `cast(${c} as varchar)`;
  if (quotedColumns.length === 1) return text(quotedColumns[0]!);
  const escaped = (c: string) => `replace(replace(${text(c)}, '\\', '\\\\'), '|', '\\|')`;
  return quotedColumns.map(escaped).join(" || '|' || ");
}
