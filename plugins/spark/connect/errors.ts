/**
 * Spark Connect failures as {@linkcode MercuryError}: Spark's message with its
 * error class (`[TABLE_OR_VIEW_NOT_FOUND] …`) kept, and a code a CLI can exit
 * with. Spark puts the class in brackets at the start of the gRPC status
 * message; the class is also returned on the error as `sparkErrorClass`.
 *
 * @example
 * ```ts
 * import { errorClassOf, fromGrpcError } from "@mercury/spark/connect/errors";
 * import assert from "node:assert/strict";
 *
 * assert.equal(errorClassOf("[PATH_NOT_FOUND] Path does not exist: file:/x."), "PATH_NOT_FOUND");
 * const err = fromGrpcError({ code: 3, details: "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column … cannot be resolved.\nPlan: …" }, "sql");
 * assert.equal(err.code, "input");
 * assert.match(err.message, /^\[UNRESOLVED_COLUMN\.WITH_SUGGESTION\]/);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** A MercuryError from Spark, with Spark's error class when it sent one. */
export class SparkError extends MercuryError {
  override name = "SparkError";
  /** Spark's error class, e.g. `TABLE_OR_VIEW_NOT_FOUND` (undefined when the server gave none). */
  readonly sparkErrorClass: string | undefined;
  /** The gRPC status code. */
  readonly grpcCode: number;
  constructor(
    code: ConstructorParameters<typeof MercuryError>[0],
    message: string,
    info: { errorClass?: string; grpcCode: number; where?: string; hint?: string; cause?: unknown },
  ) {
    super(code, message, { where: info.where, hint: info.hint, cause: info.cause });
    this.sparkErrorClass = info.errorClass;
    this.grpcCode = info.grpcCode;
  }
}

/** The error class at the start of a Spark message (`[CLASS] …` or `[CLASS.SUB] …`). */
export function errorClassOf(message: string): string | undefined {
  return /^\s*\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\]/.exec(message)?.[1];
}

const UNAVAILABLE_HINT = "start it with `deno task services up spark`, or set MERCURY_SPARK_REMOTE=sc://host:port";

/**
 * Spark's first line (its messages go on with hints and the analysed plan), with
 * the SQLSTATE kept, on one line of at most 400 characters.
 */
export function shortMessage(details: string): string {
  const first = (details.split("\n")[0] ?? "").replace(/\s+/g, " ").trim();
  const state = /SQLSTATE: ([0-9A-Z]{5})/.exec(details)?.[1];
  const line = state && !first.includes(state) ? `${first} (SQLSTATE ${state})` : first;
  return line.length > 400 ? line.slice(0, 400) + "…" : line;
}

/**
 * When a job failed because a task ran out of memory: the JVM's error and how often the task was tried, from Spark's
 * "Job aborted due to stage failure" message (an OutOfMemoryError in the task, or an executor lost to one).
 *
 * @example
 * ```ts
 * import { outOfMemory } from "@mercury/spark/connect/errors";
 * import assert from "node:assert/strict";
 *
 * const msg = "Job aborted due to stage failure: Task 1 in stage 416.0 failed 4 times, most recent failure: Lost " +
 *   "task 1.3 in stage 416.0 (TID 355) (127.0.0.1 executor 2): java.lang.OutOfMemoryError: Java heap space";
 * assert.equal(outOfMemory(msg), "java.lang.OutOfMemoryError: Java heap space; task 1 of stage 416 tried 4 times");
 * const lost = "Job aborted due to stage failure: Task 1 in stage 418.0 failed 4 times, most recent failure: Lost " +
 *   "task 1.4 in stage 418.0 (TID 362) (127.0.0.1 executor 5): ExecutorLostFailure (executor 5 exited caused by one " +
 *   "of the running tasks) Reason: Command exited with code 52";
 * assert.equal(outOfMemory(lost), "an executor died of memory exhaustion; task 1 of stage 418 tried 4 times");
 * assert.equal(outOfMemory("[PARSE_SYNTAX_ERROR] Syntax error"), undefined);
 * ```
 */
export function outOfMemory(details: string): string | undefined {
  const jvm = /java\.lang\.OutOfMemoryError(?::[^\n(]*[^\s(])?/.exec(details)?.[0] ??
    // Exit code 52 is Spark's own for an executor that died of an OutOfMemoryError; 137, a kill by the kernel's OOM killer.
    (/ExecutorLostFailure[^\n]*(?:OutOfMemory|exceeding memory limits|exit(?:ed with)? code (?:52|137)\b|OOM)/i.test(
        details,
      )
      ? "an executor died of memory exhaustion"
      : undefined);
  if (!jvm) return undefined;
  const tried = /Task (\d+) in stage (\d+)(?:\.\d+)? failed (\d+) times/.exec(details);
  return tried ? `${jvm}; task ${tried[1]} of stage ${tried[2]} tried ${tried[3]} times` : jvm;
}

/** Maps a grpc-js error (status code + details) to a one-line {@linkcode SparkError}. */
export function fromGrpcError(
  err: { code?: number; details?: string; message?: string },
  what: string,
  remote?: string,
): SparkError {
  const grpcCode = err.code ?? 2;
  const details = (err.details ?? err.message ?? "unknown error").trim();
  const errorClass = errorClassOf(details);
  const short = shortMessage(details);
  if (grpcCode === 14) {
    return new SparkError("unavailable", `Spark Connect at ${remote ?? "?"} is not answering: ${short}`, {
      grpcCode,
      where: remote,
      hint: UNAVAILABLE_HINT,
      cause: err,
    });
  }
  if (grpcCode === 4) {
    return new SparkError("timeout", `${what} timed out (interrupted on the server)`, {
      grpcCode,
      errorClass,
      where: remote,
      hint: "raise the timeout, or make the query cheaper",
      cause: err,
    });
  }
  if (grpcCode === 1) {
    return new SparkError("timeout", `${what} was cancelled`, { grpcCode, errorClass, where: remote, cause: err });
  }
  const oom = outOfMemory(details);
  if (oom) {
    return new SparkError("unavailable", `a task ran out of memory (${oom})`, {
      grpcCode,
      errorClass,
      where: what,
      hint: "give the executors more memory (spark.executor.memory), spread the work over more partitions " +
        "(repartition, spark.sql.shuffle.partitions), or build smaller values per row",
      cause: err,
    });
  }
  const code = grpcCode === 3 || grpcCode === 5 || grpcCode === 9 || grpcCode === 6 || errorClass !== undefined
    ? (errorClass && /NOT_FOUND|PATH_NOT_FOUND/.test(errorClass) ? "not_found" : "input")
    : "internal";
  return new SparkError(code, short, {
    grpcCode,
    errorClass,
    where: what,
    hint: errorClass ? `Spark error class ${errorClass}` : undefined,
    cause: err,
  });
}
