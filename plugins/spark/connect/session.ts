/**
 * A Spark Connect session from Deno: `SparkSession.connect()` opens a gRPC
 * channel to the Connect server (`sc://host:port`, from `MERCURY_SPARK_REMOTE`,
 * `.mercury/services.json` or the default `sc://127.0.0.1:55002`), and every
 * DataFrame action runs as one `ExecutePlan` whose Arrow batches become one
 * `apache-arrow` Table. A timeout or an `AbortSignal` (Ctrl-C in the CLIs)
 * sends `Interrupt` for the running operation, so the cluster stops working
 * on it; the session stays usable after any error.
 *
 * @example
 * ```ts ignore
 * import { SparkSession } from "@mercury/spark";
 * const spark = await SparkSession.connect();
 * const df = await spark.sql("SELECT id, id * 2 AS twice FROM range(5)");
 * console.log((await df.toArrow()).toArray());
 * await spark.close();
 * ```
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import { type Table, tableFromIPC } from "apache-arrow";
import { DEFAULT_PORTS, MercuryError, resolveEndpoints } from "@mercury/core";
import { sparkConnectService } from "./proto.ts";
import { fromGrpcError, SparkError } from "./errors.ts";
import { DataFrame, DataFrameReader, type Relation } from "./dataframe.ts";
import { literal } from "./column.ts";

/** The default Connect endpoint of the native launcher. */
export const DEFAULT_SPARK_REMOTE = `sc://127.0.0.1:${DEFAULT_PORTS.spark}`;

/** Options of {@linkcode SparkSession.connect}. */
export interface ConnectOptions {
  /** `sc://host:port` (default: MERCURY_SPARK_REMOTE, then services.json, then {@linkcode DEFAULT_SPARK_REMOTE}). */
  remote?: string;
  /** Spark Connect user id (default "mercury"). */
  userId?: string;
  /** Reuse a server-side session (default: a new UUID). */
  sessionId?: string;
  /** Default deadline of one operation in ms (default none). */
  timeoutMs?: number;
  /** Wait this long for the channel to connect (default 10 s). */
  connectTimeoutMs?: number;
}

/** Options of one operation. */
export interface ExecOptions {
  /** Interrupt the operation after this many ms. */
  timeoutMs?: number;
  /** Interrupt the operation when this aborts (wire Ctrl-C to it). */
  signal?: AbortSignal;
  /** Tags for the operation (Spark job tags; `interruptTag`, and the analyser filters by them). */
  tags?: string[];
  /** What to call it in errors. */
  what?: string;
}

/** What one execution returned. */
export interface ExecResult {
  table: Table | undefined;
  operationId: string;
  /** Spark's `sql_command_result.relation` when the plan was a SQL command. */
  sqlRelation?: Relation;
  /** Arrow bytes received (all batches). */
  arrowBytes: number;
  /** Per-plan-node metrics Spark sent with the last response. */
  metrics: unknown[];
  /** Spark's `ml_command_result` when the plan was an `ml_command` (a fitted model's reference, a metric…). */
  mlResult?: Record<string, unknown>;
}

/** Resolves the Connect endpoint: env > services.json > default. */
export function resolveSparkRemote(): string {
  return resolveEndpoints().spark.remote;
}

/** `sc://host:port[/;params]` → `host:port`. */
export function parseRemote(remote: string): string {
  const m = /^sc:\/\/([^/:;]+)(?::(\d{1,5}))?\/?(?:;.*)?$/.exec(remote.trim());
  if (!m) {
    throw new MercuryError("config", `"${remote}" is not a Spark Connect address`, {
      where: "MERCURY_SPARK_REMOTE",
      hint: "use sc://host:port, e.g. sc://127.0.0.1:55002",
    });
  }
  return `${m[1]}:${m[2] ?? "15002"}`;
}

// deno-lint-ignore no-explicit-any
type Reply = any;
type Unary = (
  req: unknown,
  md: Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: Reply) => void,
) => void;

/** A Spark Connect session. */
export class SparkSession {
  readonly remote: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly timeoutMs: number | undefined;
  // deno-lint-ignore no-explicit-any
  readonly #client: any;
  #planId = 0;
  #serverSessionId: string | undefined;
  #closed = false;

  private constructor(remote: string, client: unknown, options: ConnectOptions) {
    this.remote = remote;
    this.#client = client;
    this.sessionId = options.sessionId ?? crypto.randomUUID();
    this.userId = options.userId ?? "mercury";
    this.timeoutMs = options.timeoutMs;
  }

  /** Opens a channel and checks that the server answers (a Spark version request). */
  static async connect(options: ConnectOptions = {}): Promise<SparkSession> {
    const remote = options.remote ?? resolveSparkRemote();
    const address = parseRemote(remote);
    const { credentials } = await import("@grpc/grpc-js");
    const Ctor = sparkConnectService();
    const client = new Ctor(address, credentials.createInsecure(), {
      "grpc.max_receive_message_length": 512 * 1024 * 1024,
      "grpc.max_send_message_length": 256 * 1024 * 1024,
    });
    const session = new SparkSession(remote, client, options);
    const deadline = Date.now() + (options.connectTimeoutMs ?? 10_000);
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(deadline, (err: Error | undefined) =>
        err
          ? reject(
            new SparkError("unavailable", `Spark Connect at ${remote} is not answering: ${err.message}`, {
              grpcCode: 14,
              where: remote,
              hint: "start it with `deno task services up spark`, or set MERCURY_SPARK_REMOTE=sc://host:port",
              cause: err,
            }),
          )
          : resolve())
    );
    return session;
  }

  /** A new plan id: Spark Connect ties column references to the relation they came from by it. */
  nextPlanId(): number {
    return ++this.#planId;
  }

  #base(): Record<string, unknown> {
    const base: Record<string, unknown> = {
      session_id: this.sessionId,
      user_context: { user_id: this.userId, user_name: this.userId },
      client_type: "mercury-deno/0.1",
    };
    if (this.#serverSessionId) base.client_observed_server_side_session_id = this.#serverSessionId;
    return base;
  }

  #unary<T>(method: string, body: Record<string, unknown>, what: string, timeoutMs?: number): Promise<T> {
    this.#checkOpen();
    const fnc = this.#client[method].bind(this.#client) as Unary;
    const opts: grpc.CallOptions = {};
    const t = timeoutMs ?? this.timeoutMs;
    if (t !== undefined) opts.deadline = Date.now() + t;
    return new Promise<T>((resolve, reject) =>
      fnc({ ...this.#base(), ...body }, new Metadata(), opts, (err, res) => {
        if (err) reject(fromGrpcError(err, what, this.remote));
        else {
          if (res?.server_side_session_id) this.#serverSessionId = res.server_side_session_id;
          resolve(res as T);
        }
      })
    );
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new MercuryError("usage", "this Spark session is closed", { where: this.remote, hint: "connect again" });
    }
  }

  /**
   * Runs a plan (a relation or a command) and gathers its Arrow batches into
   * one Table. Interrupts the server-side operation on timeout or abort.
   */
  execute(
    plan: { root?: Relation; command?: Record<string, unknown> },
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    this.#checkOpen();
    const operationId = crypto.randomUUID();
    const what = options.what ?? (plan.command ? Object.keys(plan.command)[0] ?? "command" : "query");
    const req: Record<string, unknown> = { ...this.#base(), operation_id: operationId, plan };
    if (options.tags?.length) req.tags = options.tags;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<ExecResult>((resolve, reject) => {
      const batches: Table[] = [];
      let arrowBytes = 0;
      let sqlRelation: Relation | undefined;
      let metrics: unknown[] = [];
      let mlResult: Record<string, unknown> | undefined;
      let settled = false;
      let interruptedBy: "timeout" | "abort" | undefined;
      const call = this.#client.ExecutePlan(req, new Metadata()) as grpc.ClientReadableStream<Reply>;
      const stop = (why: "timeout" | "abort") => {
        if (settled) return;
        interruptedBy = why;
        this.interruptOperation(operationId).catch(() => {}).finally(() => call.cancel());
      };
      const timer = timeoutMs !== undefined ? setTimeout(() => stop("timeout"), timeoutMs) : undefined;
      const onAbort = () => stop("abort");
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        if (err) return reject(err);
        const table = batches.length === 0
          ? undefined
          : batches.length === 1
          ? batches[0]
          : batches[0]!.concat(...batches.slice(1));
        resolve({ table, operationId, sqlRelation, arrowBytes, metrics, mlResult });
      };
      if (options.signal?.aborted) stop("abort");
      call.on("data", (res) => {
        if (res.server_side_session_id) this.#serverSessionId = res.server_side_session_id;
        if (res.arrow_batch?.data) {
          const data = res.arrow_batch.data as Uint8Array;
          arrowBytes += data.byteLength;
          batches.push(tableFromIPC(data));
        }
        if (res.sql_command_result?.relation) sqlRelation = res.sql_command_result.relation;
        if (res.metrics?.metrics) metrics = res.metrics.metrics;
        if (res.ml_command_result) mlResult = res.ml_command_result;
      });
      call.on("error", (err: grpc.ServiceError) => {
        if (interruptedBy === "timeout") {
          finish(
            new SparkError("timeout", `${what} did not finish within ${timeoutMs} ms; interrupted on the server`, {
              grpcCode: 4,
              where: this.remote,
              hint: "raise the timeout, or make the query cheaper",
              cause: err,
            }),
          );
        } else if (interruptedBy === "abort") {
          finish(
            new SparkError("timeout", `${what} was cancelled; interrupted on the server`, {
              grpcCode: 1,
              where: this.remote,
              cause: err,
            }),
          );
        } else finish(fromGrpcError(err, what, this.remote));
      });
      call.on("end", () => finish());
    });
  }

  /** Runs SQL as Spark does (commands run now, queries stay lazy) and returns its DataFrame. */
  async sql(query: string, args?: Record<string, unknown>, options: ExecOptions = {}): Promise<DataFrame> {
    const input: Relation = { common: { plan_id: this.nextPlanId() }, sql: { query } };
    if (args) {
      (input.sql as Record<string, unknown>).named_arguments = Object.fromEntries(
        Object.entries(args).map(([k, v]) => [k, { literal: literal(v) }]),
      );
    }
    const r = await this.execute({ command: { sql_command: { input } } }, { what: "sql", ...options });
    return new DataFrame(this, r.sqlRelation ?? input);
  }

  /** A table or view by name. */
  table(name: string): DataFrame {
    return new DataFrame(this, { read: { named_table: { unparsed_identifier: name } } });
  }

  /** `range(start, end, step)` as a DataFrame with one `id` column. */
  range(start: number, end?: number, step = 1, numPartitions?: number): DataFrame {
    const [s, e] = end === undefined ? [0, start] : [start, end];
    const range: Record<string, unknown> = { start: String(s), end: String(e), step: String(step) };
    if (numPartitions !== undefined) range.num_partitions = numPartitions;
    return new DataFrame(this, { range });
  }

  /** A DataFrame of local data: an Arrow IPC stream (e.g. `tableToIPC(table, "stream")`). */
  createDataFrame(arrowIpc: Uint8Array, schemaDdl?: string): DataFrame {
    const local: Record<string, unknown> = { data: arrowIpc };
    if (schemaDdl) local.schema = schemaDdl;
    return new DataFrame(this, { local_relation: local });
  }

  /** A reader: `spark.read.format("parquet").option(…).load(path)`. */
  get read(): DataFrameReader {
    return new DataFrameReader(this);
  }

  /** Sets session configuration (`spark.sql.*`). */
  async setConf(pairs: Record<string, string | number | boolean>): Promise<void> {
    await this.#unary("Config", {
      operation: {
        set: { pairs: Object.entries(pairs).map(([key, value]) => ({ key, value: String(value) })) },
      },
    }, "config set");
  }

  /** Reads session configuration values. */
  async getConf(keys: string[]): Promise<Record<string, string | undefined>> {
    const r = await this.#unary<{ pairs: { key: string; value?: string }[] }>("Config", {
      operation: { get_option: { keys } },
    }, "config get");
    return Object.fromEntries(r.pairs.map((p) => [p.key, p.value]));
  }

  /** `AnalyzePlan` (schema, explain, persist, spark_version…); returns the raw response. */
  async analyze(body: Record<string, unknown>, what = "analyze"): Promise<Reply> {
    return await this.#unary("AnalyzePlan", body, what);
  }

  /** The server's Spark version. */
  async version(): Promise<string> {
    const r = await this.analyze({ spark_version: {} }, "spark version");
    return r.spark_version.version as string;
  }

  /** Interrupts one operation by id. */
  async interruptOperation(operationId: string): Promise<string[]> {
    const r = await this.#unary<{ interrupted_ids?: string[] }>(
      "Interrupt",
      {
        interrupt_type: "INTERRUPT_TYPE_OPERATION_ID",
        operation_id: operationId,
      },
      "interrupt",
      10_000,
    );
    return r.interrupted_ids ?? [];
  }

  /** Interrupts every running operation with this tag. */
  async interruptTag(tag: string): Promise<string[]> {
    const r = await this.#unary<{ interrupted_ids?: string[] }>(
      "Interrupt",
      {
        interrupt_type: "INTERRUPT_TYPE_TAG",
        operation_tag: tag,
      },
      "interrupt",
      10_000,
    );
    return r.interrupted_ids ?? [];
  }

  /** Interrupts every running operation of this session. */
  async interruptAll(): Promise<string[]> {
    const r = await this.#unary<{ interrupted_ids?: string[] }>(
      "Interrupt",
      {
        interrupt_type: "INTERRUPT_TYPE_ALL",
      },
      "interrupt",
      10_000,
    );
    return r.interrupted_ids ?? [];
  }

  /** Releases the server-side session and closes the channel. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#unary("ReleaseSession", {}, "release session", 5_000);
    } catch { /* the server may already be gone */ }
    this.#closed = true;
    this.#client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
