/**
 * Where queries run. {@linkcode Executor} is the seam; `SparkExecutor`
 * (`spark_executor.ts`) runs queries on the Spark cluster behind it, and
 * {@linkcode DuckDBExecutor} runs them in-process on a small pool of
 * DuckDB connections (the pool size is the concurrency limit), with a timeout
 * and cancellation by `connection.interrupt()`.
 *
 * @example Run a query, stream its chunks
 * ```ts
 * import { DuckDBExecutor } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const ex = await DuckDBExecutor.create({ concurrency: 2 });
 * const rows = await ex.rows("select range as n from range(5) where n >= $1", [2]);
 * assert.deepEqual(rows.map((r) => Number(r.n)), [2, 3, 4]);
 * await ex.close();
 * ```
 *
 * @module
 */
import { type DuckDBConnection, type DuckDBDataChunk, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import { classifyError, OlapError } from "./errors.ts";

/** Query parameters: positional (`$1`, `?`) or named (`$name`). */
export type Params = readonly Scalar[] | Readonly<Record<string, Scalar>>;
/** A parameter value as JSON carries it. */
export type Scalar = string | number | boolean | null;

/** Options of one query. */
export interface RunOptions {
  params?: Params;
  /** Interrupt the query after this many milliseconds (0 = never). */
  timeoutMs?: number;
  /** Aborting interrupts the query. */
  signal?: AbortSignal;
}

/** A column of a result. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/** A streaming result: columns known up front, chunks pulled one at a time. */
export interface QueryStream {
  columns: ColumnInfo[];
  /** DuckDB data chunks (≤ 2048 rows each), pulled on demand. */
  chunks: AsyncIterable<DuckDBDataChunk>;
  /**
   * Releases the connection (also done when iteration ends or fails). A fetch under way is interrupted first;
   * iterating after `close` throws rather than ending as if the result were complete.
   */
  close(): void;
}

/**
 * What the query service needs from an engine. Local DuckDB implements all of it; `SparkExecutor` implements it on
 * the Spark cluster except `withConnection` (no DuckDB connection to lend).
 */
export interface Executor {
  /** Engine name for logs and metrics. */
  readonly name: string;
  /** Runs a statement for its side effect. */
  exec(sql: string, options?: RunOptions): Promise<void>;
  /** Runs a query and returns all rows as objects (small results): exact bigints as numbers, dates as ISO text. */
  rows(sql: string, params?: Params, options?: RunOptions): Promise<Record<string, unknown>[]>;
  /** Runs a query and streams its chunks; the connection is held until closed. */
  stream(sql: string, options?: RunOptions): Promise<QueryStream>;
  /** Runs `fn` with an exclusive connection (same timeout/cancel handling). */
  withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>, options?: RunOptions): Promise<T>;
  /** Statements run on every connection (views, macros); replayed on new ones. */
  setup(statements: string[]): Promise<void>;
  /** Queries running or waiting. */
  readonly busy: { running: number; waiting: number };
  close(): Promise<void>;
}

/** Options of {@linkcode DuckDBExecutor.create}. */
export interface DuckDBExecutorOptions {
  /** Database file or `:memory:` (default). */
  path?: string;
  /** Connections, i.e. queries that run at once; more wait in a queue (default 4). */
  concurrency?: number;
  /** Queries allowed to wait for a connection before new ones get 503 (default 64). */
  maxQueue?: number;
  /** DuckDB settings such as `threads` or `memory_limit`. */
  config?: Record<string, string>;
}

interface Slot {
  conn: DuckDBConnection;
  setupApplied: number;
}

/** The local executor: one DuckDB instance, a pool of connections. */
export class DuckDBExecutor implements Executor {
  readonly name = "duckdb";
  #instance: DuckDBInstance;
  #free: Slot[] = [];
  #all: Slot[] = [];
  #waiters: ((s: Slot) => void)[] = [];
  #setup: string[] = [];
  #maxQueue: number;
  #running = 0;
  #closed = false;

  private constructor(instance: DuckDBInstance, maxQueue: number) {
    this.#instance = instance;
    this.#maxQueue = maxQueue;
  }

  /** Opens the instance and its connections. */
  static async create(options: DuckDBExecutorOptions = {}): Promise<DuckDBExecutor> {
    const instance = await DuckDBInstance.create(options.path ?? ":memory:", options.config);
    const ex = new DuckDBExecutor(instance, options.maxQueue ?? 64);
    const n = Math.max(1, options.concurrency ?? 4);
    for (let i = 0; i < n; i++) {
      const slot = { conn: await instance.connect(), setupApplied: 0 };
      ex.#all.push(slot);
      ex.#free.push(slot);
    }
    return ex;
  }

  /** The DuckDB instance (for an extra connection of your own). */
  get instance(): DuckDBInstance {
    return this.#instance;
  }

  get busy(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiters.length };
  }

  async setup(statements: string[]): Promise<void> {
    this.#setup.push(...statements);
    // Apply now on free connections; busy ones catch up when next acquired.
    for (const s of [...this.#free]) await this.#catchUp(s);
  }

  async #catchUp(slot: Slot): Promise<void> {
    while (slot.setupApplied < this.#setup.length) {
      await slot.conn.run(this.#setup[slot.setupApplied]!);
      slot.setupApplied++;
    }
  }

  async #acquire(signal?: AbortSignal): Promise<Slot> {
    if (this.#closed) throw new OlapError(503, "unavailable", "the executor is closed");
    let slot = this.#free.pop();
    if (!slot) {
      if (this.#waiters.length >= this.#maxQueue) {
        throw new OlapError(
          503,
          "overloaded",
          `too many queries: ${this.#running} running, ${this.#waiters.length} waiting`,
          {
            hint: "retry later or raise --concurrency",
          },
        );
      }
      slot = await new Promise<Slot>((resolve, reject) => {
        const w = (s: Slot) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(s);
        };
        const onAbort = () => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(new OlapError(499, "cancelled", "the query was cancelled while waiting for a connection"));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiters.push(w);
      });
    }
    this.#running++;
    try {
      await this.#catchUp(slot);
    } catch (err) {
      this.#release(slot);
      throw err;
    }
    // Aborted before the caller could watch the signal: nothing runs on the connection.
    if (signal?.aborted) {
      this.#release(slot);
      throw new OlapError(499, "cancelled", "the query was cancelled");
    }
    return slot;
  }

  #release(slot: Slot): void {
    this.#running--;
    const w = this.#waiters.shift();
    if (w) w(slot);
    else this.#free.push(slot);
  }

  /**
   * Arms timeout and abort on a connection; returns a disarm function and the reason it fired. `onFire` runs
   * after the interrupt (a stream uses it to hand the connection back even while nobody is fetching).
   */
  #guard(
    conn: DuckDBConnection,
    options: RunOptions,
    onFire?: () => void,
  ): { disarm(): void; fired(): OlapError | undefined } {
    let fired: OlapError | undefined;
    const timeoutMs = options.timeoutMs ?? 0;
    const timer = timeoutMs > 0
      ? setTimeout(() => {
        fired = new OlapError(408, "timeout", `the query ran past its timeout of ${timeoutMs} ms and was interrupted`, {
          hint: "narrow the query, add a rollup, or raise timeoutMs",
        });
        conn.interrupt();
        onFire?.();
      }, timeoutMs)
      : undefined;
    const onAbort = () => {
      fired ??= new OlapError(499, "cancelled", "the query was cancelled");
      conn.interrupt();
      onFire?.();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    return {
      disarm() {
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      },
      fired: () => fired,
    };
  }

  async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const slot = await this.#acquire(options.signal);
    const guard = this.#guard(slot.conn, options);
    try {
      return await fn(slot.conn);
    } catch (err) {
      throw guard.fired() ?? classifyError(err, options.params);
    } finally {
      guard.disarm();
      this.#release(slot);
    }
  }

  async exec(sql: string, options: RunOptions = {}): Promise<void> {
    await this.withConnection(async (c) => {
      await c.run(sql, toValues(options.params));
    }, options);
  }

  async rows(sql: string, params?: Params, options: RunOptions = {}): Promise<Record<string, unknown>[]> {
    return await this.withConnection(async (c) => {
      const r = await c.runAndReadAll(sql, toValues(params));
      return r.getRowObjectsJS().map((o) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) {
          out[k] = typeof v === "bigint"
            ? (v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString())
            : v instanceof Date
            ? v.toISOString()
            : v;
        }
        return out;
      });
    }, { ...options, params });
  }

  async stream(sql: string, options: RunOptions = {}): Promise<QueryStream> {
    const slot = await this.#acquire(options.signal);
    // The connection goes back to the pool once, when the result ends, fails or is closed, or when the timeout
    // or the signal fires; a fetch under way is interrupted and the connection waits for it to return, so two
    // queries never share it. Nothing fetches after that: an interrupt can end a result early without an error,
    // so the reason it fired is thrown instead of a short result ending as if complete.
    let released = false;
    let fetching = false;
    let closing = false;
    // Set once the guard is armed: a signal that is already aborted fires (and releases) while it is being armed.
    let disarm = () => {};
    const release = () => {
      if (released) return;
      released = true;
      disarm();
      this.#release(slot);
    };
    const close = () => {
      closing = true;
      if (fetching) slot.conn.interrupt();
      else release();
    };
    const armed = this.#guard(slot.conn, options, close);
    disarm = () => armed.disarm();
    const stopped = () => armed.fired() ?? new OlapError(499, "cancelled", "the result was closed before its end");
    try {
      if (closing) throw stopped();
      fetching = true;
      let result;
      try {
        result = await slot.conn.stream(sql, toValues(options.params));
      } finally {
        fetching = false;
      }
      if (closing) throw stopped();
      const columns = result.columnNames().map((name, i) => ({ name, type: result.columnType(i).toString() }));
      const params = options.params;
      const chunks = async function* (): AsyncGenerator<DuckDBDataChunk> {
        try {
          while (true) {
            if (closing) throw stopped();
            let chunk: DuckDBDataChunk | null;
            fetching = true;
            try {
              chunk = await result.fetchChunk();
            } catch (err) {
              throw armed.fired() ?? classifyError(err, params);
            } finally {
              fetching = false;
            }
            if (closing || armed.fired()) throw stopped();
            if (!chunk || chunk.rowCount === 0) return;
            yield chunk;
          }
        } finally {
          release();
        }
      };
      return { columns, chunks: chunks(), close };
    } catch (err) {
      const e = armed.fired() ?? classifyError(err, options.params);
      release();
      throw e;
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#all) {
      try {
        s.conn.interrupt();
        s.conn.closeSync();
      } catch { /* already closed */ }
    }
    this.#instance.closeSync();
    return Promise.resolve();
  }
}

/** JSON parameters → DuckDB values, checked once at the edge. */
export function toValues(params: Params | undefined): DuckDBValue[] | Record<string, DuckDBValue> | undefined {
  if (params === undefined || params === null) return undefined;
  const check = (v: unknown, where: string): DuckDBValue => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v as DuckDBValue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new OlapError(400, "bad_params", `parameter ${where} is not a finite number`);
      return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? BigInt(v) : v;
    }
    throw new OlapError(400, "bad_params", `parameter ${where} is a ${Array.isArray(v) ? "list" : typeof v}`, {
      hint: "parameters are strings, numbers, booleans or null",
    });
  };
  if (Array.isArray(params)) return params.map((v, i) => check(v, `$${i + 1}`));
  if (typeof params === "object") {
    return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, check(v, `$${k}`)]));
  }
  throw new OlapError(400, "bad_params", "params must be a list or an object");
}
