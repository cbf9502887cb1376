/**
 * DataFrames of the Spark Connect client: each transformation wraps the
 * previous plan in a Spark Connect `Relation` (project, filter, with_columns,
 * aggregate, join, hint, sort, limit…); actions (`toArrow`, `count`,
 * `explain`, `write…save`) send the plan to the server. Results are Arrow
 * tables.
 *
 * @example
 * ```ts ignore
 * import { col, fn, SparkSession } from "@mercury/spark";
 * const spark = await SparkSession.connect();
 * const t = await spark.range(10)
 *   .withColumn("g", "id % 3")
 *   .groupBy("g").agg(fn.sum("id").alias("s"))
 *   .orderBy("g").toArrow();
 * ```
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { MercuryError } from "@mercury/core";
import { col, Column, type ColumnLike, expr, lit, sortOrder, toColumn } from "./column.ts";
import type { ExecOptions, ExecResult, SparkSession } from "./session.ts";
import { tableRows } from "./arrow.ts";

/** A Spark Connect `Relation` message. */
export type Relation = Record<string, unknown> & { common?: { plan_id?: number | string } };

/** Join kinds, as PySpark names them. */
export type JoinHow = "inner" | "left" | "right" | "full" | "left_semi" | "left_anti" | "cross";

const JOIN_TYPES: Record<JoinHow, string> = {
  inner: "JOIN_TYPE_INNER",
  left: "JOIN_TYPE_LEFT_OUTER",
  right: "JOIN_TYPE_RIGHT_OUTER",
  full: "JOIN_TYPE_FULL_OUTER",
  left_semi: "JOIN_TYPE_LEFT_SEMI",
  left_anti: "JOIN_TYPE_LEFT_ANTI",
  cross: "JOIN_TYPE_CROSS",
};

/** `explain()` modes. */
export type ExplainMode = "simple" | "extended" | "codegen" | "cost" | "formatted";

/** A lazy Spark DataFrame. */
export class DataFrame {
  readonly session: SparkSession;
  readonly plan: Relation;

  constructor(session: SparkSession, plan: Relation) {
    this.session = session;
    this.plan = plan.common?.plan_id !== undefined ? plan : { ...plan, common: { plan_id: session.nextPlanId() } };
  }

  /** The plan id, to tie a column to this input of a join (`df.col("id")`). */
  get planId(): number {
    return Number(this.plan.common?.plan_id);
  }

  /** A column of this DataFrame, unambiguous in a join. */
  col(name: string): Column {
    return col(name, this.planId);
  }

  #wrap(kind: string, body: Record<string, unknown>): DataFrame {
    return new DataFrame(this.session, { [kind]: { input: this.plan, ...body } });
  }

  /** Projects columns (names, Columns or `expr()` strings). */
  select(...cols: ColumnLike[]): DataFrame {
    return this.#wrap("project", { expressions: cols.map((c) => toColumn(c).expr) });
  }

  /** Projects SQL expressions (`selectExpr("a", "b * 2 AS c")`). */
  selectExpr(...exprs: string[]): DataFrame {
    return this.select(...exprs.map(expr));
  }

  /** Keeps rows where the condition holds (a Column or a SQL string). */
  filter(condition: Column | string): DataFrame {
    const c = typeof condition === "string" ? expr(condition) : condition;
    return this.#wrap("filter", { condition: c.expr });
  }

  /** Same as {@linkcode filter}. */
  where(condition: Column | string): DataFrame {
    return this.filter(condition);
  }

  /** Adds or replaces a column. */
  withColumn(name: string, value: Column | string): DataFrame {
    return this.withColumns({ [name]: value });
  }

  /** Adds or replaces several columns (values are Columns or SQL strings). */
  withColumns(columns: Record<string, Column | string>): DataFrame {
    return this.#wrap("with_columns", {
      aliases: Object.entries(columns).map(([name, v]) => ({
        expr: (typeof v === "string" ? expr(v) : v).expr,
        name: [name],
      })),
    });
  }

  /** Renames a column. */
  withColumnRenamed(from: string, to: string): DataFrame {
    return this.#wrap("with_columns_renamed", { renames: [{ col_name: from, new_col_name: to }] });
  }

  /** Drops columns by name. */
  drop(...names: string[]): DataFrame {
    return this.#wrap("drop", { column_names: names });
  }

  /** Distinct rows. */
  distinct(): DataFrame {
    return this.#wrap("deduplicate", { all_columns_as_keys: true });
  }

  /** Drops duplicate rows by these columns. */
  dropDuplicates(...names: string[]): DataFrame {
    return names.length === 0 ? this.distinct() : this.#wrap("deduplicate", { column_names: names });
  }

  /** Groups for an aggregation. */
  groupBy(...cols: ColumnLike[]): GroupedData {
    return new GroupedData(this, cols);
  }

  /** Global aggregation. */
  agg(...aggs: Column[]): DataFrame {
    return new GroupedData(this, []).agg(...aggs);
  }

  /**
   * Joins with another DataFrame on column names (`["id"]`) or a condition
   * Column; `how` as PySpark's.
   */
  join(other: DataFrame, on: string | string[] | Column, how: JoinHow = "inner"): DataFrame {
    const body: Record<string, unknown> = { left: this.plan, right: other.plan, join_type: JOIN_TYPES[how] };
    if (on instanceof Column) body.join_condition = on.expr;
    else body.using_columns = typeof on === "string" ? [on] : on;
    return new DataFrame(this.session, { join: body });
  }

  /** A plan hint: `broadcast`, `merge` (sort-merge), `shuffle_hash`, `repartition`, `coalesce`… */
  hint(name: string, ...params: unknown[]): DataFrame {
    return this.#wrap("hint", { name, parameters: params.map((p) => (p instanceof Column ? p : lit(p)).expr) });
  }

  /** Sorts (names ascending, or Columns with `.asc()` / `.desc()`). */
  orderBy(...cols: ColumnLike[]): DataFrame {
    return this.#wrap("sort", { order: cols.map(sortOrder), is_global: true });
  }

  /** Same as {@linkcode orderBy}. */
  sort(...cols: ColumnLike[]): DataFrame {
    return this.orderBy(...cols);
  }

  /** Keeps the first `n` rows. */
  limit(n: number): DataFrame {
    return this.#wrap("limit", { limit: n });
  }

  /** Repartitions to `n` partitions (with a shuffle), or by columns. */
  repartition(n: number, ...cols: ColumnLike[]): DataFrame {
    if (cols.length === 0) return this.#wrap("repartition", { num_partitions: n, shuffle: true });
    return this.#wrap("repartition_by_expression", {
      partition_exprs: cols.map((c) => toColumn(c).expr),
      num_partitions: n,
    });
  }

  /** Reduces to `n` partitions without a shuffle. */
  coalesce(n: number): DataFrame {
    return this.#wrap("repartition", { num_partitions: n, shuffle: false });
  }

  /** Names this DataFrame (for `alias.column` references). */
  alias(name: string): DataFrame {
    return this.#wrap("subquery_alias", { alias: name });
  }

  /** Union by column position (SQL `UNION ALL`). */
  unionAll(other: DataFrame): DataFrame {
    return new DataFrame(this.session, {
      set_op: { left_input: this.plan, right_input: other.plan, set_op_type: "SET_OP_TYPE_UNION", is_all: true },
    });
  }

  /** Runs the plan and returns its rows as one Arrow table. */
  async toArrow(options: ExecOptions = {}): Promise<Table> {
    const r = await this.execute(options);
    if (!r.table) {
      throw new MercuryError("internal", "Spark returned no Arrow batch for a query", { where: this.session.remote });
    }
    return r.table;
  }

  /** Runs the plan; the result with its operation id, Arrow byte count and metrics. */
  async execute(options: ExecOptions = {}): Promise<ExecResult> {
    return await this.session.execute({ root: this.plan }, options);
  }

  /** The rows as plain objects (small results only). */
  async collect(options: ExecOptions = {}): Promise<Record<string, unknown>[]> {
    return tableRows(await this.toArrow(options));
  }

  /** Counts rows on the cluster. */
  async count(options: ExecOptions = {}): Promise<number> {
    const t = await this.agg(
      new Column({ unresolved_function: { function_name: "count", arguments: [lit(1).expr] } }).alias("n"),
    )
      .toArrow(options);
    return Number(t.getChild("n")?.get(0));
  }

  /** Spark's plan explanation (`formatted` by default). */
  async explain(mode: ExplainMode = "formatted"): Promise<string> {
    const r = await this.session.analyze({
      explain: { plan: { root: this.plan }, explain_mode: `EXPLAIN_MODE_${mode.toUpperCase()}` },
    }, "explain");
    return r.explain.explain_string as string;
  }

  /** The schema as Spark's tree string. */
  async schemaString(): Promise<string> {
    const r = await this.session.analyze({ tree_string: { plan: { root: this.plan } } }, "schema");
    return r.tree_string.tree_string as string;
  }

  /** Caches the DataFrame (memory and disk, as PySpark's `cache()`); returns it. */
  async cache(): Promise<DataFrame> {
    await this.session.analyze({
      persist: {
        relation: this.plan,
        storage_level: { use_disk: true, use_memory: true, use_off_heap: false, deserialized: true, replication: 1 },
      },
    }, "cache");
    return this;
  }

  /** Drops the cached data. */
  async unpersist(): Promise<void> {
    await this.session.analyze({ unpersist: { relation: this.plan, blocking: true } }, "unpersist");
  }

  /** Registers a temporary view. */
  async createOrReplaceTempView(name: string): Promise<void> {
    await this.session.execute({
      command: { create_dataframe_view: { input: this.plan, name, is_global: false, replace: true } },
    }, { what: `create view ${name}` });
  }

  /** A writer for this DataFrame. */
  get write(): DataFrameWriter {
    return new DataFrameWriter(this);
  }
}

/** The result of `groupBy`. */
export class GroupedData {
  readonly df: DataFrame;
  readonly keys: ColumnLike[];
  constructor(df: DataFrame, keys: ColumnLike[]) {
    this.df = df;
    this.keys = keys;
  }
  /** Aggregates per group. */
  agg(...aggs: Column[]): DataFrame {
    return new DataFrame(this.df.session, {
      aggregate: {
        input: this.df.plan,
        group_type: "GROUP_TYPE_GROUPBY",
        grouping_expressions: this.keys.map((k) => toColumn(k).expr),
        aggregate_expressions: aggs.map((a) => a.expr),
      },
    });
  }
  /** Rows per group, as `count`. */
  count(): DataFrame {
    return this.agg(
      new Column({ unresolved_function: { function_name: "count", arguments: [lit(1).expr] } }).alias("count"),
    );
  }
}

/** What `spark.read` and `df.write` share: a data source format and its options (as text, as Spark takes them). */
abstract class SourceSettings {
  protected sourceFormat: string | undefined;
  protected sourceOptions: Record<string, string> = {};
  format(name: string): this {
    this.sourceFormat = name;
    return this;
  }
  option(key: string, value: string | number | boolean): this {
    this.sourceOptions[key] = String(value);
    return this;
  }
  options(opts: Record<string, string | number | boolean>): this {
    for (const [k, v] of Object.entries(opts)) this.option(k, v);
    return this;
  }
}

/** `spark.read`: a data source, its options and paths. */
export class DataFrameReader extends SourceSettings {
  readonly #session: SparkSession;
  #schema: string | undefined;
  constructor(session: SparkSession) {
    super();
    this.#session = session;
  }
  /** A DDL schema (`"id BIGINT, name STRING"`). */
  schema(ddl: string): this {
    this.#schema = ddl;
    return this;
  }
  /** Reads these paths (local, `hdfs://`, `s3a://`). */
  load(...paths: string[]): DataFrame {
    const ds: Record<string, unknown> = { options: this.sourceOptions, paths };
    if (this.sourceFormat) ds.format = this.sourceFormat;
    if (this.#schema) ds.schema = this.#schema;
    return new DataFrame(this.#session, { read: { data_source: ds } });
  }
  parquet(...paths: string[]): DataFrame {
    return this.format("parquet").load(...paths);
  }
  csv(...paths: string[]): DataFrame {
    return this.format("csv").load(...paths);
  }
  json(...paths: string[]): DataFrame {
    return this.format("json").load(...paths);
  }
  /** A table by name (catalog tables, Delta tables registered in the metastore). */
  table(name: string): DataFrame {
    return this.#session.table(name);
  }
}

/** Save modes. */
export type SaveMode = "append" | "overwrite" | "error" | "ignore";

const SAVE_MODES: Record<SaveMode, string> = {
  append: "SAVE_MODE_APPEND",
  overwrite: "SAVE_MODE_OVERWRITE",
  error: "SAVE_MODE_ERROR_IF_EXISTS",
  ignore: "SAVE_MODE_IGNORE",
};

/** `df.write`: format, mode, options, partitioning, then `save` or `saveAsTable`. */
export class DataFrameWriter extends SourceSettings {
  readonly #df: DataFrame;
  #mode: SaveMode = "error";
  #partitionBy: string[] = [];
  #sortBy: string[] = [];
  #bucket: { cols: string[]; n: number } | undefined;
  constructor(df: DataFrame) {
    super();
    this.#df = df;
  }
  mode(mode: SaveMode): this {
    this.#mode = mode;
    return this;
  }
  /** Writes one folder per value of these columns (`date=…/region=…/`). */
  partitionBy(...cols: string[]): this {
    this.#partitionBy = cols;
    return this;
  }
  /** Buckets by these columns into `n` buckets (tables only). */
  bucketBy(n: number, ...cols: string[]): this {
    this.#bucket = { cols, n };
    return this;
  }
  sortBy(...cols: string[]): this {
    this.#sortBy = cols;
    return this;
  }
  #op(target: Record<string, unknown>): Record<string, unknown> {
    const op: Record<string, unknown> = {
      input: this.#df.plan,
      mode: SAVE_MODES[this.#mode],
      options: this.sourceOptions,
      partitioning_columns: this.#partitionBy,
      sort_column_names: this.#sortBy,
      ...target,
    };
    if (this.sourceFormat) op.source = this.sourceFormat;
    if (this.#bucket) op.bucket_by = { bucket_column_names: this.#bucket.cols, num_buckets: this.#bucket.n };
    return op;
  }
  /** Writes to a path. */
  async save(path: string, options: ExecOptions = {}): Promise<void> {
    await this.#df.session.execute({ command: { write_operation: this.#op({ path }) } }, {
      what: `write ${path}`,
      ...options,
    });
  }
  /** Writes as a catalog table. */
  async saveAsTable(name: string, options: ExecOptions = {}): Promise<void> {
    await this.#df.session.execute({
      command: {
        write_operation: this.#op({ table: { table_name: name, save_method: "TABLE_SAVE_METHOD_SAVE_AS_TABLE" } }),
      },
    }, { what: `write table ${name}`, ...options });
  }
  /** Inserts into an existing table. */
  async insertInto(name: string, options: ExecOptions = {}): Promise<void> {
    await this.#df.session.execute({
      command: {
        write_operation: this.#op({ table: { table_name: name, save_method: "TABLE_SAVE_METHOD_INSERT_INTO" } }),
      },
    }, { what: `insert into ${name}`, ...options });
  }
  parquet(path: string, options: ExecOptions = {}): Promise<void> {
    return this.format("parquet").save(path, options);
  }
}
