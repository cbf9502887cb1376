/**
 * Errors of the query service: an HTTP status, a short machine-readable kind,
 * one readable line and, for SQL errors, the position DuckDB points at.
 *
 * @example A DuckDB parser error becomes a 400 with its position
 * ```ts
 * import { classifyError } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const e = classifyError(new Error('Parser Error: syntax error at or near "selec"\n\nLINE 1: selec 1\n        ^'));
 * assert.equal(e.status, 400);
 * assert.equal(e.kind, "syntax_error");
 * assert.deepEqual(e.position, { line: 1, column: 1 });
 * ```
 *
 * @module
 */
import { type ErrorCode, MercuryError } from "@mercury/core";
import { BodyError } from "@mercury/core/http_body";

/** Where in the SQL text an error points (1-based). */
export interface SqlPosition {
  line: number;
  column: number;
}

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: "input",
  401: "usage",
  403: "usage",
  404: "not_found",
  408: "timeout",
  413: "input",
  499: "timeout",
  503: "unavailable",
};

/** An error with the HTTP status the API answers with. */
export class OlapError extends MercuryError {
  override name = "OlapError";
  readonly status: number;
  readonly kind: string;
  readonly position: SqlPosition | undefined;

  constructor(
    status: number,
    kind: string,
    message: string,
    options: { hint?: string; where?: string; cause?: unknown; position?: SqlPosition } = {},
  ) {
    super(CODE_OF_STATUS[status] ?? "internal", message, options);
    this.status = status;
    this.kind = kind;
    this.position = options.position;
  }

  /** The JSON body of an error response. */
  toJSON(): Record<string, unknown> {
    return {
      error: {
        kind: this.kind,
        message: this.message,
        ...(this.position ? { position: this.position } : {}),
        ...(this.where ? { where: this.where } : {}),
        ...(this.hint ? { hint: this.hint } : {}),
      },
    };
  }
}

/** Finds `LINE n: …` and its caret in a DuckDB message. */
export function errorPosition(message: string): SqlPosition | undefined {
  const lines = message.split("\n");
  for (let i = 0; i < lines.length - 1; i++) {
    const m = /^LINE (\d+): /.exec(lines[i]!);
    if (!m) continue;
    const caret = lines[i + 1]!.indexOf("^");
    if (caret < 0) continue;
    // DuckDB elides long lines with "..." after the prefix; the column is then approximate.
    return { line: Number(m[1]), column: caret - m[0].length + 1 };
  }
  return undefined;
}

/** Maps an error thrown by DuckDB (or anything) to an {@linkcode OlapError}. */
export function classifyError(err: unknown, params?: unknown): OlapError {
  if (err instanceof OlapError) return err;
  if (err instanceof BodyError) return new OlapError(err.status, err.kind, err.message, { hint: err.hint, cause: err });
  const raw = err instanceof Error ? err.message : String(err);
  const message = raw.replace(/^Error: /, "").replace(/^Failed to extract statements: /, "");
  const first = message.split("\n")[0]!.trim();
  const position = errorPosition(message);
  const opts = { position, cause: err };
  if (/^Parser Error/.test(first)) return new OlapError(400, "syntax_error", first, opts);
  if (/^Catalog Error: (Table|Table Function|View) with name/.test(first)) {
    return new OlapError(404, "unknown_table", first, { ...opts, hint: "GET /tables lists the tables" });
  }
  if (/^Catalog Error/.test(first)) return new OlapError(400, "catalog_error", first, opts);
  if (/^Binder Error/.test(first)) return new OlapError(400, "binder_error", first, opts);
  if (/INTERRUPT Error|Interrupted/i.test(first)) {
    return new OlapError(499, "cancelled", "the query was interrupted", opts);
  }
  if (/^(Conversion|Invalid Input) Error/.test(first) && params !== undefined && hasParams(params)) {
    return new OlapError(400, "param_type_error", `parameter type error: ${first}`, {
      ...opts,
      hint: "check each parameter's type against the column it is compared with",
    });
  }
  if (/^(Conversion|Invalid Input|Out of Range|Not implemented|Parameter|Constraint) Error/.test(first)) {
    return new OlapError(400, "invalid_query", first, opts);
  }
  if (/^Permission Error/.test(first)) return new OlapError(403, "forbidden", first, opts);
  if (/^IO Error/.test(first)) return new OlapError(400, "io_error", first, opts);
  return new OlapError(500, "internal", first || "query failed", opts);
}

function hasParams(p: unknown): boolean {
  if (Array.isArray(p)) return p.length > 0;
  return typeof p === "object" && p !== null && Object.keys(p).length > 0;
}
