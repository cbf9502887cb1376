/**
 * Errors a person can act on: what failed, where, and a hint.
 *
 * @module
 */

/** Error categories; each maps to one CLI exit code. */
export type ErrorCode =
  | "usage"
  | "input"
  | "config"
  | "not_found"
  | "unavailable"
  | "timeout"
  | "conflict"
  | "internal";

/**
 * Exit codes per {@linkcode ErrorCode}, following BSD `sysexits.h` where one fits
 * so shell scripts can tell a usage slip from a service that is down.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  usage: 64, // EX_USAGE
  input: 65, // EX_DATAERR
  not_found: 66, // EX_NOINPUT
  unavailable: 69, // EX_UNAVAILABLE
  internal: 70, // EX_SOFTWARE
  conflict: 73, // EX_CANTCREAT
  timeout: 75, // EX_TEMPFAIL
  config: 78, // EX_CONFIG
};

/** Options for {@linkcode MercuryError}. */
export interface MercuryErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** Where it happened: a file:line, a column, a log file, an endpoint. */
  where?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The one error type Mercury's CLIs, tasks and plugins throw for expected failures.
 *
 * @example Formatting an error for a terminal
 * ```ts
 * import { MercuryError } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const err = new MercuryError("config", "MERCURY_PG_URL is not a valid URL", {
 *   where: "environment",
 *   hint: "use postgres://user@host:port/db",
 * });
 * assert.equal(err.exitCode, 78);
 * assert.equal(
 *   err.format(),
 *   "error[config]: MERCURY_PG_URL is not a valid URL (at environment); hint: use postgres://user@host:port/db",
 * );
 * ```
 */
export class MercuryError extends Error {
  override name = "MercuryError";
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly where: string | undefined;

  constructor(code: ErrorCode, message: string, options: MercuryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.where = options.where;
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  /** One line: `error[code]: message (at where); hint: hint`. */
  format(): string {
    let line = `error[${this.code}]: ${this.message}`;
    if (this.where) line += ` (at ${this.where})`;
    if (this.hint) line += `; hint: ${this.hint}`;
    return line;
  }
}

/**
 * Formats any thrown value as one line plus its exit code. A non-Mercury error is
 * an internal error; with `verbose` the stack (and causes) follow the line.
 *
 * @example
 * ```ts
 * import { formatError } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const { text, exitCode } = formatError(new Error("boom"));
 * assert.equal(exitCode, 70);
 * assert.match(text, /^error\[internal\]: boom/);
 * ```
 */
export function formatError(err: unknown, verbose = false): { text: string; exitCode: number } {
  const mercury = err instanceof MercuryError ? err : undefined;
  const text = mercury?.format() ??
    `error[internal]: ${
      err instanceof Error ? err.message : String(err)
    }; hint: rerun with --verbose for the stack trace`;
  const exitCode = mercury?.exitCode ?? EXIT_CODES.internal;
  if (!verbose) return { text, exitCode };
  const details: string[] = [text];
  const walk = (e: unknown, depth: number): void => {
    if (!(e instanceof Error) || depth > 8) return;
    if (e.stack) details.push(e.stack.split("\n").map((l) => "  ".repeat(depth) + l).join("\n"));
    // AggregateError (e.g. a client's retries) keeps its real reasons in `errors`.
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) walk(inner, depth + 1);
    walk(e.cause, depth + 1);
  };
  walk(err, 0);
  return { text: details.join("\n"), exitCode };
}
