/**
 * SodaCL-like check lines compiled to expectation configs:
 * `row_count between 10 and 100`, `row_count > 0`, `missing_count(email) = 0`,
 * `duplicate_count(id) = 0`, `min(amount) >= 0`, `avg(amount) between 1 and 50`,
 * `missing_percent(email) < 5`, `distinct_count(country) <= 200`,
 * `invalid_count(status) = 0` with `valid values: [a, b]`, `schema` is not a check here.
 * Zero-tolerance missing/duplicate/invalid checks become the GX map
 * expectations (so their failing rows are collected); the rest become
 * `expect_sql_aggregate_to_be_between` over the metric's SQL.
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import type { ExpectationConfig } from "../types.ts";

const METRICS: Record<string, (c: string) => string> = {
  missing_count: (c) => `count(*) filter (where ${c} is null)`,
  missing_percent: (c) => `100.0 * count(*) filter (where ${c} is null) / nullif(count(*), 0)`,
  duplicate_count: (c) => `count(${c}) - count(distinct ${c})`,
  distinct_count: (c) => `count(distinct ${c})`,
  min: (c) => `min(${c})`,
  max: (c) => `max(${c})`,
  avg: (c) => `avg(${c})`,
  sum: (c) => `sum(${c})`,
  stddev: (c) => `stddev_samp(${c})`,
  avg_length: (c) => `avg(length(cast(${c} as varchar)))`,
  min_length: (c) => `min(length(cast(${c} as varchar)))`,
  max_length: (c) => `max(length(cast(${c} as varchar)))`,
};

function bounds(op: string, a: number, b?: number): Record<string, unknown> {
  switch (op) {
    case "between":
      return { min_value: a, max_value: b };
    case "=":
      return { min_value: a, max_value: a };
    case ">":
      return { min_value: a, strict_min: true };
    case ">=":
      return { min_value: a };
    case "<":
      return { max_value: a, strict_max: true };
    case "<=":
      return { max_value: a };
  }
  throw new Error(op);
}

/** Parses one check line; `config` holds its nested options (`valid values`, `name`). */
export function parseShorthand(line: string, where: string, config?: Record<string, unknown>): ExpectationConfig {
  const m = /^\s*([a-z_]+)(?:\(([^)]*)\))?\s*(between|>=|<=|=|>|<)\s*(-?[\d.]+)(?:\s+and\s+(-?[\d.]+))?\s*$/i.exec(
    line,
  );
  if (!m) {
    throw new MercuryError("usage", `cannot parse the check "${line}"`, {
      where,
      hint: "write e.g. `missing_count(email) = 0` or `row_count between 10 and 100`",
    });
  }
  const [, metricRaw, colRaw, op, aRaw, bRaw] = m;
  const metric = metricRaw!.toLowerCase();
  const column = colRaw?.trim();
  const a = Number(aRaw), b = bRaw === undefined ? undefined : Number(bRaw);
  if (op === "between" && b === undefined) {
    throw new MercuryError("usage", `"${line}": between needs two numbers (between A and B)`, { where });
  }
  const meta = { shorthand: line, ...(config?.name ? { name: config.name } : {}) };
  const bnd = bounds(op!, a, b);
  if (metric === "row_count") {
    return op === "="
      ? { type: "expect_table_row_count_to_equal", kwargs: { value: a }, meta, where }
      : { type: "expect_table_row_count_to_be_between", kwargs: bnd, meta, where };
  }
  if (!column) throw new MercuryError("usage", `"${line}": ${metric} needs a column, e.g. ${metric}(email)`, { where });
  const zero = op === "=" && a === 0;
  if (metric === "missing_count" && zero) {
    return { type: "expect_column_values_to_not_be_null", kwargs: { column }, meta, where };
  }
  if (metric === "duplicate_count" && zero) {
    return { type: "expect_column_values_to_be_unique", kwargs: { column }, meta, where };
  }
  if (metric === "invalid_count") {
    const valid = (config?.["valid values"] ?? config?.valid_values) as unknown[] | undefined;
    const regex = (config?.["valid regex"] ?? config?.valid_regex) as string | undefined;
    if (!valid && !regex) {
      throw new MercuryError("usage", `"${line}": invalid_count needs "valid values" or "valid regex"`, { where });
    }
    if (zero) {
      return valid
        ? { type: "expect_column_values_to_be_in_set", kwargs: { column, value_set: valid }, meta, where }
        : { type: "expect_column_values_to_match_regex", kwargs: { column, regex }, meta, where };
    }
    const c = quoteIdent(column);
    const bad = valid
      ? `${c} not in (${valid.map((v) => typeof v === "number" ? String(v) : quoteLiteral(String(v))).join(", ")})`
      : `not regexp_matches(cast(${c} as varchar), ${quoteLiteral(regex!)})`;
    return {
      type: "expect_sql_aggregate_to_be_between",
      kwargs: { expression: `count(*) filter (where ${c} is not null and ${bad})`, ...bnd },
      meta,
      where,
    };
  }
  const f = METRICS[metric];
  if (!f) {
    throw new MercuryError("usage", `unknown check metric ${metric}`, {
      where,
      hint: `metrics: row_count, invalid_count, ${Object.keys(METRICS).join(", ")}`,
    });
  }
  return {
    type: "expect_sql_aggregate_to_be_between",
    kwargs: { expression: f(quoteIdent(column)), ...bnd, __column: column },
    meta,
    where,
  };
}
