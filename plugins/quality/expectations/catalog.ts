/**
 * GX Core 1.x expectations compiled to DuckDB SQL. Semantics follow GX's
 * pandas execution engine, checked against great-expectations 1.24.1 by
 * `tests/quality/gx_parity_test.ts`:
 *
 * - column map expectations ignore nulls (`missing_count`), and
 *   `unexpected_percent` is over the non-missing rows;
 * - `stdev` is the sample standard deviation (ddof = 1), `median` averages
 *   the two middle values, quantiles use numpy's `nearest` interpolation
 *   (ties to the even index);
 * - `unique` marks every row whose value occurs more than once;
 * - `increasing`/`decreasing` compare each non-null value with the previous
 *   non-null one in the source's row order (the first is expected).
 *
 * @module
 */
import type { ExpectationKwargs } from "../types.ts";
import type {
  AggregateDefinition,
  CompileContext,
  ExpectationDefinition,
  MapDefinition,
  QueryDefinition,
  TableDefinition,
  Verdict,
} from "./definition.ts";

const COL = { column: { type: "string", required: true } } as const;
const MOSTLY = { mostly: { type: "number" }, row_condition: { type: "string" } } as const;
const RANGE = {
  min_value: { type: "any" },
  max_value: { type: "any" },
  strict_min: { type: "boolean" },
  strict_max: { type: "boolean" },
} as const;

function num(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v && typeof v === "object" && "toDouble" in v) return (v as { toDouble(): number }).toDouble();
  return v;
}

/** GX's `between` check of an observed value (None bounds are open). */
export function between(v: unknown, kw: ExpectationKwargs): boolean {
  if (v === null || v === undefined) return false;
  const lo = kw.min_value, hi = kw.max_value;
  const cmp = (
    a: unknown,
    b: unknown,
  ) => (typeof a === "number" && typeof b === "number"
    ? a - b
    : String(a) < String(b)
    ? -1
    : String(a) > String(b)
    ? 1
    : 0);
  if (lo !== null && lo !== undefined) {
    const c = cmp(v, lo);
    if (kw.strict_min ? c <= 0 : c < 0) return false;
  }
  if (hi !== null && hi !== undefined) {
    const c = cmp(v, hi);
    if (kw.strict_max ? c >= 0 : c > 0) return false;
  }
  return true;
}

function rangeSql(x: string, kw: ExpectationKwargs, ctx: CompileContext): string {
  const parts: string[] = [];
  if (kw.min_value !== null && kw.min_value !== undefined) {
    parts.push(`${x} ${kw.strict_min ? ">" : ">="} ${ctx.lit(kw.min_value)}`);
  }
  if (kw.max_value !== null && kw.max_value !== undefined) {
    parts.push(`${x} ${kw.strict_max ? "<" : "<="} ${ctx.lit(kw.max_value)}`);
  }
  return parts.length ? `not (${parts.join(" and ")})` : "false";
}

function needBound(kw: ExpectationKwargs): string | undefined {
  return (kw.min_value ?? null) === null && (kw.max_value ?? null) === null
    ? "needs min_value or max_value (or both)"
    : undefined;
}

const setSql = (ctx: CompileContext, values: unknown) => `(${(values as unknown[]).map((v) => ctx.lit(v)).join(", ")})`;

function colMap(
  type: string,
  extra: Record<string, { type: MapDefinition["args"][string]["type"]; required?: boolean }>,
  predicate: MapDefinition["predicate"],
  more: Partial<MapDefinition> = {},
): MapDefinition {
  return { kind: "map", type, args: { ...COL, ...MOSTLY, ...extra }, predicate, ...more };
}

function colAgg(type: string, name: string, agg: (c: string) => string, dimension = "validity"): AggregateDefinition {
  return {
    kind: "aggregate",
    type,
    dimension,
    args: { ...COL, ...RANGE, row_condition: { type: "string" } },
    check: needBound,
    aggregates: (kw, ctx) => ({ [name]: agg(ctx.col(kw.column)) }),
    evaluate(values, kw) {
      const v = num(values[name]);
      return { success: between(v, kw), observed_value: v ?? null };
    },
  };
}

/** Round half to even, as numpy's `nearest` quantile method picks an index. */
export function nearestIndex(pos: number): number {
  const f = Math.floor(pos);
  const g = pos - f;
  if (g > 0.5) return f + 1;
  if (g < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const STRING_TYPES: Record<string, string> = {
  BIGINT: "int64",
  INTEGER: "int32",
  SMALLINT: "int16",
  TINYINT: "int8",
  UBIGINT: "uint64",
  UINTEGER: "uint32",
  DOUBLE: "float64",
  FLOAT: "float32",
  BOOLEAN: "bool",
  VARCHAR: "object",
  DATE: "object",
  TIMESTAMP: "datetime64[ns]",
  "TIMESTAMP_NS": "datetime64[ns]",
  "TIMESTAMP WITH TIME ZONE": "datetime64[ns, UTC]",
};

const PANDAS_NAMES = new Set(Object.values(STRING_TYPES).concat(["int", "float", "str", "string"]));

/** The type name a column reports: DuckDB's, or pandas' when the suite speaks pandas (`int64`, `object`, …). */
export function typeName(duck: string, pandasStyle: boolean): string {
  if (!pandasStyle) return duck;
  if (duck.startsWith("DECIMAL")) return "float64";
  return STRING_TYPES[duck] ?? "object";
}

function typeMatches(duck: string, wanted: string): { match: boolean; observed: string } {
  const pandas = PANDAS_NAMES.has(wanted);
  const observed = typeName(duck, pandas);
  const w = wanted.toUpperCase();
  const aliases: Record<string, string[]> = {
    INT: ["BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"],
    INTEGER: ["INTEGER"],
    FLOAT: ["DOUBLE", "FLOAT"],
    STR: ["VARCHAR"],
    STRING: ["VARCHAR"],
    TEXT: ["VARCHAR"],
  };
  const match = observed.toUpperCase() === w || duck.toUpperCase() === w || (aliases[w]?.includes(duck) ?? false) ||
    (duck.startsWith(w + "(") && w === "DECIMAL");
  return { match, observed };
}

function sortedDistinct(rows: Record<string, unknown>[]): unknown[] {
  return rows.map((r) => num(r.v));
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "number" && typeof b === "string" && String(a) === b) ||
    (typeof b === "number" && typeof a === "string" && String(b) === a);
}
const inList = (v: unknown, list: unknown[]) => list.some((x) => sameValue(v, x));

/**
 * GX 1.24's distinct-value expectations: `observed_value` is null; the
 * distinct values not in the set are `unexpected_count` and
 * `partial_unexpected_list`, the set's values absent from the column are
 * `missing_count` and `partial_missing_list` (each list capped at 20).
 */
function distinctQuery(type: string, unexpected: boolean, missing: boolean): QueryDefinition {
  return {
    kind: "query",
    type,
    dimension: "validity",
    args: { ...COL, value_set: { type: "array", required: true }, row_condition: { type: "string" } },
    query: (kw, ctx) => {
      const c = ctx.col(kw.column);
      return `select ${c} as v, count(*) as n from ${ctx.rel} where ${c} is not null group by 1 order by 1`;
    },
    evaluate(rows, kw) {
      const observed = sortedDistinct(rows);
      const set = (kw.value_set as unknown[]) ?? [];
      const notInSet = observed.filter((v) => !inList(v, set));
      const absent = set.filter((v) => !inList(v, observed));
      const fields: Record<string, unknown> = {};
      if (unexpected) {
        fields.unexpected_count = notInSet.length;
        fields.partial_unexpected_list = notInSet.slice(0, 20);
      }
      if (missing) {
        fields.missing_count = absent.length;
        fields.partial_missing_list = absent.slice(0, 20);
      }
      return {
        success: (!unexpected || notInSet.length === 0) && (!missing || absent.length === 0),
        observed_value: null,
        fields,
        details: { value_counts: rows.map((r) => ({ value: num(r.v), count: Number(r.n) })) },
      };
    },
  };
}

const allMissing = (cols: string[]) => cols.map((c) => `${c} is null`).join(" and ");
const anyMissing = (cols: string[]) => cols.map((c) => `${c} is null`).join(" or ");

function ignoreFilter(kw: ExpectationKwargs, cols: string[], dflt: string): string | null {
  const mode = String(kw.ignore_row_if ?? dflt);
  if (mode === "never") return "true";
  if (mode === "either_value_is_missing" || mode === "any_value_is_missing") return `not (${anyMissing(cols)})`;
  return `not (${allMissing(cols)})`;
}

function multiColumns(kw: ExpectationKwargs, ctx: CompileContext): string[] {
  return (kw.column_list as unknown[]).map((c) => ctx.col(c, "column_list"));
}

const jsonList = (cols: string[], names: string[]) =>
  `json_object(${cols.map((c, i) => `${JSON.stringify(names[i]).replaceAll('"', "'")}, ${c}`).join(", ")})`;

const definitions: ExpectationDefinition[] = [
  // ---- table ----
  {
    kind: "table",
    type: "expect_table_row_count_to_be_between",
    dimension: "completeness",
    args: { ...RANGE },
    evaluate: (kw, t) => ({ success: between(t.row_count, kw), observed_value: t.row_count }),
  } satisfies TableDefinition,
  {
    kind: "table",
    type: "expect_table_row_count_to_equal",
    dimension: "completeness",
    args: { value: { type: "integer", required: true } },
    evaluate: (kw, t) => ({ success: t.row_count === Number(kw.value), observed_value: t.row_count }),
  },
  {
    kind: "query",
    type: "expect_table_row_count_to_equal_other_table",
    dimension: "consistency",
    args: { other_table_name: { type: "string", required: true } },
    query: () => "",
    evaluate: () => ({ success: false, observed_value: null }),
    async run(kw, ctx) {
      const self = Number((await ctx.run(`select count(*) as n from ${ctx.rel}`))[0]!.n);
      const { openSource } = await import("../sources/open_source.ts");
      await using other = await openSource(String(kw.other_table_name), { view: "quality_other" });
      const n = Number(
        (await other.conn.runAndReadAll(`select count(*) as n from ${other.relation}`)).getRowObjects()[0]!.n,
      );
      return { success: self === n, observed_value: { self, other: n } };
    },
  },
  {
    kind: "table",
    type: "expect_column_to_exist",
    dimension: "consistency",
    args: { column: { type: "string", required: true }, column_index: { type: "integer" } },
    evaluate(kw, t) {
      const i = t.columns.findIndex((c) => c.name === kw.column);
      const ok = i >= 0 && (kw.column_index === undefined || kw.column_index === null || i === Number(kw.column_index));
      return { success: ok, observed_value: undefined, details: { column_index: i >= 0 ? i : null } };
    },
  },
  {
    kind: "table",
    type: "expect_table_columns_to_match_ordered_list",
    dimension: "consistency",
    args: { column_list: { type: "string[]", required: true } },
    evaluate(kw, t) {
      const got = t.columns.map((c) => c.name);
      const want = kw.column_list as string[];
      const ok = got.length === want.length && got.every((c, i) => c === want[i]);
      const mismatched = ok ? [] : Array.from({ length: Math.max(got.length, want.length) }, (_, i) => i)
        .filter((i) => got[i] !== want[i]).map((i) => ({
          "Expected Column Position": i,
          Expected: want[i] ?? null,
          Found: got[i] ?? null,
        }));
      return { success: ok, observed_value: got, details: ok ? undefined : { mismatched } };
    },
  },
  {
    kind: "table",
    type: "expect_table_columns_to_match_set",
    dimension: "consistency",
    args: { column_set: { type: "string[]", required: true }, exact_match: { type: "boolean" } },
    evaluate(kw, t) {
      const got = t.columns.map((c) => c.name);
      const want = kw.column_set as string[];
      const missing = want.filter((c) => !got.includes(c));
      const unexpected = got.filter((c) => !want.includes(c));
      const exact = kw.exact_match ?? true;
      const ok = missing.length === 0 && (!exact || unexpected.length === 0);
      return {
        success: ok,
        observed_value: [...got].sort(),
        details: ok ? undefined : { mismatched: { unexpected, missing } },
      };
    },
  },
  {
    kind: "table",
    type: "expect_table_column_count_to_be_between",
    dimension: "consistency",
    args: { ...RANGE },
    evaluate: (kw, t) => ({ success: between(t.columns.length, kw), observed_value: t.columns.length }),
  },
  {
    kind: "table",
    type: "expect_table_column_count_to_equal",
    dimension: "consistency",
    args: { value: { type: "integer", required: true } },
    evaluate: (kw, t) => ({ success: t.columns.length === Number(kw.value), observed_value: t.columns.length }),
  },
  // ---- column map ----
  colMap("expect_column_values_to_not_be_null", {}, (kw, ctx) => `${ctx.col(kw.column)} is null`, {
    filter: () => null,
    dimension: "completeness",
  }),
  colMap("expect_column_values_to_be_null", {}, (kw, ctx) => `${ctx.col(kw.column)} is not null`, {
    filter: () => null,
    dimension: "completeness",
  }),
  colMap("expect_column_values_to_be_unique", {}, (kw, ctx) => {
    const c = ctx.col(kw.column);
    return kw.__dup_table
      ? `${c} in (select k from ${kw.__dup_table})`
      : `${c} in (select ${c} from ${ctx.rel} where ${c} is not null group by 1 having count(*) > 1)`;
  }, {
    dimension: "uniqueness",
    // The duplicated values, found once into a temp table that the scan, the unexpected values and the failing rows share.
    async prepare(kw, ctx) {
      const c = ctx.col(kw.column);
      const table = `__quality_dup_${ctx.id}`;
      await ctx.exec(
        `create or replace temp table ${table} as select ${c} as k from ${ctx.rel} where ${c} is not null group by 1 having count(*) > 1`,
      );
      kw.__dup_table = table;
    },
  }),
  colMap("expect_column_values_to_be_between", { ...RANGE }, (kw, ctx) => {
    const c = ctx.col(kw.column);
    // A text column (e.g. an all-empty CSV column) against numeric bounds is compared as numbers.
    const numeric = typeof (kw.min_value ?? kw.max_value) === "number" && ctx.typeOf(String(kw.column)) === "VARCHAR";
    return rangeSql(numeric ? `try_cast(${c} as double)` : c, kw, ctx);
  }, {
    check: needBound,
  }),
  colMap(
    "expect_column_values_to_be_in_set",
    { value_set: { type: "array", required: true } },
    (kw, ctx) =>
      (kw.value_set as unknown[]).length ? `${ctx.col(kw.column)} not in ${setSql(ctx, kw.value_set)}` : "true",
  ),
  colMap(
    "expect_column_values_to_not_be_in_set",
    { value_set: { type: "array", required: true } },
    (kw, ctx) => (kw.value_set as unknown[]).length ? `${ctx.col(kw.column)} in ${setSql(ctx, kw.value_set)}` : "false",
  ),
  colMap("expect_column_values_to_be_of_type", { type_: { type: "string", required: true } }, () => "false"),
  colMap("expect_column_values_to_be_in_type_list", { type_list: { type: "string[]" } }, () => "false"),
  colMap(
    "expect_column_values_to_match_regex",
    { regex: { type: "string", required: true } },
    (kw, ctx) => `not regexp_matches(cast(${ctx.col(kw.column)} as varchar), ${ctx.lit(kw.regex)})`,
  ),
  colMap(
    "expect_column_values_to_not_match_regex",
    { regex: { type: "string", required: true } },
    (kw, ctx) => `regexp_matches(cast(${ctx.col(kw.column)} as varchar), ${ctx.lit(kw.regex)})`,
  ),
  colMap(
    "expect_column_values_to_match_regex_list",
    { regex_list: { type: "string[]", required: true }, match_on: { type: "string" } },
    (kw, ctx) => {
      const c = `cast(${ctx.col(kw.column)} as varchar)`;
      const tests = (kw.regex_list as string[]).map((r) => `regexp_matches(${c}, ${ctx.lit(r)})`);
      return kw.match_on === "all" ? `not (${tests.join(" and ")})` : `not (${tests.join(" or ")})`;
    },
  ),
  colMap(
    "expect_column_values_to_not_match_regex_list",
    { regex_list: { type: "string[]", required: true } },
    (kw, ctx) => {
      const c = `cast(${ctx.col(kw.column)} as varchar)`;
      return `(${(kw.regex_list as string[]).map((r) => `regexp_matches(${c}, ${ctx.lit(r)})`).join(" or ")})`;
    },
  ),
  colMap(
    "expect_column_values_to_match_like_pattern",
    { like_pattern: { type: "string", required: true } },
    (kw, ctx) => `not (cast(${ctx.col(kw.column)} as varchar) like ${ctx.lit(kw.like_pattern)})`,
  ),
  colMap(
    "expect_column_values_to_not_match_like_pattern",
    { like_pattern: { type: "string", required: true } },
    (kw, ctx) => `cast(${ctx.col(kw.column)} as varchar) like ${ctx.lit(kw.like_pattern)}`,
  ),
  colMap(
    "expect_column_values_to_match_like_pattern_list",
    { like_pattern_list: { type: "string[]", required: true }, match_on: { type: "string" } },
    (kw, ctx) => {
      const c = `cast(${ctx.col(kw.column)} as varchar)`;
      const t = (kw.like_pattern_list as string[]).map((p) => `${c} like ${ctx.lit(p)}`);
      return kw.match_on === "all" ? `not (${t.join(" and ")})` : `not (${t.join(" or ")})`;
    },
  ),
  colMap(
    "expect_column_value_lengths_to_be_between",
    { ...RANGE },
    (kw, ctx) => rangeSql(`length(cast(${ctx.col(kw.column)} as varchar))`, kw, ctx),
    { check: needBound },
  ),
  colMap(
    "expect_column_value_lengths_to_equal",
    { value: { type: "integer", required: true } },
    (kw, ctx) => `length(cast(${ctx.col(kw.column)} as varchar)) <> ${Number(kw.value)}`,
  ),
  colMap(
    "expect_column_values_to_be_dateutil_parseable",
    {},
    (kw, ctx) => {
      const c = `trim(cast(${ctx.col(kw.column)} as varchar))`;
      const fmts = [
        "%m/%d/%Y",
        "%d/%m/%Y",
        "%b %d %Y",
        "%d %b %Y",
        "%B %d, %Y",
        "%Y%m%d",
        "%m-%d-%Y",
        "%Y/%m/%d",
        "%H:%M:%S",
        "%H:%M",
      ];
      return `(try_cast(${c} as timestamp) is null and try_cast(${c} as timestamptz) is null and coalesce(${
        fmts.map((f) => `try_strptime(${c}, ${ctx.lit(f)})`).join(", ")
      }) is null)`;
    },
  ),
  colMap(
    "expect_column_values_to_match_strftime_format",
    { strftime_format: { type: "string", required: true } },
    (kw, ctx) => `try_strptime(cast(${ctx.col(kw.column)} as varchar), ${ctx.lit(kw.strftime_format)}) is null`,
  ),
  colMap(
    "expect_column_values_to_be_json_parseable",
    {},
    (kw, ctx) => `not coalesce(json_valid(cast(${ctx.col(kw.column)} as varchar)), false)`,
  ),
  colMap(
    "expect_column_values_to_match_json_schema",
    { json_schema: { type: "object", required: true } },
    (kw, ctx) => `cast(${ctx.col(kw.column)} as varchar) in (select v from ${kw.__bad_table})`,
    {
      async prepare(kw, ctx) {
        const { Ajv } = await import("ajv") as unknown as {
          Ajv: new (o: unknown) => { compile(s: unknown): (v: unknown) => boolean };
        };
        const ajv = new Ajv({ allErrors: false, strict: false });
        const validate = ajv.compile(kw.json_schema);
        const table = `__quality_json_bad_${ctx.id}`;
        await ctx.exec(`create or replace temp table ${table} (v varchar)`);
        const bad: string[] = [];
        for await (
          const rows of ctx.stream(
            `select distinct cast(${ctx.col(kw.column)} as varchar) as v from ${ctx.rel} where ${
              ctx.col(kw.column)
            } is not null`,
          )
        ) {
          for (const r of rows) {
            const s = String(r.v);
            let ok = false;
            try {
              ok = validate(JSON.parse(s));
            } catch { /* not JSON: unexpected */ }
            if (!ok) bad.push(s);
          }
        }
        // Inserted after the stream ends: another statement on the connection would end a pending stream.
        // Only the distinct failing values are held, 1,000 an insert.
        for (let i = 0; i < bad.length; i += 1000) {
          await ctx.exec(
            `insert into ${table} values ${bad.slice(i, i + 1000).map((b) => `(${ctx.lit(b)})`).join(", ")}`,
          );
        }
        kw.__bad_table = table;
      },
    },
  ),
  colMap(
    "expect_column_values_to_be_increasing",
    { strictly: { type: "boolean" } },
    (kw) => `__w is not null and ${kw.strictly ? "not (__v > __w)" : "not (__v >= __w)"}`,
    {
      window: (kw, ctx) => `lag(${ctx.col(kw.column)}) over ()`,
      dimension: "consistency",
    },
  ),
  colMap(
    "expect_column_values_to_be_decreasing",
    { strictly: { type: "boolean" } },
    (kw) => `__w is not null and ${kw.strictly ? "not (__v < __w)" : "not (__v <= __w)"}`,
    {
      window: (kw, ctx) => `lag(${ctx.col(kw.column)}) over ()`,
      dimension: "consistency",
    },
  ),
  // ---- column aggregates ----
  colAgg("expect_column_min_to_be_between", "min", (c) => `min(${c})`),
  colAgg("expect_column_max_to_be_between", "max", (c) => `max(${c})`),
  colAgg("expect_column_mean_to_be_between", "mean", (c) => `avg(${c})`, "accuracy"),
  colAgg("expect_column_median_to_be_between", "median", (c) => `median(${c})::double`, "accuracy"),
  colAgg("expect_column_stdev_to_be_between", "stdev", (c) => `stddev_samp(${c})`, "accuracy"),
  colAgg("expect_column_sum_to_be_between", "sum", (c) => `sum(${c})`, "accuracy"),
  {
    kind: "aggregate",
    type: "expect_column_proportion_of_unique_values_to_be_between",
    dimension: "uniqueness",
    args: { ...COL, ...RANGE },
    check: needBound,
    aggregates: (kw, ctx) => ({
      distinct: `count(distinct ${ctx.col(kw.column)})`,
      nonnull: `count(${ctx.col(kw.column)})`,
    }),
    evaluate(v, kw) {
      const d = Number(v.distinct), n = Number(v.nonnull);
      const p = n === 0 ? null : d / n;
      return { success: between(p, kw), observed_value: p };
    },
  },
  {
    kind: "aggregate",
    type: "expect_column_unique_value_count_to_be_between",
    dimension: "uniqueness",
    args: { ...COL, ...RANGE },
    check: needBound,
    aggregates: (kw, ctx) => ({ distinct: `count(distinct ${ctx.col(kw.column)})` }),
    evaluate: (v, kw) => ({ success: between(Number(v.distinct), kw), observed_value: Number(v.distinct) }),
  },
  {
    kind: "query",
    type: "expect_column_quantile_values_to_be_between",
    dimension: "accuracy",
    args: { ...COL, quantile_ranges: { type: "object", required: true }, allow_relative_error: { type: "any" } },
    check(kw) {
      const q = kw.quantile_ranges as { quantiles?: unknown; value_ranges?: unknown };
      if (
        !Array.isArray(q.quantiles) || !Array.isArray(q.value_ranges) || q.quantiles.length !== q.value_ranges.length
      ) {
        return "quantile_ranges needs quantiles and value_ranges of one length";
      }
    },
    query: () => "",
    evaluate: () => ({ success: false, observed_value: null }),
    async run(kw, ctx) {
      const c = ctx.col(kw.column);
      const n = Number((await ctx.run(`select count(${c}) as n from ${ctx.rel}`))[0]!.n);
      const { quantiles, value_ranges } = kw.quantile_ranges as {
        quantiles: number[];
        value_ranges: [unknown, unknown][];
      };
      if (n === 0) return { success: false, observed_value: { quantiles, values: quantiles.map(() => null) } };
      const idx = quantiles.map((q) => nearestIndex((n - 1) * q));
      const rows = await ctx.run(
        `select i, x from (select ${c} as x, row_number() over (order by ${c}) - 1 as i from ${ctx.rel} where ${c} is not null) where i in (${
          [...new Set(idx)].join(", ")
        })`,
      );
      const at = new Map(rows.map((r) => [Number(r.i), num(r.x)]));
      const values = idx.map((i) => at.get(i) ?? null);
      const ok = values.map((v, i) => between(v, { min_value: value_ranges[i]?.[0], max_value: value_ranges[i]?.[1] }));
      return {
        success: ok.every(Boolean),
        observed_value: { quantiles, values },
        details: { success_details: ok },
      };
    },
  },
  distinctQuery("expect_column_distinct_values_to_be_in_set", true, false),
  distinctQuery("expect_column_distinct_values_to_contain_set", false, true),
  distinctQuery("expect_column_distinct_values_to_equal_set", true, true),
  {
    kind: "query",
    type: "expect_column_most_common_value_to_be_in_set",
    dimension: "validity",
    args: { ...COL, value_set: { type: "array", required: true }, ties_okay: { type: "boolean" } },
    query: (kw, ctx) => {
      const c = ctx.col(kw.column);
      return `with f as (select ${c} as v, count(*) as n from ${ctx.rel} where ${c} is not null group by 1) select v from f where n = (select max(n) from f) order by v`;
    },
    evaluate(rows, kw) {
      const modes = rows.map((r) => num(r.v));
      const set = kw.value_set as unknown[];
      const hits = modes.filter((m) => inList(m, set)).length;
      const success = kw.ties_okay ? hits > 0 : modes.length === 1 && hits === 1;
      return { success, observed_value: modes };
    },
  },
  {
    kind: "query",
    type: "expect_column_kl_divergence_to_be_less_than",
    dimension: "accuracy",
    args: { ...COL, partition_object: { type: "object", required: true }, threshold: { type: "number" } },
    query: (kw, ctx) => {
      const c = ctx.col(kw.column);
      const p = kw.partition_object as { values?: unknown[]; bins?: number[] };
      if (p.bins) {
        const b = p.bins;
        const cases = b.slice(0, -1).map((lo, i) =>
          `when ${c} >= ${lo} and ${c} ${i === b.length - 2 ? "<=" : "<"} ${b[i + 1]} then ${i}`
        );
        return `select case ${
          cases.join(" ")
        } else -1 end as v, count(*) as n from ${ctx.rel} where ${c} is not null group by 1`;
      }
      return `select ${c} as v, count(*) as n from ${ctx.rel} where ${c} is not null group by 1`;
    },
    evaluate(rows, kw) {
      const p = kw.partition_object as { values?: unknown[]; bins?: number[]; weights: number[] };
      const total = rows.reduce((s, r) => s + Number(r.n), 0);
      const keys = p.bins ? p.weights.map((_, i) => i) : p.values ?? [];
      const observed = keys.map((k) => Number(rows.find((r) => sameValue(num(r.v), k))?.n ?? 0) / (total || 1));
      // scipy.stats.entropy(pk=observed, qk=expected): Σ pk log(pk/qk); infinite when pk>0 and qk=0.
      let kl = 0;
      const outside = rows.filter((r) => !keys.some((k) => sameValue(num(r.v), k))).reduce(
        (s, r) => s + Number(r.n),
        0,
      );
      if (outside > 0) kl = Infinity;
      for (let i = 0; i < keys.length; i++) {
        const pk = observed[i]!, qk = p.weights[i] ?? 0;
        if (pk > 0) kl += qk > 0 ? pk * Math.log(pk / qk) : Infinity;
      }
      const threshold = kw.threshold as number | undefined;
      return {
        success: threshold === undefined || threshold === null ? true : kl <= threshold,
        observed_value: Number.isFinite(kl) ? kl : null,
        details: { observed_partition: { values: keys, weights: observed }, expected_partition: p },
      };
    },
  },
  // ---- column pairs and multicolumn ----
  {
    kind: "map",
    type: "expect_column_pair_values_to_be_equal",
    dimension: "consistency",
    args: {
      column_A: { type: "string", required: true },
      column_B: { type: "string", required: true },
      ignore_row_if: { type: "string" },
      ...MOSTLY,
    },
    filter: (kw, ctx) =>
      ignoreFilter(kw, [ctx.col(kw.column_A, "column_A"), ctx.col(kw.column_B, "column_B")], "both_values_are_missing"),
    predicate: (kw, ctx) => `not coalesce(${ctx.col(kw.column_A)} = ${ctx.col(kw.column_B)}, false)`,
    value: (kw, ctx) => `[${ctx.col(kw.column_A)}::varchar, ${ctx.col(kw.column_B)}::varchar]`,
  },
  {
    kind: "map",
    type: "expect_column_pair_values_a_to_be_greater_than_b",
    dimension: "consistency",
    args: {
      column_A: { type: "string", required: true },
      column_B: { type: "string", required: true },
      or_equal: { type: "boolean" },
      ignore_row_if: { type: "string" },
      ...MOSTLY,
    },
    filter: (kw, ctx) =>
      ignoreFilter(kw, [ctx.col(kw.column_A, "column_A"), ctx.col(kw.column_B, "column_B")], "both_values_are_missing"),
    predicate: (kw, ctx) =>
      `not coalesce(${ctx.col(kw.column_A)} ${kw.or_equal ? ">=" : ">"} ${ctx.col(kw.column_B)}, false)`,
    value: (kw, ctx) => `[${ctx.col(kw.column_A)}::varchar, ${ctx.col(kw.column_B)}::varchar]`,
  },
  {
    kind: "map",
    type: "expect_column_pair_values_to_be_in_set",
    dimension: "validity",
    args: {
      column_A: { type: "string", required: true },
      column_B: { type: "string", required: true },
      value_pairs_set: { type: "array", required: true },
      ignore_row_if: { type: "string" },
      ...MOSTLY,
    },
    filter: (kw, ctx) =>
      ignoreFilter(kw, [ctx.col(kw.column_A, "column_A"), ctx.col(kw.column_B, "column_B")], "both_values_are_missing"),
    predicate: (kw, ctx) => {
      const a = ctx.col(kw.column_A), b = ctx.col(kw.column_B);
      const pairs = (kw.value_pairs_set as unknown[][]).map((p) =>
        `(${a} = ${ctx.lit(p[0])} and ${b} = ${ctx.lit(p[1])})`
      );
      return pairs.length ? `not coalesce(${pairs.join(" or ")}, false)` : "true";
    },
    value: (kw, ctx) => `[${ctx.col(kw.column_A)}::varchar, ${ctx.col(kw.column_B)}::varchar]`,
  },
  {
    kind: "map",
    type: "expect_compound_columns_to_be_unique",
    dimension: "uniqueness",
    args: { column_list: { type: "string[]", required: true }, ignore_row_if: { type: "string" }, ...MOSTLY },
    filter: (kw, ctx) => ignoreFilter(kw, multiColumns(kw, ctx), "all_values_are_missing"),
    predicate: (kw, ctx) => {
      // A text key (json_array) so rows with nulls in the same places match, as pandas' duplicated() does.
      const cols = multiColumns(kw, ctx);
      const key = `json_array(${cols.join(", ")})::varchar`;
      const f = ignoreFilter(kw, cols, "all_values_are_missing");
      return kw.__dup_table
        ? `${key} in (select k from ${kw.__dup_table})`
        : `${key} in (select ${key} from ${ctx.rel} where ${f} group by 1 having count(*) > 1)`;
    },
    async prepare(kw, ctx) {
      const cols = multiColumns(kw, ctx);
      const key = `json_array(${cols.join(", ")})::varchar`;
      const f = ignoreFilter(kw, cols, "all_values_are_missing");
      const table = `__quality_dup_${ctx.id}`;
      await ctx.exec(
        `create or replace temp table ${table} as select ${key} as k from ${ctx.rel} where ${f} group by 1 having count(*) > 1`,
      );
      kw.__dup_table = table;
    },
    value: (kw, ctx) => jsonList(multiColumns(kw, ctx), kw.column_list as string[]),
  },
  {
    kind: "map",
    type: "expect_select_column_values_to_be_unique_within_record",
    dimension: "uniqueness",
    args: { column_list: { type: "string[]", required: true }, ignore_row_if: { type: "string" }, ...MOSTLY },
    filter: (kw, ctx) => ignoreFilter(kw, multiColumns(kw, ctx), "all_values_are_missing"),
    predicate: (kw, ctx) => {
      const cols = multiColumns(kw, ctx);
      const eq: string[] = [];
      for (let i = 0; i < cols.length; i++) {
        for (let j = i + 1; j < cols.length; j++) eq.push(`coalesce(${cols[i]} = ${cols[j]}, false)`);
      }
      return eq.length ? `(${eq.join(" or ")})` : "false";
    },
    value: (kw, ctx) => jsonList(multiColumns(kw, ctx), kw.column_list as string[]),
  },
  {
    kind: "map",
    type: "expect_multicolumn_sum_to_equal",
    dimension: "consistency",
    args: {
      column_list: { type: "string[]", required: true },
      sum_total: { type: "number", required: true },
      ignore_row_if: { type: "string" },
      ...MOSTLY,
    },
    filter: (kw, ctx) => ignoreFilter(kw, multiColumns(kw, ctx), "all_values_are_missing"),
    predicate: (kw, ctx) =>
      `coalesce(${multiColumns(kw, ctx).map((c) => `coalesce(${c}, 0)`).join(" + ")} <> ${Number(kw.sum_total)}, true)`,
    value: (kw, ctx) => jsonList(multiColumns(kw, ctx), kw.column_list as string[]),
  },
  // ---- custom SQL ----
  {
    kind: "map",
    type: "expect_rows_to_satisfy_sql",
    dimension: "validity",
    description: "a SQL predicate every row should satisfy (false or null is unexpected)",
    args: { predicate: { type: "string", required: true }, ...MOSTLY },
    filter: () => "true",
    predicate: (kw) => `not coalesce((${kw.predicate}), false)`,
    value: () => "null",
  },
  {
    kind: "aggregate",
    type: "expect_sql_aggregate_to_be_between",
    dimension: "validity",
    description: "a SQL aggregate over the source; a boolean must be true, a number must lie in [min_value, max_value]",
    args: { expression: { type: "string", required: true }, __column: { type: "string" }, ...RANGE },
    aggregates: (kw) => ({ value: `(${kw.expression})` }),
    evaluate(values, kw) {
      const v = num(values.value);
      if (typeof v === "boolean") return { success: v, observed_value: v };
      return { success: needBound(kw) ? false : between(v, kw), observed_value: v ?? null };
    },
  },
  {
    kind: "query",
    type: "unexpected_rows_expectation",
    dimension: "validity",
    description: "GX 1.x UnexpectedRowsExpectation: a query over {batch} that returns the unexpected rows",
    args: { unexpected_rows_query: { type: "string", required: true } },
    query: (kw, ctx) =>
      `select count(*) as n from (${String(kw.unexpected_rows_query).replaceAll("{batch}", ctx.rel)})`,
    evaluate: (rows) => ({ success: Number(rows[0]?.n ?? 0) === 0, observed_value: Number(rows[0]?.n ?? 0) }),
  },
];

/** The built-in expectation types, by name. */
export const BUILTIN: ReadonlyMap<string, ExpectationDefinition> = new Map(definitions.map((d) => [d.type, d]));

/** of_type / in_type_list are decided from the schema; the engine calls this. */
export function typeVerdict(kw: ExpectationKwargs, duckType: string): Verdict {
  if (kw.type_ !== undefined) {
    const { match, observed } = typeMatches(duckType, String(kw.type_));
    return { success: match, observed_value: observed };
  }
  const list = (kw.type_list as string[] | null | undefined) ?? null;
  if (list === null) return { success: true, observed_value: typeName(duckType, false) };
  const pandas = list.some((t) => PANDAS_NAMES.has(t));
  return { success: list.some((t) => typeMatches(duckType, t).match), observed_value: typeName(duckType, pandas) };
}
