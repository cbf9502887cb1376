/**
 * What an expectation type is to the engine: its arguments and how it
 * compiles to SQL. Four kinds, so the engine can batch them:
 *
 * - `map`: a per-row predicate (true = unexpected) over the rows it
 *   considers (`filter`, default: the column is not null). Counted in the
 *   single aggregate scan, or in its own query when it needs a window
 *   (`window`), e.g. uniqueness or ordering.
 * - `aggregate`: SQL aggregates computed in the single scan, then a verdict
 *   in TypeScript.
 * - `query`: its own SQL over the source (distinct value sets, quantiles,
 *   modes), then a verdict.
 * - `table`: decided from the schema and the row count alone.
 *
 * @module
 */
import type { ExpectationKwargs } from "../types.ts";

/** One argument's type as checked when a suite loads. */
export type ArgType = "string" | "number" | "integer" | "boolean" | "array" | "object" | "string[]" | "any";

/** An argument of an expectation type. */
export interface ArgSpec {
  type: ArgType;
  required?: boolean;
}

/** A column of the source. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/** What compile functions get: the relation and helpers. */
export interface CompileContext {
  /** The relation's SQL name (`src`). */
  rel: string;
  columns: ColumnInfo[];
  /** The quoted identifier of a column; throws a clear error when it does not exist. */
  col(name: unknown, arg?: string): string;
  /** The DuckDB type of a column. */
  typeOf(name: string): string;
  /** A JSON value as a SQL literal. */
  lit(value: unknown): string;
}

/** The verdict of an aggregate, query or table expectation. */
export interface Verdict {
  success: boolean;
  /** `undefined` leaves it out of the result (as GX does for some types). */
  observed_value: unknown;
  details?: Record<string, unknown>;
  /** More `result` fields (e.g. unexpected_count and partial lists of the distinct-value expectations). */
  fields?: Record<string, unknown>;
}

interface Base {
  type: string;
  args: Record<string, ArgSpec>;
  /** Short description for docs and `--help`. */
  description?: string;
  /** The quality dimension it measures by default (completeness, validity, uniqueness, consistency, accuracy, timeliness). */
  dimension?: string;
  /** Extra checks of the arguments beyond their types; return an error message. */
  check?(kw: ExpectationKwargs): string | undefined;
}

/** A per-row expectation. */
export interface MapDefinition extends Base {
  kind: "map";
  /** SQL, true for an unexpected row (evaluated only on the considered rows). */
  predicate(kw: ExpectationKwargs, ctx: CompileContext): string;
  /** SQL, true for the rows considered (non-missing); default: the column is not null. `null`: all rows, no missing counts (not_be_null/be_null). */
  filter?(kw: ExpectationKwargs, ctx: CompileContext): string | null;
  /** SQL of the value shown in `partial_unexpected_list` (default the column). */
  value?(kw: ExpectationKwargs, ctx: CompileContext): string;
  /** Window expressions the predicate refers to as `__w` (the engine runs these in their own query). */
  window?(kw: ExpectationKwargs, ctx: CompileContext): string;
  /** Work before compiling (e.g. validating distinct values in TypeScript); may create temp tables. */
  prepare?(
    kw: ExpectationKwargs,
    ctx: CompileContext & {
      run(sql: string): Promise<Record<string, unknown>[]>;
      stream(sql: string): AsyncIterable<Record<string, unknown>[]>;
      exec(sql: string): Promise<void>;
      id: string;
    },
  ): Promise<void>;
}

/** An expectation over aggregates computed in the single scan. */
export interface AggregateDefinition extends Base {
  kind: "aggregate";
  /** Named SQL aggregate expressions. */
  aggregates(kw: ExpectationKwargs, ctx: CompileContext): Record<string, string>;
  evaluate(values: Record<string, unknown>, kw: ExpectationKwargs): Verdict;
}

/** An expectation with its own query. */
export interface QueryDefinition extends Base {
  kind: "query";
  query(kw: ExpectationKwargs, ctx: CompileContext): string;
  evaluate(rows: Record<string, unknown>[], kw: ExpectationKwargs): Verdict;
  /** Runs instead of `query`/`evaluate` when it needs more than one query (e.g. another source). */
  run?(
    kw: ExpectationKwargs,
    ctx: CompileContext & { run(sql: string): Promise<Record<string, unknown>[]> },
  ): Promise<Verdict>;
}

/** An expectation over the schema and row count. */
export interface TableDefinition extends Base {
  kind: "table";
  evaluate(kw: ExpectationKwargs, table: { columns: ColumnInfo[]; row_count: number }): Verdict | Promise<Verdict>;
}

/** Any expectation type. */
export type ExpectationDefinition = MapDefinition | AggregateDefinition | QueryDefinition | TableDefinition;
