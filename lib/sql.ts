/**
 * SQL quoting for the text Mercury builds into statements (DuckDB and
 * PostgreSQL share the rules): identifiers in double quotes, literals in
 * single quotes, the quote character doubled inside. Light: no imports.
 *
 * @example
 * ```ts
 * import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
 * import assert from "node:assert/strict";
 *
 * assert.equal(`select ${quoteIdent("order")} from t where s = ${quoteLiteral("it's")}`,
 *   `select "order" from t where s = 'it''s'`);
 * ```
 *
 * @module
 */

/**
 * Quotes an identifier (table, column, schema, alias): `a"b` → `"a""b"`.
 * Always quotes, so reserved words and mixed case are kept as written.
 *
 * @example
 * ```ts
 * import { quoteIdent } from "@mercury/core/sql";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteIdent("user"), '"user"');
 * assert.equal(quoteIdent('we"ird'), '"we""ird"');
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${String(name).replaceAll('"', '""')}"`;
}

/**
 * Quotes a string literal: `it's` → `'it''s'`. For values that cannot be
 * passed as parameters (paths in `read_parquet`, `attach`, `copy … to`, settings).
 *
 * @example
 * ```ts
 * import { quoteLiteral } from "@mercury/core/sql";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteLiteral("/data/o'brien.parquet"), "'/data/o''brien.parquet'");
 * assert.equal(quoteLiteral(""), "''");
 * ```
 */
export function quoteLiteral(value: string): string {
  return `'${String(value).replaceAll("'", "''")}'`;
}
