/**
 * The quality score of a run, per dimension and overall.
 *
 * Each evaluated expectation i gets a pass rate s_i in [0, 1]:
 * `1 − unexpected_percent / 100` where the result has row counts (column map
 * expectations: the share of rows that met it, over the non-missing rows as
 * GX counts them), else 1 when it succeeded and 0 when it failed (aggregate
 * expectations, and any that raised an error). Each belongs to one dimension:
 * `meta.dimension` when the suite says so, else by type (below). A dimension's
 * score is `D_d = 100 × Σ w_i s_i / Σ w_i` over its expectations (`w_i` =
 * `meta.weight`, default 1); the overall score is `Σ W_d D_d / Σ W_d` over the
 * dimensions the suite has (`W_d` = the suite's `weights[d]`, default 1).
 * Timeliness and accuracy count only expectations whose `meta.dimension`
 * names them.
 *
 * @module
 */
import type { ExpectationResult, ExpectationSuite, ValidationRun } from "./types.ts";

/** The six dimensions. */
export const DIMENSIONS = ["completeness", "validity", "uniqueness", "consistency", "timeliness", "accuracy"] as const;
/** A quality dimension. */
export type Dimension = typeof DIMENSIONS[number];

/** The score of one dimension. */
export interface DimensionScore {
  dimension: Dimension;
  /** 0…100. */
  score: number;
  weight: number;
  expectations: number;
  passed: number;
}

/** A run's score. */
export interface QualityScore {
  /** 0…100, weighted over the dimensions present. */
  overall: number;
  dimensions: DimensionScore[];
  /** The formula, as shown in reports. */
  formula: string;
}

/** The formula in words, for reports and the README. */
export const SCORE_FORMULA =
  "s_i = 1 − unexpected_percent/100 for row-level expectations, else 1 if it passed, 0 if not; " +
  "D_d = 100 × Σ w_i·s_i / Σ w_i over dimension d's expectations (w_i = meta.weight, default 1); " +
  "overall = Σ W_d·D_d / Σ W_d over the dimensions present (W_d = suite weights[d], default 1).";

const BY_TYPE: [RegExp, Dimension][] = [
  [/to_not_be_null$|to_be_null$|^expect_column_to_exist$|^expect_table_row_count|^expect_table_column/, "completeness"],
  [/unique|^expect_select_column_values_unique_within_record$/, "uniqueness"],
  [
    /^expect_column_pair|^expect_multicolumn|increasing$|decreasing$|^expect_column_distinct_values|kl_divergence/,
    "consistency",
  ],
];

/** The dimension an expectation counts in. */
export function dimensionOf(e: ExpectationResult["expectation_config"]): Dimension {
  const d = e.meta?.dimension;
  if (typeof d === "string" && (DIMENSIONS as readonly string[]).includes(d)) return d as Dimension;
  for (const [re, dim] of BY_TYPE) if (re.test(e.type)) return dim;
  return "validity";
}

/** The pass rate of one result (see the module doc). */
export function passRate(r: ExpectationResult): number {
  if (r.exception_info?.raised_exception) return 0;
  const p = r.result?.unexpected_percent;
  if (typeof p === "number" && Number.isFinite(p) && typeof r.result?.element_count === "number") {
    return Math.min(1, Math.max(0, 1 - p / 100));
  }
  return r.success ? 1 : 0;
}

/**
 * Scores a run; `weights` per dimension default to the suite's.
 *
 * @example
 * ```ts
 * import { scoreRun } from "./score.ts";
 * import assert from "node:assert/strict";
 *
 * const r = (type: string, success: boolean, unexpected_percent?: number) => ({
 *   success, expectation_config: { type, kwargs: { column: "x" } },
 *   result: unexpected_percent === undefined ? {} : { element_count: 100, unexpected_percent },
 *   exception_info: { raised_exception: false, exception_message: null, exception_traceback: null }, meta: {},
 * });
 * const s = scoreRun({ results: [
 *   r("expect_column_values_to_not_be_null", false, 10), // completeness 90
 *   r("expect_column_values_to_be_unique", true, 0), // uniqueness 100
 * ] } as never);
 * assert.equal(s.overall, 95);
 * ```
 */
export function scoreRun(run: Pick<ValidationRun, "results">, suite?: Pick<ExpectationSuite, "weights">): QualityScore {
  const acc = new Map<Dimension, { sw: number; s: number; n: number; passed: number }>();
  for (const r of run.results) {
    const d = dimensionOf(r.expectation_config);
    const w = Number(r.expectation_config.meta?.weight ?? 1);
    const a = acc.get(d) ?? { sw: 0, s: 0, n: 0, passed: 0 };
    a.sw += w;
    a.s += w * passRate(r);
    a.n += 1;
    a.passed += r.success ? 1 : 0;
    acc.set(d, a);
  }
  const dimensions: DimensionScore[] = DIMENSIONS.filter((d) => acc.has(d)).map((d) => {
    const a = acc.get(d)!;
    return {
      dimension: d,
      score: a.sw > 0 ? (100 * a.s) / a.sw : 100,
      weight: Number(suite?.weights?.[d] ?? 1),
      expectations: a.n,
      passed: a.passed,
    };
  });
  const tw = dimensions.reduce((s, d) => s + d.weight, 0);
  const overall = tw > 0 ? dimensions.reduce((s, d) => s + d.weight * d.score, 0) / tw : 100;
  return { overall, dimensions, formula: SCORE_FORMULA };
}
