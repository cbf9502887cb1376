/**
 * What the query log keeps of a statement: a bounded excerpt with its string
 * and number literals replaced by `?` (unless asked to keep them), so
 * `GET /log`, `GET /slow` and `slow_queries.ndjson` neither grow with the
 * size of what clients send nor show the values inside their statements.
 *
 * The literals are found by a small lexer that knows SQL's quoting: `'…'`
 * strings (with `''` inside), `E'…'` strings, `$tag$…$tag$` strings, `"…"`
 * identifiers (kept), `--` and `/* *\/` comments (kept), and parameters
 * (`$1`, `$name`, `?`, kept). Redaction runs over the whole text before it
 * is cut, so a cut never leaves half a literal visible.
 *
 * @example A password in a statement does not reach the log
 * ```ts
 * import { logText, redactLiterals } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   redactLiterals("update users set password='hunter2' where id = 42 and \"col1\" = $1"),
 *   "update users set password=? where id = ? and \"col1\" = $1",
 * );
 * assert.equal(logText("select 'x' from t", { literals: true }), "select 'x' from t");
 * assert.equal(logText(`select ${"1 + ".repeat(1000)}1`, { maxChars: 20 }), "select ? + ? + ? + ?… (+3988 chars)");
 * ```
 *
 * @module
 */

/** Options of {@linkcode logText}. */
export interface LogTextOptions {
  /** Keep string and number literals (default false: each becomes `?`). */
  literals?: boolean;
  /** Longest excerpt kept, in characters (default {@linkcode LOG_SQL_CHARS}). */
  maxChars?: number;
}

/** Default length of the excerpt a log entry keeps. */
export const LOG_SQL_CHARS = 2000;

const IDENT = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Replaces every string and number literal of `sql` with `?`; identifiers, comments and parameters stay. */
export function redactLiterals(sql: string): string {
  let out = "";
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '"') {
      const stop = quotedEnd(sql, i, '"');
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "'" || ((c === "E" || c === "e") && next === "'" && !IDENT.test(sql[i - 1] ?? " "))) {
      // E'…' strings take backslash escapes (E'a\'b'); plain ones only the doubled quote.
      i = c === "'" ? quotedEnd(sql, i, "'") : quotedEnd(sql, i + 1, "'", true);
      out += "?";
    } else if (c === "$" && !IDENT.test(sql[i - 1] ?? " ")) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
        out += "?";
      } else {
        // A parameter ($1, $name): kept whole so its digits are not taken for a number.
        const m = /^\$[A-Za-z0-9_]*/.exec(sql.slice(i, i + 64))!;
        out += m[0];
        i += m[0].length;
      }
    } else if ((/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) && !IDENT.test(sql[i - 1] ?? " ")) {
      const m = /^(0x[0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+(?:[eE][+-]?[0-9]+)?\.?)/.exec(sql.slice(i, i + 400))!;
      i += Math.max(1, m[0].length);
      out += "?";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the quoted run at `start`; a doubled quote (or with `backslash` an escaped one) stays inside. */
function quotedEnd(sql: string, start: number, quote: string, backslash = false): number {
  let i = start + 1;
  while (i < sql.length) {
    if (backslash && sql[i] === "\\") i += 2;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** The text a log entry keeps of `sql`: redacted (by default), then cut to `maxChars` with the count cut off. */
export function logText(sql: string, options: LogTextOptions = {}): string {
  const text = options.literals ? sql : redactLiterals(sql);
  const max = options.maxChars ?? LOG_SQL_CHARS;
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (+${text.length - max} chars)`;
}
