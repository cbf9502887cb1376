/**
 * olap's catalog queried on the Spark cluster: {@linkcode SparkExecutor}
 * implements olap's {@linkcode Executor} through the Spark Connect client of
 * `@mercury/spark`. Each managed table's Parquet lake copy (the current
 * version's folder, Hive partitions included) is a Spark temp view named after
 * the table, re-registered when the catalog's version of it changes; answers
 * come back as Arrow ({@linkcode SparkExecutor.arrow}) or as DuckDB data chunks
 * for olap's encoders ({@linkcode SparkExecutor.stream}). A table stored
 * `duckdb` only has no lake copy and is not visible to Spark.
 *
 * Errors are Spark's own {@linkcode SparkError} (a `MercuryError` with Spark's
 * error class, e.g. `TABLE_OR_VIEW_NOT_FOUND`); Spark not answering is one
 * `unavailable` line with the hint `deno task services up spark`.
 *
 * Loaded on demand (`olap query --executor spark`): the olap manifest and
 * `@mercury/olap` do not import the Spark client.
 *
 * @example Query a catalog table on Spark
 * ```ts ignore
 * import { SparkExecutor } from "@mercury/olap/spark_executor";
 *
 * const ex = await SparkExecutor.create({ dataDir: ".mercury/olap" });
 * const rows = await ex.rows("select region, sum(amount) as total from sales group by region");
 * await ex.close();
 * ```
 *
 * @module
 */
import { type DuckDBConnection, JSDuckDBValueConverter } from "@duckdb/node-api";
import { SparkError, SparkSession } from "@mercury/spark";
import type { Table } from "apache-arrow";
import { Catalog, type TableMeta } from "./catalog.ts";
import { OlapError } from "./errors.ts";
import type { Executor, Params, QueryStream, RunOptions } from "./executor.ts";
import { arrowColumns, arrowToChunks } from "./_arrow_chunks.ts";

/** Options of {@linkcode SparkExecutor.create}. */
export interface SparkExecutorOptions {
  /** The catalog's data directory (opened here and closed with the executor). */
  dataDir?: string;
  /** An open catalog (left open by `close`). */
  catalog?: Catalog;
  /** `sc://host:port` (default: MERCURY_SPARK_REMOTE, then `.mercury/services.json`, then `sc://127.0.0.1:55002`). */
  remote?: string;
  /** Wait this long for Spark to answer the connection (default 10 s). */
  connectTimeoutMs?: number;
}

/** Runs olap queries on Spark over the catalog's Parquet lake copies. */
export class SparkExecutor implements Executor {
  readonly name = "spark";
  readonly session: SparkSession;
  readonly catalog: Catalog | undefined;
  #ownsCatalog: boolean;
  /** Table name → the catalog version registered as its Spark view. */
  #views = new Map<string, number>();
  /** Tables with no Parquet copy (storage `duckdb`). */
  #noLake = new Set<string>();
  #setup: string[] = [];
  #running = 0;
  #closed = false;

  private constructor(session: SparkSession, catalog: Catalog | undefined, ownsCatalog: boolean) {
    this.session = session;
    this.catalog = catalog;
    this.#ownsCatalog = ownsCatalog;
  }

  /** Connects to Spark (UTC session time zone, as DuckDB's instants) and registers the catalog's tables. */
  static async create(options: SparkExecutorOptions = {}): Promise<SparkExecutor> {
    const catalog = options.catalog ?? (options.dataDir ? await Catalog.open(options.dataDir) : undefined);
    let session: SparkSession;
    try {
      session = await SparkSession.connect({ remote: options.remote, connectTimeoutMs: options.connectTimeoutMs });
      await session.setConf({ "spark.sql.session.timeZone": "UTC" });
    } catch (err) {
      if (!options.catalog) await catalog?.close();
      throw err;
    }
    const ex = new SparkExecutor(session, catalog, !options.catalog);
    try {
      await ex.refresh();
    } catch (err) {
      await ex.close();
      throw err;
    }
    return ex;
  }

  /** Registers new or changed catalog tables as Spark views and drops the views of dropped tables. */
  async refresh(): Promise<void> {
    if (!this.catalog) return;
    const tables = await this.catalog.tables();
    for (const t of tables) {
      if (this.#views.get(t.name) === t.version) continue;
      const dir = this.catalog.parquetDir(t);
      if (!dir) {
        this.#noLake.add(t.name);
        continue;
      }
      this.#noLake.delete(t.name);
      await this.session.read.parquet(dir).createOrReplaceTempView(t.name);
      this.#views.set(t.name, t.version);
    }
    const names = new Set(tables.map((t: TableMeta) => t.name));
    for (const name of [...this.#views.keys()]) {
      if (names.has(name)) continue;
      await this.session.sql(`DROP VIEW IF EXISTS \`${name.replaceAll("`", "``")}\``);
      this.#views.delete(name);
    }
  }

  get busy(): { running: number; waiting: number } {
    return { running: this.#running, waiting: 0 };
  }

  /** Runs statements now and remembers them (Spark session state such as views and settings). */
  async setup(statements: string[]): Promise<void> {
    for (const s of statements) await this.exec(s);
    this.#setup.push(...statements);
  }

  /** Runs a statement (or a query, for its side effects) on the cluster. */
  async exec(sql: string, options: RunOptions = {}): Promise<void> {
    await this.#run(async (o) => {
      await (await this.session.sql(sql, namedArgs(options.params), o)).execute(o);
    }, options);
  }

  /** Runs a query and returns its answer as an Arrow table. */
  async arrow(sql: string, options: RunOptions = {}): Promise<Table> {
    return await this.#run(
      async (o) => await (await this.session.sql(sql, namedArgs(options.params), o)).toArrow(o),
      options,
    );
  }

  /** Rows as the DuckDB executor gives them: exact bigints as numbers, decimals as numbers, dates as ISO text. */
  async rows(sql: string, params?: Params, options: RunOptions = {}): Promise<Record<string, unknown>[]> {
    const table = await this.arrow(sql, { ...options, params });
    const names = table.schema.fields.map((f) => f.name);
    const out: Record<string, unknown>[] = [];
    for (const chunk of arrowToChunks(table)) {
      for (const row of chunk.convertRows(JSDuckDBValueConverter)) {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) {
          const v = row[i];
          o[names[i]!] = typeof v === "bigint"
            ? (v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString())
            : v instanceof Date
            ? v.toISOString()
            : v;
        }
        out.push(o);
      }
    }
    return out;
  }

  /** Runs a query on the cluster and hands its answer out as DuckDB chunks (olap's encoders read those). */
  async stream(sql: string, options: RunOptions = {}): Promise<QueryStream> {
    const table = await this.arrow(sql, options);
    let closed = false;
    const chunks = (async function* () {
      for (const c of arrowToChunks(table)) {
        if (closed) throw new OlapError(499, "cancelled", "the result was closed before its end");
        yield c;
      }
    })();
    return { columns: arrowColumns(table), chunks, close: () => void (closed = true) };
  }

  /** Not available: Spark has no DuckDB connection to lend. */
  withConnection<T>(_fn: (c: DuckDBConnection) => Promise<T>, _options?: RunOptions): Promise<T> {
    return Promise.reject(
      new OlapError(501, "unsupported", "the spark executor has no DuckDB connection", {
        where: "SparkExecutor.withConnection",
        hint: "use exec/rows/arrow/stream, or the duckdb executor for DuckDB-specific work",
      }),
    );
  }

  async #run<T>(fn: (o: { timeoutMs?: number; signal?: AbortSignal }) => Promise<T>, options: RunOptions): Promise<T> {
    if (this.#closed) throw new OlapError(503, "unavailable", "the executor is closed");
    await this.refresh();
    this.#running++;
    try {
      return await fn({ timeoutMs: options.timeoutMs || undefined, signal: options.signal });
    } catch (err) {
      throw this.#explain(err);
    } finally {
      this.#running--;
    }
  }

  /** A missing view that is a `duckdb`-only table: say so, keeping Spark's error class. */
  #explain(err: unknown): unknown {
    if (!(err instanceof SparkError) || err.sparkErrorClass !== "TABLE_OR_VIEW_NOT_FOUND") return err;
    const table = [...this.#noLake].find((t) => err.message.includes(`\`${t}\``));
    if (!table) return err;
    return new SparkError("not_found", `${err.message} (table "${table}" has no Parquet copy for Spark to read)`, {
      errorClass: err.sparkErrorClass,
      grpcCode: err.grpcCode,
      where: `table ${table}`,
      hint: `re-ingest it with --storage duckdb+parquet (or parquet)`,
      cause: err,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.session.close().catch(() => {});
    if (this.#ownsCatalog) await this.catalog?.close();
  }
}

/** olap's parameters as Spark's named arguments (`:name`); positional ones have no Spark SQL form here. */
function namedArgs(params: Params | undefined): Record<string, unknown> | undefined {
  if (params === undefined || params === null) return undefined;
  if (Array.isArray(params)) {
    if (params.length === 0) return undefined;
    throw new OlapError(400, "bad_params", "the spark executor takes named parameters only", {
      where: "params",
      hint: "write :name in the SQL and pass an object { name: value }",
    });
  }
  return params as Record<string, unknown>;
}
