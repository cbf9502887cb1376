/**
 * Column expressions of the Spark Connect client, built as Spark Connect
 * `Expression` messages (the field names of Spark's own `expressions.proto`,
 * as `@grpc/proto-loader` takes them with `keepCase`). Nothing is evaluated
 * here: the server resolves names and types when a plan runs.
 *
 * @example
 * ```ts
 * import { col, fn, lit } from "@mercury/spark/connect/column";
 * import assert from "node:assert/strict";
 *
 * const e = fn.sum(col("amount").mul(lit(2))).alias("double_total");
 * assert.deepEqual(e.expr.alias?.name, ["double_total"]);
 * assert.equal(e.expr.alias?.expr.unresolved_function?.function_name, "sum");
 * ```
 *
 * @module
 */

/** A Spark Connect `Expression` message (the subset this client builds). */
export interface Expr {
  literal?: Record<string, unknown>;
  unresolved_attribute?: { unparsed_identifier: string; plan_id?: number };
  unresolved_function?: { function_name: string; arguments: Expr[]; is_distinct?: boolean };
  expression_string?: { expression: string };
  unresolved_star?: { unparsed_target?: string };
  alias?: { expr: Expr; name: string[] };
  cast?: { expr: Expr; type_str: string };
  sort_order?: SortOrderMsg;
  window?: {
    window_function: Expr;
    partition_spec: Expr[];
    order_spec: SortOrderMsg[];
    frame_spec?: unknown;
  };
}

/** A Spark Connect `Expression.SortOrder` message. */
export interface SortOrderMsg {
  child: Expr;
  direction: "SORT_DIRECTION_ASCENDING" | "SORT_DIRECTION_DESCENDING";
  null_ordering: "SORT_NULLS_FIRST" | "SORT_NULLS_LAST";
}

/** What column arguments accept: a Column, or a column name. */
export type ColumnLike = Column | string;

/** A column expression; methods return new columns. */
export class Column {
  readonly expr: Expr;
  constructor(expr: Expr) {
    this.expr = expr;
  }
  /** Names the result column. */
  alias(name: string): Column {
    return new Column({ alias: { expr: this.expr, name: [name] } });
  }
  /** Casts to a Spark SQL type (`"double"`, `"date"`, `"decimal(12,2)"`). */
  cast(type: string): Column {
    return new Column({ cast: { expr: this.expr, type_str: type } });
  }
  /** Ascending sort order (nulls first, as Spark's default). */
  asc(): Column {
    return new Column({
      sort_order: { child: this.expr, direction: "SORT_DIRECTION_ASCENDING", null_ordering: "SORT_NULLS_FIRST" },
    });
  }
  /** Descending sort order (nulls last, as Spark's default). */
  desc(): Column {
    return new Column({
      sort_order: { child: this.expr, direction: "SORT_DIRECTION_DESCENDING", null_ordering: "SORT_NULLS_LAST" },
    });
  }
  /** This (window or aggregate) function over a window. */
  over(w: WindowSpec): Column {
    return new Column({
      window: {
        window_function: this.expr,
        partition_spec: w.partitions.map((c) => toColumn(c).expr),
        order_spec: w.orders.map(sortOrder),
      },
    });
  }
  eq(other: unknown): Column {
    return binary("==", this, other);
  }
  neq(other: unknown): Column {
    return binary("!=", this, other);
  }
  gt(other: unknown): Column {
    return binary(">", this, other);
  }
  gte(other: unknown): Column {
    return binary(">=", this, other);
  }
  lt(other: unknown): Column {
    return binary("<", this, other);
  }
  lte(other: unknown): Column {
    return binary("<=", this, other);
  }
  and(other: unknown): Column {
    return binary("and", this, other);
  }
  or(other: unknown): Column {
    return binary("or", this, other);
  }
  add(other: unknown): Column {
    return binary("+", this, other);
  }
  sub(other: unknown): Column {
    return binary("-", this, other);
  }
  mul(other: unknown): Column {
    return binary("*", this, other);
  }
  div(other: unknown): Column {
    return binary("/", this, other);
  }
  isNull(): Column {
    return call("isnull", [this]);
  }
  isNotNull(): Column {
    return call("isnotnull", [this]);
  }
}

/** A window: partition and order columns (`Window.partitionBy(...).orderBy(...)`). */
export class WindowSpec {
  readonly partitions: ColumnLike[];
  readonly orders: ColumnLike[];
  constructor(partitions: ColumnLike[] = [], orders: ColumnLike[] = []) {
    this.partitions = partitions;
    this.orders = orders;
  }
  /** The same window, partitioned by these columns. */
  partitionBy(...cols: ColumnLike[]): WindowSpec {
    return new WindowSpec(cols, this.orders);
  }
  /** The same window, ordered by these columns (a Column's `.desc()` for descending). */
  orderBy(...cols: ColumnLike[]): WindowSpec {
    return new WindowSpec(this.partitions, cols);
  }
}

/** `Window.partitionBy(…).orderBy(…)`, as PySpark spells it. */
export const Window = {
  partitionBy: (...cols: ColumnLike[]): WindowSpec => new WindowSpec(cols),
  orderBy: (...cols: ColumnLike[]): WindowSpec => new WindowSpec([], cols),
};

/** A column by name (`"region"`, `"t.region"`, `` "`odd name`" ``); `planId` ties it to one input of a join. */
export function col(name: string, planId?: number): Column {
  if (name === "*") return new Column({ unresolved_star: {} });
  return new Column({
    unresolved_attribute: planId === undefined
      ? { unparsed_identifier: name }
      : { unparsed_identifier: name, plan_id: planId },
  });
}

/** A SQL expression string parsed by Spark (`expr("amount * 1.2")`). */
export function expr(sql: string): Column {
  return new Column({ expression_string: { expression: sql } });
}

/**
 * A literal: numbers (integers become `long` when outside the int range), strings,
 * booleans, null, bigint and Date (a `date`).
 */
export function lit(value: unknown): Column {
  return new Column({ literal: literal(value) });
}

/** The Spark Connect `Literal` message of a JS value. */
export function literal(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { null: { null: {} } };
  if (typeof value === "boolean") return { boolean: value };
  if (typeof value === "bigint") return { long: value.toString() };
  if (typeof value === "number") {
    if (Number.isInteger(value)) {
      return Math.abs(value) <= 2_147_483_647 ? { integer: value } : { long: String(value) };
    }
    return { double: value };
  }
  if (typeof value === "string") return { string: value };
  if (value instanceof Date) return { date: Math.floor(value.getTime() / 86_400_000) };
  throw new TypeError(`Cannot make a Spark literal of ${Object.prototype.toString.call(value)}`);
}

/** A call to a Spark SQL function by name (`call("date_trunc", lit("day"), col("ts"))`). */
export function call(name: string, args: ColumnLike[], distinct = false): Column {
  return new Column({
    unresolved_function: {
      function_name: name,
      arguments: args.map((a) => toColumn(a).expr),
      ...(distinct ? { is_distinct: true } : {}),
    },
  });
}

/** Common Spark SQL functions, by the names PySpark's `functions` module uses. */
export const fn = {
  sum: (c: ColumnLike): Column => call("sum", [c]),
  avg: (c: ColumnLike): Column => call("avg", [c]),
  min: (c: ColumnLike): Column => call("min", [c]),
  max: (c: ColumnLike): Column => call("max", [c]),
  count: (c: ColumnLike = lit(1)): Column => call("count", [c]),
  countDistinct: (c: ColumnLike): Column => call("count", [c], true),
  approxCountDistinct: (c: ColumnLike): Column => call("approx_count_distinct", [c]),
  rowNumber: (): Column => call("row_number", []),
  rank: (): Column => call("rank", []),
  lag: (c: ColumnLike, offset = 1): Column => call("lag", [c, lit(offset)]),
  coalesce: (...cs: ColumnLike[]): Column => call("coalesce", cs),
  lower: (c: ColumnLike): Column => call("lower", [c]),
  upper: (c: ColumnLike): Column => call("upper", [c]),
  trim: (c: ColumnLike): Column => call("trim", [c]),
  toDate: (c: ColumnLike): Column => call("to_date", [c]),
  round: (c: ColumnLike, scale = 0): Column => call("round", [c, lit(scale)]),
  broadcast: (c: ColumnLike): Column => call("broadcast", [c]),
};

/** A name or Column as a Column. */
export function toColumn(c: ColumnLike): Column {
  return typeof c === "string" ? col(c) : c;
}

/** A sort order message from a column (ascending unless it is already a sort order). */
export function sortOrder(c: ColumnLike): SortOrderMsg {
  const column = toColumn(c);
  return column.expr.sort_order ?? (column.asc().expr.sort_order as SortOrderMsg);
}

function binary(op: string, left: Column, right: unknown): Column {
  const r = right instanceof Column ? right : lit(right);
  return call(op, [left, r]);
}
