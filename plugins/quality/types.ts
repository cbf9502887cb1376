/**
 * The public types of the quality plugin: a suite of expectations (Great
 * Expectations Core 1.x names and kwargs), one expectation's result (GX's
 * `ExpectationValidationResult` shape), a validation run, the source a run
 * reads, and the signature of {@linkcode ValidateFn}. Light: no imports
 * beyond types, so the manifest, reports and other plugins can use them.
 *
 * @example
 * ```ts
 * import type { ExpectationSuite } from "@mercury/quality/types";
 * import assert from "node:assert/strict";
 *
 * const suite: ExpectationSuite = {
 *   name: "orders",
 *   expectations: [{ type: "expect_column_values_to_not_be_null", kwargs: { column: "id" } }],
 * };
 * assert.equal(suite.expectations.length, 1);
 * ```
 *
 * @module
 */

/** GX's result formats, from the least to the most detail. */
export type ResultFormatName = "BOOLEAN_ONLY" | "BASIC" | "SUMMARY" | "COMPLETE";

/** A result format as GX accepts it: a name, or a dict with `result_format` and the partial list size. */
export type ResultFormat =
  | ResultFormatName
  | {
    result_format: ResultFormatName;
    /** How many unexpected values `partial_unexpected_list` keeps (GX default 20). */
    partial_unexpected_count?: number;
    /** Whether to include the unexpected rows' primary key columns (`unexpected_index_list`). */
    unexpected_index_column_names?: string[];
    /** GX's flag to also return the query that finds unexpected rows. */
    return_unexpected_index_query?: boolean;
  };

/**
 * Arguments of one expectation, keyed as in GX (`column`, `min_value`,
 * `max_value`, `value_set`, `regex`, `mostly`, `strict_min`, …). Validated
 * per expectation type when the suite is loaded.
 */
export type ExpectationKwargs = Record<string, unknown> & {
  /** The column the expectation applies to, for column expectations. */
  column?: string;
  /** Share of non-null values (0…1) that must be expected for success (column map expectations). */
  mostly?: number;
  /** Per-expectation result format override. */
  result_format?: ResultFormat;
  /** GX's `row_condition` (a SQL predicate here) restricting the rows the expectation sees. */
  row_condition?: string;
};

/**
 * One expectation as configured: GX's `ExpectationConfiguration` JSON shape
 * (`type`, `kwargs`, `meta`, optional `id`, `notes`, `description`).
 */
export interface ExpectationConfig {
  /** GX snake_case name, e.g. `expect_column_values_to_be_between`, or a custom type's name. */
  type: string;
  kwargs: ExpectationKwargs;
  /** Free metadata; `meta.dimension` names the quality dimension (completeness, validity, …) for scoring. */
  meta?: Record<string, unknown>;
  /** Stable id (GX assigns a UUID); optional here. */
  id?: string;
  notes?: string;
  description?: string;
  /** Where the expectation was defined: `file:line:column`, for error messages. */
  where?: string;
}

/** A suite: GX's `ExpectationSuite` shape plus Mercury's score weights and version. */
export interface ExpectationSuite {
  name: string;
  expectations: ExpectationConfig[];
  meta?: Record<string, unknown>;
  /** Default result format of every expectation (GX default `SUMMARY`). */
  result_format?: ResultFormat;
  /** Version number when loaded from the suite store (PostgreSQL); absent for a file. */
  version?: number;
  /** Quality-score weights per dimension (B's score module reads them). */
  weights?: Record<string, number>;
}

/** GX's `exception_info` of one result. */
export interface ExceptionInfo {
  raised_exception: boolean;
  exception_message: string | null;
  exception_traceback: string | null;
}

/**
 * The `result` dict of one expectation, GX's field names. Which fields are
 * present depends on the expectation kind and the result format: aggregate
 * expectations carry `observed_value` (plus `details` for some); column map
 * expectations carry the counts and lists.
 */
export interface ExpectationResultDetail {
  observed_value?: unknown;
  element_count?: number;
  unexpected_count?: number;
  /** As in GX: unexpected over NON-missing rows × 100 (equals `unexpected_percent_nonmissing`); over all rows is `unexpected_percent_total`. */
  unexpected_percent?: number;
  unexpected_percent_total?: number;
  unexpected_percent_nonmissing?: number;
  missing_count?: number;
  missing_percent?: number;
  partial_unexpected_list?: unknown[];
  partial_unexpected_counts?: { value: unknown; count: number }[];
  /** Values of the expected set absent from the column (distinct-value expectations). */
  partial_missing_list?: unknown[];
  partial_unexpected_index_list?: unknown[];
  unexpected_list?: unknown[];
  unexpected_index_list?: unknown[];
  unexpected_index_query?: string;
  details?: Record<string, unknown>;
}

/** One expectation's result: GX's `ExpectationValidationResult` JSON. */
export interface ExpectationResult {
  success: boolean;
  expectation_config: ExpectationConfig;
  result: ExpectationResultDetail;
  exception_info: ExceptionInfo;
  meta: Record<string, unknown>;
}

/** Counts over a run, GX's `statistics` names. */
export interface RunStatistics {
  evaluated_expectations: number;
  successful_expectations: number;
  unsuccessful_expectations: number;
  /** successful / evaluated × 100 (100 for an empty suite). */
  success_percent: number;
}

/** What identifies the data a run saw. */
export interface DataFingerprint {
  /** The source URI as given (credentials removed). */
  source: string;
  /** Source kind: csv, parquet, postgres, kafka, … */
  kind: string;
  row_count: number;
  /** Bytes of the files read, when the source is files. */
  bytes?: number;
  /** sha256 of the files' bytes, or of the table's contents/version, hex. */
  hash?: string;
  /** A table version (e.g. olap catalog version) when the source has one. */
  table_version?: string;
}

/** One validation run: the result a checkpoint writes and the audit trail stores. */
export interface ValidationRun {
  /** A UUID of the run. */
  run_id: string;
  success: boolean;
  suite_name: string;
  suite_version?: number;
  fingerprint: DataFingerprint;
  /** ISO 8601 UTC. */
  started_at: string;
  ended_at: string;
  results: ExpectationResult[];
  statistics: RunStatistics;
  /** Path of the Parquet with every failing row and the expectation(s) that failed it; absent when none failed or not asked. */
  failing_rows_path?: string;
  /** How many rows that Parquet holds. */
  failing_rows_count?: number;
  /** The SQL the engine ran, in order (what `--explain` prints). */
  sql?: string[];
  meta?: Record<string, unknown>;
}

/** Options of {@linkcode ValidateFn}. */
export interface ValidateOptions {
  /** Overrides the suite's result format. */
  result_format?: ResultFormat;
  /** Write every failing row to this Parquet path (atomically). Default: none. */
  failing_rows_path?: string;
  /** Only compile and return the SQL; run nothing but schema discovery. */
  explain?: boolean;
  /** Cancel a running validation. */
  signal?: AbortSignal;
  /** The run id to use (default a new UUID), e.g. to name files before the run. */
  run_id?: string;
  /** Extra metadata stored on the run. */
  meta?: Record<string, unknown>;
}

/**
 * A source the engine reads: an URI (`data.parquet`, `csv:file.txt`,
 * `postgres://…?table=s.t`, `kafka://topic?sample=1000`, `olap:table`,
 * `features:view`, `duckdb:file.db?table=t`) or an already-open relation.
 */
export type SourceRef = string | { uri: string; options?: Record<string, unknown> };

/** The library entry point's signature: `validate(source, suite, options) → ValidationRun`. */
export type ValidateFn = (
  source: SourceRef,
  suite: ExpectationSuite | string,
  options?: ValidateOptions,
) => Promise<ValidationRun>;

/** What a checkpoint action receives. */
export interface ActionContext {
  run: ValidationRun;
  suite: ExpectationSuite;
  /** Directory the checkpoint writes beside (result JSON, failing rows). */
  out_dir?: string;
}

/** A checkpoint action: `{ type: "write_json", path }`, `{ type: "webhook", url }`, …; B registers more. */
export interface ActionConfig {
  type: string;
  [key: string]: unknown;
}

/** An action implementation, registered by type name. */
export type ActionFn = (config: ActionConfig, ctx: ActionContext) => Promise<void>;
