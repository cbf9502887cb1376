/**
 * Per-column and dataset drift with Evidently's defaults (evidently 0.7.23
 * `DataDriftPreset`): NaN and ±∞ dropped first; the test chosen by column
 * type and size —
 *
 * - reference ≤ 1,000 rows: numerical with > 5 distinct values (reference ∪
 *   current) → `ks`; otherwise (and categorical) → `chisquare` when > 2
 *   distinct values, `z` when ≤ 2;
 * - reference > 1,000 rows: numerical with > 5 distinct values →
 *   `wasserstein`; otherwise (and categorical) → `jensenshannon`;
 *
 * each with its default threshold, and the dataset drifts when the share of
 * drifted columns is ≥ `driftShare` (0.5): `get_dataset_drift`'s
 * `share_drifted_columns >= drift_share`.
 *
 * @example
 * ```ts
 * import { dataDrift } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const ref = { x: Float64Array.from({ length: 200 }, (_, i) => i % 50) };
 * const cur = { x: Float64Array.from({ length: 200 }, (_, i) => 30 + (i % 50)) };
 * const report = dataDrift(ref, cur);
 * assert.equal(report.columns[0]!.test, "ks");
 * assert.equal(report.datasetDrift, true);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import {
  binCategorical,
  binNumerical,
  type Category,
  chiSquare,
  countValues,
  type DriftTestName,
  jensenShannon,
  klDivergence,
  ks2samp,
  psi,
  wassersteinNormed,
  zTestProportions,
} from "./drift_tests.ts";

/** Column kind, as Evidently's `ColumnType`. */
export type ColumnKind = "numerical" | "categorical";

/** A column's values: numbers for numerical columns, numbers or strings for categorical ones. */
export type ColumnValues = Float64Array | ArrayLike<number> | ArrayLike<Category | null | undefined>;

/** Evidently's default threshold of each test. */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftTestName, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
  kl_div: 0.1,
};

/** Tests whose value is a p-value (drift when small) rather than a distance (drift when large). */
export const P_VALUE_TESTS: ReadonlySet<DriftTestName> = new Set(["ks", "chisquare", "z"]);

/** Options for one column. */
export interface ColumnDriftOptions {
  /** Column kind; numerical when the values are numbers, else categorical. */
  kind?: ColumnKind;
  /** Force a test instead of Evidently's default choice. */
  test?: DriftTestName;
  /** Threshold; the test's default otherwise. */
  threshold?: number;
}

/** Drift of one column. */
export interface ColumnDrift {
  column: string;
  kind: ColumnKind;
  test: DriftTestName;
  /** Evidently's reported value: the p-value for `ks`/`chisquare`/`z`, the distance otherwise. */
  score: number;
  /** The test statistic (D, χ², z or the distance). */
  statistic: number;
  /** The p-value, for tests that have one. */
  pValue?: number;
  threshold: number;
  drifted: boolean;
  nReference: number;
  nCurrent: number;
}

/** A column's finite values made ready for the tests once (sorted numbers or counts). */
export interface PreparedColumn {
  kind: ColumnKind;
  /** Sorted finite values of a numerical column. */
  numbers?: Float64Array;
  /** Counts of a categorical column. */
  categories?: Map<Category, number>;
  /** Rows kept (NaN, ±∞ and nulls dropped). */
  n: number;
}
type Cleaned = PreparedColumn;

/**
 * Drops NaN, ±∞ and nulls and sorts (numerical) or counts (categorical) the
 * values; pass the result to {@linkcode columnDrift} to reuse a reference.
 */
export function prepareColumn(values: ColumnValues, kind?: ColumnKind, where = "column"): PreparedColumn {
  return clean(values, kind, where);
}

function isPrepared(x: ColumnValues | PreparedColumn): x is PreparedColumn {
  return typeof (x as PreparedColumn).kind === "string" && typeof (x as PreparedColumn).n === "number";
}

function clean(values: ColumnValues, kind: ColumnKind | undefined, where: string): Cleaned {
  const numeric = values instanceof Float64Array || values instanceof Float32Array ||
    (values.length > 0 && Array.from({ length: Math.min(values.length, 100) }, (_, i) => values[i])
      .every((v) => typeof v === "number" || v === null || v === undefined));
  const k: ColumnKind = kind ?? (numeric ? "numerical" : "categorical");
  if (k === "numerical") {
    if (!numeric) {
      throw new MercuryError("input", `column is numerical but holds non-numbers`, {
        where,
        hint: 'declare it kind "categorical" or pass numbers',
      });
    }
    const out = new Float64Array(values.length);
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number | null | undefined;
      if (typeof v === "number" && Number.isFinite(v)) out[n++] = v;
    }
    const numbers = out.subarray(0, n).sort();
    return { kind: k, numbers, n };
  }
  const categories = new Map<Category, number>();
  let n = 0;
  if (ArrayBuffer.isView(values)) {
    // integer codes in a typed array: count in an array, no hashing
    const codes = values as ArrayLike<number>;
    const counts = new Float64Array(1024);
    let small = true;
    for (let i = 0; i < codes.length; i++) {
      const v = codes[i]!;
      if (v >= 0 && v < 1024 && Number.isInteger(v)) counts[v]!++;
      else if (Number.isFinite(v)) {
        small = false;
        break;
      }
    }
    if (small) {
      for (let v = 0; v < 1024; v++) {
        if (counts[v]! > 0) {
          categories.set(v, counts[v]!);
          n += counts[v]!;
        }
      }
      return { kind: k, categories, n };
    }
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as Category | null | undefined;
    if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) continue;
    categories.set(v, (categories.get(v) ?? 0) + 1);
    n++;
  }
  return { kind: k, categories, n };
}

function distinctUnion(r: Cleaned, c: Cleaned, cap: number): number {
  const seen = new Set<Category>();
  for (const side of [r, c]) {
    if (side.categories) { for (const k of side.categories.keys()) seen.add(k); }
    else {
      const xs = side.numbers!;
      for (let i = 0; i < xs.length && seen.size <= cap; i++) if (i === 0 || xs[i] !== xs[i - 1]) seen.add(xs[i]!);
    }
    if (seen.size > cap) break;
  }
  return seen.size;
}

/** Evidently's default test for a column (`_get_default_stattest`). */
export function defaultDriftTest(kind: ColumnKind, nReference: number, distinct: number): DriftTestName {
  if (nReference <= 1000) {
    if (kind === "numerical" && distinct > 5) return "ks";
    return distinct > 2 ? "chisquare" : "z";
  }
  return kind === "numerical" && distinct > 5 ? "wasserstein" : "jensenshannon";
}

/** Drift of one column between `reference` and `current`. */
export function columnDrift(
  column: string,
  reference: ColumnValues | PreparedColumn,
  current: ColumnValues | PreparedColumn,
  options: ColumnDriftOptions = {},
): ColumnDrift {
  const r = isPrepared(reference) ? reference : clean(reference, options.kind, `reference column "${column}"`);
  const c = isPrepared(current) ? current : clean(current, r.kind, `current column "${column}"`);
  for (const [side, x] of [["reference", r], ["current", c]] as const) {
    if (x.n === 0) {
      throw new MercuryError("input", `column "${column}" has no finite values in the ${side} window`, {
        where: `${side} column "${column}"`,
        hint: "drop the column or widen the window",
      });
    }
  }
  const test = options.test ?? defaultDriftTest(r.kind, r.n, distinctUnion(r, c, 5));
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[test];
  const counts = (x: Cleaned) => x.categories ?? countValues(x.numbers!);
  let statistic: number, pValue: number | undefined;
  switch (test) {
    case "ks": {
      if (r.kind !== "numerical") throw badTest(column, test);
      const k = ks2samp(r.numbers!, c.numbers!, true);
      statistic = k.statistic;
      pValue = k.pValue;
      break;
    }
    case "chisquare": {
      const k = chiSquare(counts(r), counts(c));
      statistic = k.statistic;
      pValue = k.pValue;
      break;
    }
    case "z": {
      const k = zTestProportions(counts(r), counts(c));
      statistic = k.statistic;
      pValue = k.pValue;
      break;
    }
    case "wasserstein":
      if (r.kind !== "numerical") throw badTest(column, test);
      statistic = wassersteinNormed(r.numbers!, c.numbers!, true);
      break;
    default: {
      const fillZeros = test !== "jensenshannon";
      const b = r.kind === "numerical"
        ? binNumerical(r.numbers!, c.numbers!, fillZeros)
        : binCategorical(r.categories!, c.categories!, fillZeros);
      statistic = test === "jensenshannon"
        ? jensenShannon(b.reference, b.current)
        : test === "psi"
        ? psi(b.reference, b.current)
        : klDivergence(b.reference, b.current);
    }
  }
  const score = pValue ?? statistic;
  const drifted = test === "ks" ? score <= threshold : P_VALUE_TESTS.has(test) ? score < threshold : score >= threshold;
  return { column, kind: r.kind, test, score, statistic, pValue, threshold, drifted, nReference: r.n, nCurrent: c.n };
}

function badTest(column: string, test: string): MercuryError {
  return new MercuryError("input", `test "${test}" needs a numerical column`, {
    where: `column "${column}"`,
    hint: "use chisquare, z, jensenshannon, psi or kl_div for categorical columns",
  });
}

/** Options of a dataset drift report. */
export interface DataDriftOptions {
  /** Column kinds; inferred from the values when absent. */
  kinds?: Record<string, ColumnKind>;
  /** Per-column test overrides. */
  tests?: Record<string, DriftTestName>;
  /** Per-column threshold overrides. */
  thresholds?: Record<string, number>;
  /** Share of drifted columns from which the dataset drifts (0.5). */
  driftShare?: number;
  /** Columns to compare (all of the reference's by default). */
  columns?: string[];
}

/** A dataset drift report. */
export interface DataDriftReport {
  columns: ColumnDrift[];
  driftedColumns: number;
  shareDrifted: number;
  driftShare: number;
  datasetDrift: boolean;
}

/** Drift of every column and of the dataset (Evidently's `DataDriftPreset`). */
export function dataDrift(
  reference: Record<string, ColumnValues | PreparedColumn>,
  current: Record<string, ColumnValues | PreparedColumn>,
  options: DataDriftOptions = {},
): DataDriftReport {
  const names = options.columns ?? Object.keys(reference);
  if (names.length === 0) {
    throw new MercuryError("input", "no columns to compare", { where: "reference", hint: "pass at least one column" });
  }
  const columns = names.map((name) => {
    const cur = current[name], ref = reference[name];
    if (!ref || !cur) {
      throw new MercuryError("input", `column "${name}" is missing from the ${ref ? "current" : "reference"} data`, {
        where: `column "${name}"`,
        hint: "compare windows with the same columns",
      });
    }
    return columnDrift(name, ref, cur, {
      kind: options.kinds?.[name],
      test: options.tests?.[name],
      threshold: options.thresholds?.[name],
    });
  });
  const driftShare = options.driftShare ?? 0.5;
  const driftedColumns = columns.filter((c) => c.drifted).length;
  const shareDrifted = driftedColumns / columns.length;
  return { columns, driftedColumns, shareDrifted, driftShare, datasetDrift: shareDrifted >= driftShare };
}
