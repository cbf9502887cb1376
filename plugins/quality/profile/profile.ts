/**
 * Column profiles in few DuckDB passes over the source: a row count (Parquet
 * metadata), one aggregate pass (counts, nulls, empties, distinct counts,
 * min/max/mean/stdev, quantiles, string lengths, Pearson correlations of every
 * numeric pair), one pass for equi-width histograms and top values (exact
 * counts for columns with ≤ 1,000 distinct values, DuckDB's `approx_top_k`
 * sketch for text with more, whose candidates a small extra pass counts
 * exactly), and a sample (default 20,000 rows: a reservoir over small sources,
 * whole vectors of ~5 % of large ones) from which semantic types, pattern
 * classes and the types of text columns are read.
 *
 * Distinct counts are exact (`count(distinct …)`) up to `exactDistinctRows`
 * rows (default 1,000,000) and HyperLogLog estimates (`approx_count_distinct`)
 * above; each column says which it got. Quantiles are DuckDB's
 * `approx_quantile` (t-digest) above the same size, exact `quantile_cont` below.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";

/** Semantic types the profiler recognises in values. */
export type SemanticType = "email" | "url" | "uuid" | "phone" | "date" | "currency" | "ip";

/** The broad type of a column's values. */
export type InferredType = "integer" | "float" | "decimal" | "boolean" | "string" | "date" | "timestamp" | "other";

/** One bin of a histogram: `[lo, hi)` (the last bin includes `hi`). */
export interface HistogramBin {
  lo: number;
  hi: number;
  count: number;
}

/** The profile of one column. */
export interface ColumnProfile {
  name: string;
  /** DuckDB's type of the column. */
  duckdbType: string;
  /** The type of the values; for a text column, the type most of its sampled values parse as. */
  inferredType: InferredType;
  /** A semantic type when at least 80 % of the sampled non-empty values have its shape. */
  semanticType: SemanticType | null;
  /** Share of sampled non-empty values with the semantic type's shape. */
  semanticShare: number;
  nullCount: number;
  nullShare: number;
  /** Empty (or blank) strings; 0 for other types. */
  emptyCount: number;
  emptyShare: number;
  distinct: number;
  /** Whether `distinct` is exact or a HyperLogLog estimate. */
  distinctExact: boolean;
  /** Minimum, maximum: numbers for numeric columns, ISO text for dates, text for strings. */
  min: number | string | null;
  max: number | string | null;
  mean: number | null;
  stdev: number | null;
  /** Quantiles at 1, 5, 25, 50, 75, 95, 99 %. */
  quantiles: { p: number; value: number }[];
  histogram: HistogramBin[];
  /** Most frequent values with their exact counts. */
  topK: { value: string; count: number }[];
  /** String lengths (text columns). */
  length: { min: number; max: number; mean: number } | null;
  /** Pattern classes of sampled values (A = upper-case run, a = lower-case run, 9 = digit run). */
  patterns: { pattern: string; share: number }[];
}

/** A data set's profile. */
export interface Profile {
  source: string;
  rows: number;
  columns: ColumnProfile[];
  /** Pearson correlation of every pair of numeric columns. */
  correlations: { a: string; b: string; r: number | null }[];
  /** Rows in the sample semantic types and patterns were read from. */
  sampleRows: number;
  /** DuckDB queries that scanned the source. */
  passes: number;
  createdAt: string;
  elapsedMs: number;
}

/** Options of {@linkcode profileRelation}. */
export interface ProfileOptions {
  /** Up to this many rows distinct counts and quantiles are exact (default 1,000,000). */
  exactDistinctRows?: number;
  /** Histogram bins (default 20). */
  bins?: number;
  /** Top values kept per column (default 10). */
  topK?: number;
  /** Rows sampled for semantic types and patterns (default 20,000). */
  sampleRows?: number;
  /** Name of the source in the profile (default: the relation's SQL). */
  source?: string;
  /** Only these columns (default: all). */
  columns?: string[];
}

const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

/** RE2 patterns (full match) of the semantic types, in the order they are tried. */
export const SEMANTIC_PATTERNS: Readonly<Record<SemanticType, string>> = {
  uuid: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
  email: "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
  url: "(https?|ftp)://[^\\s/$.?#][^\\s]*",
  ip: "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])" +
    "|[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}",
  date: "[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?" +
    "|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}",
  currency: "[$€£¥] ?-?[0-9][0-9,]*(\\.[0-9]{1,2})?|-?[0-9][0-9,]*(\\.[0-9]{1,2})? ?(USD|EUR|GBP|JPY|CHF)",
  phone: "\\+?[0-9][0-9 ().-]{6,18}[0-9]",
};

const SEMANTIC_MIN_SHARE = 0.8;
/** Up to this many distinct values, top values are counted exactly in the histogram pass. */
const EXACT_TOP_DISTINCT = 1000;
/** Columns whose distinct count is at least this share of their non-null values get no top values. */
const NEAR_UNIQUE = 0.5;

type Kind = "numeric" | "string" | "temporal" | "boolean" | "other";

function kindOf(type: string): Kind {
  const t = type.toUpperCase();
  if (
    /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/.test(
      t,
    )
  ) {
    return "numeric";
  }
  if (t === "VARCHAR" || t.startsWith("VARCHAR")) return "string";
  if (/^(DATE|TIMESTAMP|TIME)/.test(t)) return "temporal";
  if (t === "BOOLEAN") return "boolean";
  return "other";
}

function inferredOf(type: string): InferredType {
  const t = type.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U)/.test(t)) return "integer";
  if (/^(FLOAT|DOUBLE)/.test(t)) return "float";
  if (t.startsWith("DECIMAL")) return "decimal";
  if (t === "BOOLEAN") return "boolean";
  if (t === "DATE") return "date";
  if (t.startsWith("TIMESTAMP")) return "timestamp";
  if (t.startsWith("VARCHAR")) return "string";
  return "other";
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/**
 * Profiles a relation DuckDB can read (`read_parquet('x.parquet')`, a table
 * or view name, a subquery in parentheses).
 *
 * @example
 * ```ts
 * import { openDuckDB } from "@mercury/core/services/duckdb";
 * import { profileRelation } from "./profile.ts";
 * import assert from "node:assert/strict";
 *
 * using db = await openDuckDB();
 * const p = await profileRelation(db.connection, "(select range as x, 'a' || range as s from range(100))");
 * assert.equal(p.rows, 100);
 * assert.equal(p.columns[0]!.distinct, 100);
 * assert.equal(p.columns[1]!.patterns[0]!.pattern, "a9");
 * ```
 */
export async function profileRelation(
  conn: DuckDBConnection,
  relation: string,
  options: ProfileOptions = {},
): Promise<Profile> {
  const t0 = performance.now();
  const bins = options.bins ?? 20;
  const topN = options.topK ?? 10;
  const sampleSize = options.sampleRows ?? 20_000;
  const exactLimit = options.exactDistinctRows ?? 1_000_000;

  let described = (await rows(conn, `describe select * from ${relation}`)).map((r) => ({
    name: String(r.column_name),
    type: String(r.column_type),
  }));
  if (options.columns) {
    const want = new Set(options.columns);
    described = described.filter((c) => want.has(c.name));
  }
  const cols = described.map((c, i) => ({ ...c, kind: kindOf(c.type), q: quoteIdent(c.name), i }));

  // Pass 0: the row count decides exact or approximate distincts and quantiles (a metadata read for Parquet).
  const total = num((await rows(conn, `select count(*) as n from ${relation}`))[0]?.n) ?? 0;
  const exact = total <= exactLimit;

  // Pass 1: every aggregate in one query.
  const aggs: string[] = [];
  for (const c of cols) {
    const p = `c${c.i}_`;
    aggs.push(`count(${c.q}) as ${p}nn`);
    aggs.push(exact ? `count(distinct ${c.q}) as ${p}d` : `approx_count_distinct(${c.q}) as ${p}d`);
    if (c.kind === "numeric") {
      const x = `${c.q}::double`;
      aggs.push(`min(${x}) as ${p}min`, `max(${x}) as ${p}max`, `avg(${x}) as ${p}mean`, `stddev_samp(${x}) as ${p}sd`);
      const qs = `[${QUANTILES.join(", ")}]`;
      aggs.push(exact ? `quantile_cont(${x}, ${qs}) as ${p}q` : `approx_quantile(${x}, ${qs}) as ${p}q`);
    } else if (c.kind === "temporal") {
      aggs.push(`min(${c.q})::varchar as ${p}min`, `max(${c.q})::varchar as ${p}max`);
      aggs.push(`min(epoch(${c.q}))::double as ${p}emin`, `max(epoch(${c.q}))::double as ${p}emax`);
    } else if (c.kind === "string") {
      aggs.push(`count_if(trim(${c.q}) = '') as ${p}e`);
      aggs.push(
        `min(length(${c.q})) as ${p}lmin`,
        `max(length(${c.q})) as ${p}lmax`,
        `avg(length(${c.q})) as ${p}lmean`,
      );
      aggs.push(`min(${c.q}) as ${p}min`, `max(${c.q}) as ${p}max`);
    } else if (c.kind === "boolean") {
      aggs.push(`avg(${c.q}::int) as ${p}mean`);
    }
  }
  const numeric = cols.filter((c) => c.kind === "numeric");
  const pairs: [typeof cols[number], typeof cols[number]][] = [];
  for (let a = 0; a < numeric.length; a++) {
    for (let b = a + 1; b < numeric.length; b++) pairs.push([numeric[a]!, numeric[b]!]);
  }
  pairs.forEach(([a, b], k) => aggs.push(`corr(${a.q}::double, ${b.q}::double) as r${k}`));
  const one = aggs.length ? (await rows(conn, `select ${aggs.join(", ")} from ${relation}`))[0] ?? {} : {};

  // Pass 2: histograms over [min, max] and exact counts of the top values.
  const hist: string[] = [];
  const sketched: typeof cols = [];
  const binWidth = new Map<number, { lo: number; w: number }>();
  for (const c of cols) {
    const p = `c${c.i}_`;
    const lo = c.kind === "numeric" ? num(one[`${p}min`]) : c.kind === "temporal" ? num(one[`${p}emin`]) : null;
    const hi = c.kind === "numeric" ? num(one[`${p}max`]) : c.kind === "temporal" ? num(one[`${p}emax`]) : null;
    if (lo !== null && hi !== null) {
      const w = hi > lo ? (hi - lo) / bins : 1;
      binWidth.set(c.i, { lo, w });
      const x = c.kind === "numeric" ? `${c.q}::double` : `epoch(${c.q})::double`;
      hist.push(`histogram(least(${bins - 1}, floor((${x} - ${lo}) / ${w}))::int) as ${p}h`);
    }
    // Top values: exact counts where the column has few distinct values; for text and dates with more,
    // DuckDB's space-saving sketch (then exact counts of its candidates, pass 3); none for numeric columns with
    // many values (their histogram says more) and near-unique columns, where every value counts about once.
    const d = num(one[`${p}d`]) ?? 0;
    const nonNull = num(one[`${p}nn`]) ?? 0;
    if (c.kind === "other" || d === 0) continue;
    if (d <= EXACT_TOP_DISTINCT) hist.push(`histogram(${c.q}::varchar) as ${p}tc`);
    else if (c.kind !== "numeric" && d < NEAR_UNIQUE * nonNull) {
      hist.push(`approx_top_k(${c.q}::varchar, ${topN}) as ${p}top`);
      sketched.push(c);
    }
  }
  const two = hist.length ? (await rows(conn, `select ${hist.join(", ")} from ${relation}`))[0] ?? {} : {};
  const three: Record<string, unknown> = {};
  const counts: string[] = [];
  for (const c of sketched) {
    const p = `c${c.i}_`;
    const values = ((two[`${p}top`] as unknown[] | null | undefined) ?? []).filter((v) => v !== null);
    if (!values.length) continue;
    const inList = values.map((v) => quoteLiteral(String(v))).join(", ");
    counts.push(`histogram(${c.q}::varchar) filter (where ${c.q}::varchar in (${inList})) as ${p}tc`);
  }
  if (counts.length) Object.assign(three, (await rows(conn, `select ${counts.join(", ")} from ${relation}`))[0] ?? {});

  // Pass 3: a reservoir sample for semantic types, patterns and text that holds numbers or dates.
  const textCols = cols.filter((c) => c.kind === "string");
  const sample = new Map<
    number,
    { sem: SemanticType | null; share: number; patterns: { pattern: string; share: number }[]; inferred: InferredType }
  >();
  let sampleRows = 0;
  if (textCols.length) {
    const tmp = `quality_profile_sample_${crypto.randomUUID().replaceAll("-", "")}`;
    const list = textCols.map((c) => c.q).join(", ");
    // Above 20 × the sample size, whole vectors are drawn (`system`, reads ~5 % of the data) and cut to size;
    // below, a reservoir over every row.
    const how = total > 20 * sampleSize
      ? `using sample ${Math.min(100, (200 * sampleSize) / total).toFixed(4)}% (system, 42)`
      : `using sample reservoir(${sampleSize} rows) repeatable (42)`;
    await conn.run(`create temp table ${tmp} as select ${list} from ${relation} ${how} limit ${sampleSize}`);
    try {
      const sel: string[] = ["count(*) as n"];
      for (const c of textCols) {
        const p = `c${c.i}_`;
        const v = `nullif(trim(${c.q}), '')`;
        sel.push(`count(${v}) as ${p}n`);
        for (const [t, re] of Object.entries(SEMANTIC_PATTERNS)) {
          sel.push(`count_if(regexp_full_match(${v}, ${quoteLiteral(re)})) as ${p}s_${t}`);
        }
        sel.push(`count(try_cast(${v} as bigint)) as ${p}ti`, `count(try_cast(${v} as double)) as ${p}tf`);
        sel.push(`count(try_cast(${v} as date)) as ${p}td`, `count(try_cast(${v} as timestamp)) as ${p}tt`);
        sel.push(`count(try_cast(${v} as boolean)) as ${p}tb`);
        const pat = `regexp_replace(regexp_replace(regexp_replace(left(${c.q}, 64), '[A-Z]+', 'A', 'g'), ` +
          `'[a-z]+', 'a', 'g'), '[0-9]+', '9', 'g')`;
        sel.push(`histogram(${pat}) filter (where ${v} is not null) as ${p}pat`);
      }
      const s = (await rows(conn, `select ${sel.join(", ")} from ${tmp}`))[0] ?? {};
      sampleRows = num(s.n) ?? 0;
      for (const c of textCols) {
        const p = `c${c.i}_`;
        const n = num(s[`${p}n`]) ?? 0;
        let sem: SemanticType | null = null;
        let share = 0;
        for (const t of Object.keys(SEMANTIC_PATTERNS) as SemanticType[]) {
          const k = n ? (num(s[`${p}s_${t}`]) ?? 0) / n : 0;
          if (k >= SEMANTIC_MIN_SHARE && k > share) [sem, share] = [t, k];
        }
        const frac = (k: string) => (n ? (num(s[`${p}${k}`]) ?? 0) / n : 0);
        let inferred: InferredType = "string";
        if (n && frac("tb") >= 0.95 && frac("ti") < 0.95) inferred = "boolean";
        else if (n && frac("ti") >= 0.95) inferred = "integer";
        else if (n && frac("tf") >= 0.95) inferred = "float";
        else if (n && frac("td") >= 0.95) inferred = "date";
        else if (n && frac("tt") >= 0.95) inferred = "timestamp";
        const patMap = histogramEntries(s[`${p}pat`]);
        const patterns = patMap
          .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
          .slice(0, 5)
          .map((e) => ({ pattern: e.key, share: n ? e.count / n : 0 }));
        sample.set(c.i, { sem, share, patterns, inferred });
      }
    } finally {
      await conn.run(`drop table if exists ${tmp}`);
    }
  }

  const columns: ColumnProfile[] = cols.map((c) => {
    const p = `c${c.i}_`;
    const nonNull = num(one[`${p}nn`]) ?? 0;
    const nullCount = total - nonNull;
    const emptyCount = num(one[`${p}e`]) ?? 0;
    const bw = binWidth.get(c.i);
    const h = histogramEntries(two[`${p}h`]);
    const histogram: HistogramBin[] = [];
    if (bw) {
      const counts = new Map(h.map((e) => [Number(e.key), e.count]));
      for (let b = 0; b < bins; b++) {
        histogram.push({ lo: bw.lo + b * bw.w, hi: bw.lo + (b + 1) * bw.w, count: counts.get(b) ?? 0 });
      }
    }
    const topK = histogramEntries(two[`${p}tc`] ?? three[`${p}tc`])
      .map((e) => ({ value: e.key, count: e.count }))
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
      .slice(0, topN);
    const q = (one[`${p}q`] as unknown[] | null | undefined) ?? [];
    const sm = sample.get(c.i);
    const semanticType = c.kind === "temporal" ? "date" : sm?.sem ?? null;
    const lmin = num(one[`${p}lmin`]);
    const minV = one[`${p}min`];
    const maxV = one[`${p}max`];
    return {
      name: c.name,
      duckdbType: c.type,
      inferredType: sm?.inferred ?? inferredOf(c.type),
      semanticType,
      semanticShare: c.kind === "temporal" ? 1 : sm?.share ?? 0,
      nullCount,
      nullShare: total ? nullCount / total : 0,
      emptyCount,
      emptyShare: total ? emptyCount / total : 0,
      distinct: num(one[`${p}d`]) ?? 0,
      distinctExact: exact,
      min: c.kind === "numeric" ? num(minV) : minV == null ? null : String(minV),
      max: c.kind === "numeric" ? num(maxV) : maxV == null ? null : String(maxV),
      mean: num(one[`${p}mean`]),
      stdev: num(one[`${p}sd`]),
      quantiles: q.length ? QUANTILES.map((pq, k) => ({ p: pq, value: num(q[k]) ?? NaN })) : [],
      histogram,
      topK,
      length: lmin === null ? null : { min: lmin, max: num(one[`${p}lmax`]) ?? 0, mean: num(one[`${p}lmean`]) ?? 0 },
      patterns: sm?.patterns ?? [],
    };
  });
  const correlations = pairs.map(([a, b], k) => ({ a: a.name, b: b.name, r: num(one[`r${k}`]) }));
  return {
    source: options.source ?? relation,
    rows: total,
    columns,
    correlations,
    sampleRows,
    passes: 2 + (hist.length ? 1 : 0) + (counts.length ? 1 : 0) + (textCols.length ? 1 : 0),
    createdAt: new Date().toISOString(),
    elapsedMs: performance.now() - t0,
  };
}

/** A DuckDB `histogram()` MAP as read by `getRowObjectsJson()`: `[{key, value}]`. */
function histogramEntries(v: unknown): { key: string; count: number }[] {
  if (!Array.isArray(v)) return [];
  return v.map((e) => ({ key: String((e as { key: unknown }).key), count: Number((e as { value: unknown }).value) }));
}
