/**
 * Constraint suggestion from a profile, after Deequ's
 * `ConstraintSuggestionRunner` rules, written as a GX-shaped suite:
 *
 * | Deequ rule | when | expectation |
 * | --- | --- | --- |
 * | CompleteIfCompleteRule | no nulls | `expect_column_values_to_not_be_null` |
 * | RetainCompletenessRule | some nulls (< 50 %) | the same with `mostly` = observed share rounded down to 0.01 |
 * | UniqueIfApproximatelyUniqueRule | distinct = rows (exact) or within 1 % (HLL) | `expect_column_values_to_be_unique` |
 * | CategoricalRangeRule | ≤ 20 distinct text values, all in the top-k | `expect_column_values_to_be_in_set` |
 * | NonNegativeNumbersRule | numeric minimum ≥ 0 | `expect_column_min_to_be_between` (min_value 0) |
 * | (GX onboarding) | numeric | `expect_column_values_to_be_between` over the observed min … max |
 * | (semantic type) | email/URL/UUID/IP/phone shape | `expect_column_values_to_match_regex` with `mostly` |
 * | (GX onboarding) | always | `expect_table_row_count_to_be_between` ±10 %, `expect_table_columns_to_match_set` |
 *
 * Each suggestion's `meta` carries the rule that made it and its quality dimension.
 *
 * @module
 */
import type { ExpectationConfig, ExpectationSuite } from "./types.ts";
import { type Profile, SEMANTIC_PATTERNS } from "./profile/profile.ts";

/** Options of {@linkcode suggestSuite}. */
export interface SuggestOptions {
  /** The suite's name (default `suggested`). */
  name?: string;
  /** Most values of a categorical set (default 20). */
  maxCategories?: number;
}

const floor2 = (x: number) => Math.floor(x * 100) / 100;

/**
 * Proposes a suite from a profile.
 *
 * @example
 * ```ts
 * import { suggestSuite } from "./suggest.ts";
 * import type { Profile } from "./profile/profile.ts";
 * import assert from "node:assert/strict";
 *
 * const col = { name: "id", duckdbType: "BIGINT", inferredType: "integer", semanticType: null, semanticShare: 0,
 *   nullCount: 0, nullShare: 0, emptyCount: 0, emptyShare: 0, distinct: 10, distinctExact: true, min: 1, max: 10,
 *   mean: 5.5, stdev: 3, quantiles: [], histogram: [], topK: [], length: null, patterns: [] } as const;
 * const profile = { source: "t", rows: 10, columns: [col], correlations: [], sampleRows: 0, passes: 3,
 *   createdAt: "", elapsedMs: 0 } as unknown as Profile;
 * const suite = suggestSuite(profile);
 * assert.ok(suite.expectations.some((e) => e.type === "expect_column_values_to_be_unique"));
 * ```
 */
export function suggestSuite(profile: Profile, options: SuggestOptions = {}): ExpectationSuite {
  const maxCategories = options.maxCategories ?? 20;
  const out: ExpectationConfig[] = [];
  const add = (type: string, kwargs: Record<string, unknown>, rule: string, dimension: string) =>
    out.push({ type, kwargs, meta: { suggested_by: rule, dimension } });
  const n = profile.rows;
  add(
    "expect_table_row_count_to_be_between",
    { min_value: Math.floor(n * 0.9), max_value: Math.ceil(n * 1.1) },
    "RowCountRule",
    "completeness",
  );
  add(
    "expect_table_columns_to_match_set",
    { column_set: profile.columns.map((c) => c.name), exact_match: true },
    "SchemaRule",
    "consistency",
  );
  for (const c of profile.columns) {
    const column = c.name;
    if (c.nullCount === 0) {
      add("expect_column_values_to_not_be_null", { column }, "CompleteIfCompleteRule", "completeness");
    } else if (c.nullShare < 0.5) {
      add(
        "expect_column_values_to_not_be_null",
        { column, mostly: floor2(1 - c.nullShare) },
        "RetainCompletenessRule",
        "completeness",
      );
    }
    const nonNull = n - c.nullCount;
    const unique = c.distinctExact ? c.distinct === nonNull : Math.abs(c.distinct - nonNull) <= 0.01 * nonNull;
    if (nonNull > 1 && unique && c.inferredType !== "float") {
      add("expect_column_values_to_be_unique", { column }, "UniqueIfApproximatelyUniqueRule", "uniqueness");
    }
    const text = c.duckdbType.toUpperCase().startsWith("VARCHAR");
    const covered = c.topK.reduce((s, t) => s + t.count, 0);
    if (text && c.distinct <= maxCategories && c.topK.length === c.distinct && covered === nonNull) {
      const values = c.topK.map((t) => t.value).sort();
      add("expect_column_values_to_be_in_set", { column, value_set: values }, "CategoricalRangeRule", "validity");
    }
    const numeric = typeof c.min === "number" && typeof c.max === "number";
    if (numeric && (c.min as number) >= 0) {
      add("expect_column_min_to_be_between", { column, min_value: 0 }, "NonNegativeNumbersRule", "validity");
    }
    if (numeric && (c.max as number) > (c.min as number)) {
      add(
        "expect_column_values_to_be_between",
        { column, min_value: c.min, max_value: c.max },
        "ObservedRangeRule",
        "accuracy",
      );
    }
    if (text && c.semanticType && c.semanticType !== "date" && c.semanticType !== "currency") {
      add(
        "expect_column_values_to_match_regex",
        { column, regex: `^(${SEMANTIC_PATTERNS[c.semanticType]})$`, mostly: floor2(c.semanticShare) },
        `SemanticTypeRule(${c.semanticType})`,
        "validity",
      );
    }
    if (text && c.length && c.semanticType === null && c.distinct > maxCategories && c.length.max > 0) {
      add(
        "expect_column_value_lengths_to_be_between",
        { column, min_value: c.length.min, max_value: c.length.max },
        "StringLengthRule",
        "validity",
      );
    }
  }
  return {
    name: options.name ?? "suggested",
    expectations: out,
    meta: { suggested_from: profile.source, profiled_rows: profile.rows, profiled_at: profile.createdAt },
  };
}
