/**
 * The comparison with Great Expectations 1.x shared by
 * `bench/quality_bench.ts` and `tests/quality/gx_parity_test.ts`: a data set
 * with planted problems built by DuckDB SQL (`range()`, deterministic
 * hashes), one suite of 45 expectations, a runner for GX (pandas datasource,
 * in the venv of `requirements.txt`) and a field-by-field comparison of
 * `success`, `observed_value` and `unexpected_count`.
 *
 * @module
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { quoteLiteral } from "@mercury/core/sql";
import { ensureVenv } from "../../../tasks/python.ts";
import type { ExpectationResult, ExpectationSuite } from "../../../plugins/quality/types.ts";

const HERE = new URL(".", import.meta.url).pathname;

/** Writes `n` rows of the parity data set to a Parquet file. */
export async function makeParityData(path: string, n: number): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const c = await instance.connect();
  try {
    await c.run(`copy (
      select
        case when i % 997 = 5 then i - 1 else i end::bigint as id,
        case when i % 50 = 0 then null when i % 77 = 0 then 'user' || i || '@broken' else 'user' || i || '@example.org' end as email,
        case when i % 333 = 0 then -((i % 17) + 1) * 1.5 else round(((hash(i) % 100000) / 100.0), 2) end::double as amount,
        (i % 13)::bigint as qty,
        case when i % 211 = 0 then 'bogus' else ['new', 'paid', 'shipped', 'returned'][1 + (i % 4)::int] end as status,
        case when i % 101 = 0 then 'USA' else ['DE', 'FR', 'US', 'GB', 'DE'][1 + (i % 5)::int] end as country,
        case when i % 400 = 0 then 'note ' || i else null end as note,
        case when i % 150 = 0 then '2024/13/' || (i % 28 + 1) else strftime(date '2024-01-01' + (i % 365)::int, '%Y-%m-%d') end as date_str,
        case when i % 250 = 0 then '{bad json' else '{"k": ' || (i % 10) || '}' end as payload,
        case when i % 500 = 7 then i - 3 else i end::bigint as seq,
        (i % 7)::bigint as a,
        case when i % 9 = 0 then (i % 7) + 1 else (i % 7) end::bigint as b,
        (i % 5)::bigint as c3,
        (i % 60)::bigint as x,
        case when i % 120 = 0 then 0 else 100 - (i % 60) end::bigint as y
      from range(${n}) t(i)
    ) to ${quoteLiteral(path)} (format parquet)`);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** The parity suite: expectations both GX (pandas) and dq-validate implement. */
export function paritySuite(rows: number): ExpectationSuite {
  const cols = [
    "id",
    "email",
    "amount",
    "qty",
    "status",
    "country",
    "note",
    "date_str",
    "payload",
    "seq",
    "a",
    "b",
    "c3",
    "x",
    "y",
  ];
  const E = (type: string, kwargs: Record<string, unknown>) => ({ type, kwargs });
  return {
    name: "gx_parity",
    expectations: [
      E("expect_table_row_count_to_be_between", { min_value: 1, max_value: rows * 2 }),
      E("expect_table_row_count_to_equal", { value: rows }),
      E("expect_table_column_count_to_equal", { value: cols.length }),
      E("expect_table_column_count_to_be_between", { min_value: 5, max_value: 10 }),
      E("expect_table_columns_to_match_ordered_list", { column_list: cols }),
      E("expect_table_columns_to_match_set", { column_set: [...cols].reverse(), exact_match: true }),
      E("expect_column_to_exist", { column: "payload" }),
      E("expect_column_values_to_not_be_null", { column: "email" }),
      E("expect_column_values_to_not_be_null", { column: "date_str", mostly: 0.95 }),
      E("expect_column_values_to_match_regex", { column: "date_str", regex: "^2024-", mostly: 0.99 }),
      E("expect_column_values_to_be_null", { column: "note" }),
      E("expect_column_values_to_be_unique", { column: "id" }),
      E("expect_column_values_to_be_between", { column: "amount", min_value: 0, max_value: 1000 }),
      E("expect_column_values_to_be_between", { column: "qty", min_value: 0, max_value: 12, strict_max: true }),
      E("expect_column_values_to_be_in_set", { column: "status", value_set: ["new", "paid", "shipped", "returned"] }),
      E("expect_column_values_to_not_be_in_set", { column: "country", value_set: ["USA"] }),
      E("expect_column_values_to_be_of_type", { column: "qty", type_: "int64" }),
      E("expect_column_values_to_be_in_type_list", { column: "amount", type_list: ["float64", "int64"] }),
      E("expect_column_values_to_match_regex", { column: "email", regex: "^[a-z0-9]+@[a-z]+\\.[a-z]+$" }),
      E("expect_column_values_to_not_match_regex", { column: "email", regex: "broken" }),
      E("expect_column_values_to_match_regex_list", { column: "status", regex_list: ["^new$", "^paid$", "ship"] }),
      E("expect_column_values_to_not_match_regex_list", { column: "country", regex_list: ["^U", "X"] }),
      E("expect_column_value_lengths_to_be_between", { column: "country", min_value: 2, max_value: 2 }),
      E("expect_column_value_lengths_to_equal", { column: "status", value: 4 }),
      E("expect_column_values_to_match_strftime_format", { column: "date_str", strftime_format: "%Y-%m-%d" }),
      E("expect_column_values_to_be_json_parseable", { column: "payload" }),
      E("expect_column_values_to_be_increasing", { column: "seq" }),
      E("expect_column_values_to_be_increasing", { column: "id", strictly: true }),
      E("expect_column_values_to_be_decreasing", { column: "x" }),
      E("expect_column_min_to_be_between", { column: "amount", min_value: 0 }),
      E("expect_column_max_to_be_between", { column: "amount", max_value: 1000 }),
      E("expect_column_mean_to_be_between", { column: "amount", min_value: 0, max_value: 100 }),
      E("expect_column_median_to_be_between", { column: "amount", min_value: 0, max_value: 1 }),
      E("expect_column_stdev_to_be_between", { column: "amount", min_value: 0, max_value: 1000 }),
      E("expect_column_sum_to_be_between", { column: "qty", min_value: 0 }),
      E("expect_column_quantile_values_to_be_between", {
        column: "amount",
        quantile_ranges: {
          quantiles: [0.05, 0.25, 0.5, 0.75, 0.95],
          value_ranges: [[null, 0], [0, 500], [0, 500], [0, 800], [0, 1000]],
        },
      }),
      E("expect_column_proportion_of_unique_values_to_be_between", { column: "status", min_value: 0, max_value: 0.5 }),
      E("expect_column_unique_value_count_to_be_between", { column: "country", min_value: 1, max_value: 4 }),
      E("expect_column_distinct_values_to_be_in_set", {
        column: "status",
        value_set: ["new", "paid", "shipped", "returned"],
      }),
      E("expect_column_distinct_values_to_contain_set", { column: "country", value_set: ["DE", "FR"] }),
      E("expect_column_distinct_values_to_equal_set", { column: "country", value_set: ["DE", "FR", "US", "GB"] }),
      E("expect_column_most_common_value_to_be_in_set", { column: "country", value_set: ["DE"] }),
      E("expect_column_pair_values_to_be_equal", { column_A: "a", column_B: "b" }),
      E("expect_column_pair_values_a_to_be_greater_than_b", { column_A: "b", column_B: "a", or_equal: true }),
      E("expect_column_pair_values_to_be_in_set", {
        column_A: "a",
        column_B: "c3",
        value_pairs_set: [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]],
      }),
      E("expect_compound_columns_to_be_unique", { column_list: ["id", "country"] }),
      E("expect_select_column_values_to_be_unique_within_record", { column_list: ["a", "b", "c3"] }),
      E("expect_multicolumn_sum_to_equal", { column_list: ["x", "y"], sum_total: 100 }),
    ],
  };
}

/** One GX run: its results (in suite order) and timing. */
export interface GxRun {
  results: ExpectationResult[];
  timing: { read_s: number; setup_s: number; validate_s: number };
  /** Peak resident memory of the Python process, KiB (GNU time), when measured. */
  maxRssKb?: number;
  /** User + system CPU seconds (GNU time), when measured. */
  cpuS?: number;
  wallS: number;
}

/** Makes (or reuses) the GX venv; returns its python and how long the install took (0 when reused). */
export async function gxPython(): Promise<{ python: string; installSeconds: number }> {
  const t0 = performance.now();
  const python = await ensureVenv(
    ".mercury/peers/great_expectations/venv",
    `${HERE}requirements.txt`,
    "Great Expectations 1.x",
  );
  return { python, installSeconds: (performance.now() - t0) / 1000 };
}

/** Runs the suite through GX's pandas datasource. */
export async function runGx(
  python: string,
  dataPath: string,
  suite: ExpectationSuite,
  timeBin?: string,
): Promise<GxRun> {
  const suitePath = await Deno.makeTempFile({ suffix: ".json" });
  const tagged = {
    name: suite.name,
    expectations: suite.expectations.map((e, i) => ({
      type: e.type,
      kwargs: { ...e.kwargs },
      meta: { parity_index: i },
    })),
  };
  await Deno.writeTextFile(suitePath, JSON.stringify(tagged));
  const rssFile = await Deno.makeTempFile();
  const args = [`${HERE}run_gx.py`, dataPath, suitePath];
  const cmd = timeBin
    ? new Deno.Command(timeBin, {
      args: ["-f", "%M %U %S", "-o", rssFile, python, ...args],
      env: { GX_ANALYTICS_ENABLED: "false" },
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(python, { args, stdout: "piped", stderr: "piped", env: { GX_ANALYTICS_ENABLED: "false" } });
  const t0 = performance.now();
  const out = await cmd.output();
  const wallS = (performance.now() - t0) / 1000;
  await Deno.remove(suitePath);
  if (!out.success) {
    throw new Error(
      `Great Expectations failed: ${
        new TextDecoder().decode(out.stderr).split("\n").filter(Boolean).slice(-3).join(" | ")
      }`,
    );
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  // GX orders results its own way; put them back in suite order by the index carried in meta.
  const byIndex = new Map<number, ExpectationResult>();
  for (const r of json.results as ExpectationResult[]) byIndex.set(Number(r.expectation_config.meta?.parity_index), r);
  const results = suite.expectations.map((e, i) => {
    const r = byIndex.get(i);
    if (!r) throw new Error(`GX returned no result for ${e.type} ${JSON.stringify(e.kwargs)}`);
    return r;
  });
  let maxRssKb: number | undefined, cpuS: number | undefined;
  if (timeBin) {
    const [m, u, s] = (await Deno.readTextFile(rssFile)).trim().split("\n").pop()!.split(" ").map(Number);
    maxRssKb = m;
    cpuS = u! + s!;
  }
  await Deno.remove(rssFile);
  return {
    results,
    timing: json.timing,
    wallS,
    ...(maxRssKb ? { maxRssKb } : {}),
    ...(cpuS !== undefined ? { cpuS } : {}),
  };
}

/** Are two observed values equal (numbers to 1e-9 relative)? */
export function sameObserved(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameObserved(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) =>
      k === kb[i] &&
      sameObserved((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
  }
  return a === b || (a === undefined && b === null) || (a === null && b === undefined);
}

/** One line of the comparison table. */
export interface ParityRow {
  index: number;
  expectation: string;
  success: [boolean, boolean];
  observed: [unknown, unknown];
  unexpected: [unknown, unknown];
  equal: boolean;
}

/** Compares dq-validate's results with GX's, expectation by expectation. */
export function compareRuns(ours: ExpectationResult[], gx: ExpectationResult[]): ParityRow[] {
  return ours.map((o, i) => {
    const g = gx[i]!;
    const kw = o.expectation_config.kwargs;
    const target = kw.column ??
      (kw.column_A ? `${kw.column_A},${kw.column_B}` : Array.isArray(kw.column_list) ? kw.column_list.join(",") : "");
    const eq = o.success === g.success &&
      sameObserved(o.result.observed_value, g.result.observed_value) &&
      sameObserved(o.result.unexpected_count, g.result.unexpected_count);
    return {
      index: i,
      expectation: `${o.expectation_config.type.replace(/^expect_/, "")}${target ? `(${target})` : ""}`,
      success: [o.success, g.success],
      observed: [o.result.observed_value, g.result.observed_value],
      unexpected: [o.result.unexpected_count, g.result.unexpected_count],
      equal: eq,
    };
  });
}

/** The comparison as a text table. */
export function parityTable(rows: ParityRow[]): string {
  const s = (v: unknown) => {
    const t = v === undefined ? "-" : JSON.stringify(v);
    return t.length > 38 ? t.slice(0, 35) + "…" : t;
  };
  const lines = rows.map((r) =>
    `${r.equal ? "=" : "≠"} ${r.expectation.padEnd(58).slice(0, 58)} ${String(r.success[0]).padEnd(5)} ${
      String(r.success[1]).padEnd(5)
    } ${s(r.unexpected[0]).padStart(7)} ${s(r.unexpected[1]).padStart(7)}  ${s(r.observed[0])} | ${s(r.observed[1])}`
  );
  return [`  ${"expectation".padEnd(58)} ours  gx    unexp.o unexp.g  observed ours | gx`, ...lines].join("\n");
}
