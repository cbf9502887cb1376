/**
 * DuckDB: the embedded, in-process engine. Open an instance and a connection,
 * check health with a query, close both.
 *
 * @example
 * ```ts
 * import { openDuckDB } from "@mercury/core/services/duckdb";
 * import assert from "node:assert/strict";
 *
 * {
 *   using db = await openDuckDB(); // closed at the end of the block (`await using` works too)
 *   const reader = await db.connection.runAndReadAll("select sum(range) as s from range(10)");
 *   assert.equal(Number(reader.getRowObjects()[0]!.s), 45);
 * }
 * ```
 *
 * @module
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { MercuryError } from "../errors.ts";
import type { HealthReport } from "./health.ts";

/** Options of {@linkcode openDuckDB}. */
export interface DuckDBOptions {
  /** Database file, or `:memory:` (default). */
  path?: string;
  /** DuckDB settings, e.g. `{ threads: "2", memory_limit: "2GB" }`. */
  config?: Record<string, string>;
}

/**
 * An open DuckDB instance with one connection; `using` or `await using`
 * closes it (both dispose symbols call {@linkcode DuckDBHandle.close}).
 */
export interface DuckDBHandle extends Disposable, AsyncDisposable {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  path: string;
  /** Runs a query and reads the version. */
  health(): Promise<HealthReport>;
  /** Closes the connection and the instance; a second call does nothing. */
  close(): void;
}

/** Opens DuckDB; a file that cannot be opened is an `input` MercuryError. */
export async function openDuckDB(options: DuckDBOptions = {}): Promise<DuckDBHandle> {
  const path = options.path ?? ":memory:";
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, options.config);
  } catch (err) {
    throw new MercuryError("input", `cannot open DuckDB database ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "check the path, its permissions, and that no other process holds its lock",
      cause: err,
    });
  }
  const connection = await instance.connect();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    connection.closeSync();
    instance.closeSync();
  };
  return {
    instance,
    connection,
    path,
    async health() {
      const t0 = performance.now();
      try {
        const r = await connection.runAndReadAll("select version() as v");
        return {
          service: "duckdb",
          endpoint: path,
          ok: true,
          latencyMs: performance.now() - t0,
          detail: `DuckDB ${r.getRowObjects()[0]?.v}`,
        };
      } catch (err) {
        return { service: "duckdb", endpoint: path, ok: false, latencyMs: performance.now() - t0, detail: String(err) };
      }
    },
    close,
    [Symbol.dispose]: close,
    [Symbol.asyncDispose]: () => Promise.resolve(close()),
  };
}

/**
 * Runs `fn` with a fresh in-memory (or file) connection and closes it after.
 *
 * @example
 * ```ts
 * import { withDuckDB } from "@mercury/core/services/duckdb";
 * import assert from "node:assert/strict";
 *
 * const n = await withDuckDB(async (c) => (await c.runAndReadAll("select 42 as x")).getRowObjects()[0]!.x);
 * assert.equal(n, 42);
 * ```
 */
export async function withDuckDB<T>(fn: (c: DuckDBConnection) => Promise<T>, options: DuckDBOptions = {}): Promise<T> {
  using db = await openDuckDB(options);
  return await fn(db.connection);
}
