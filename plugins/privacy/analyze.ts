/**
 * A differentially private summary of every column of a table: for numeric
 * columns the non-null count, mean, quartiles and a 10-bin histogram; for
 * other columns the non-null count and a histogram of values found in the
 * data (released only past the partition-selection threshold). Each answer
 * carries its noise scale and a 95% interval; the whole summary costs the ε
 * (and δ) given, split evenly over the columns and within a column over its
 * measurements (basic composition).
 *
 * Numeric columns need bounds. Given ones (`bounds`) are used as they are;
 * otherwise a fifth of the column's ε finds them privately from a noisy
 * histogram of magnitudes on power-of-two bins ({@link privateBounds}).
 * With small data or small ε such bounds are coarse: give `bounds`.
 *
 * With a privacy unit column each unit keeps at most `maxRowsPerUnit` rows
 * (chosen at random) and every sensitivity is multiplied by that bound.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent } from "@mercury/core/sql";
import { laplaceMechanism } from "./mechanisms/float.ts";
import { partitionThreshold } from "./mechanisms/histogram.ts";
import { exponentialMechanism } from "./mechanisms/selection.ts";
import { clampExpr } from "./dpsql/query.ts";
import { floatToRational, sampleDiscreteLaplace } from "./mechanisms/samplers.ts";

/** Options of {@link analyzeTable}. */
export interface AnalyzeOptions {
  epsilon: number;
  /** δ for the partition selection of categorical histograms (default 1e-6). */
  delta?: number;
  /** Column naming the privacy unit (excluded from the summary). */
  privacyUnit?: string;
  /** Rows kept per unit (default 1; only with `privacyUnit`). */
  maxRowsPerUnit?: number;
  /** Known bounds of numeric columns. */
  bounds?: Record<string, readonly [number, number]>;
  /** Columns to leave out. */
  exclude?: string[];
}

/** A noisy number with its error. */
export interface Noisy {
  value: number;
  /** Laplace scale b of the noise. */
  scale: number;
  /** Half-width of the 95% interval. */
  error95: number;
}

/** One column's DP summary. */
export interface ColumnSummary {
  column: string;
  type: string;
  kind: "numeric" | "categorical";
  epsilon: number;
  delta: number;
  count: Noisy;
  /** Numeric: the bounds used and where they came from. */
  bounds?: { lower: number; upper: number; source: "user" | "dp" };
  mean?: Noisy;
  /** Numeric: 25%, 50%, 75% (exponential mechanism; `error95` is the candidate spacing). */
  quantiles?: { q: number; value: number; spacing: number }[];
  /** Bins (numeric: 10 equal-width bins over the bounds; categorical: the values released). */
  histogram: { bin: string; count: Noisy }[];
  /** Categorical: the threshold a value's noisy count had to reach. */
  threshold?: number;
}

/** The summary of a table. */
export interface TableSummary {
  epsilon: number;
  delta: number;
  columns: ColumnSummary[];
  privacyUnit?: string;
  maxRowsPerUnit: number;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;
const LOG_20 = Math.log(20); // 95% two-sided Laplace interval: b·ln(1/0.05)

function noisyCount(c: number, scale: number): Noisy {
  const { num, den } = floatToRational(scale);
  return { value: c + Number(sampleDiscreteLaplace(num, den)), scale, error95: scale * LOG_20 };
}

function noisySum(s: number, sensitivity: number, epsilon: number): Noisy {
  const r = laplaceMechanism(s, { sensitivity, epsilon });
  return { value: r.value, scale: r.scale, error95: r.scale * LOG_20 };
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

/** DP quantile of a column over fixed candidates; the scores are counted by DuckDB. */
async function quantileOver(
  conn: DuckDBConnection,
  src: string,
  col: string,
  q: number,
  cands: number[],
  epsilon: number,
  r: number,
): Promise<number> {
  const c = quoteIdent(col);
  const list = `[${cands.map((x) => `${x}::double`).join(", ")}]`;
  const res = await rows(
    conn,
    `select c, count(*) filter (where ${c}::double < c) as lt, count(*) filter (where ${c}::double > c) as gt
     from ${src}, unnest(${list}) u(c) where ${c} is not null group by c order by c`,
  );
  const byC = new Map(res.map((x) => [Number(x.c), x]));
  const scores = cands.map((x) => {
    const e = byC.get(x);
    const lt = e ? Number(e.lt) : 0, gt = e ? Number(e.gt) : 0;
    return -Math.abs((1 - q) * lt - q * gt);
  });
  return cands[exponentialMechanism(scores, { sensitivity: r * Math.max(q, 1 - q), epsilon })]!;
}

const K_MIN = -10, K_MAX = 40;

/**
 * Bounds of a numeric column found with ε-DP: a noisy histogram of
 * magnitudes on power-of-two bins (−2^k…−2^(k−1), 0, 2^(k−1)…2^k for
 * k = −10…40: public bins, one row in one bin), and the outermost bins whose
 * noisy count passes τ = b·ln(bins/0.05), so an empty bin passes with
 * probability under 5% in all. The approach of Google's
 * `ApproximateBounds`.
 */
export async function privateBounds(
  conn: DuckDBConnection,
  src: string,
  col: string,
  epsilon: number,
  r = 1,
): Promise<[number, number]> {
  const c = quoteIdent(col);
  const res = await rows(
    conn,
    `select sign(${c}::double)::int as s, case when ${c} = 0 then 0 else least(${K_MAX}, greatest(${K_MIN},
       ceil(log2(abs(${c}::double))))) end::int as k, count(*) as n from ${src} where ${c} is not null group by 1, 2`,
  );
  const counts = new Map(res.map((x) => [`${x.s}:${x.k}`, Number(x.n)]));
  const b = r / epsilon;
  const bins = 2 * (K_MAX - K_MIN + 1) + 1;
  const tau = b * Math.log(bins / 0.05);
  const pass = (key: string) => noisyCount(counts.get(key) ?? 0, b).value > tau;
  const neg: number[] = [], pos: number[] = [];
  for (let k = K_MIN; k <= K_MAX; k++) {
    if (pass(`-1:${k}`)) neg.push(k);
    if (pass(`1:${k}`)) pos.push(k);
  }
  const zero = pass("0:0");
  if (!neg.length && !pos.length && !zero) {
    throw new MercuryError("input", `cannot find bounds for column '${col}' privately: too few rows for this ε`, {
      where: col,
      hint: `give them: --bounds ${col}=LOWER:UPPER, or a larger --epsilon`,
    });
  }
  const lower = neg.length ? -(2 ** Math.max(...neg)) : zero ? 0 : 2 ** (Math.min(...pos) - 1);
  let upper = pos.length ? 2 ** Math.max(...pos) : zero ? 0 : -(2 ** (Math.min(...neg) - 1));
  if (upper <= lower) upper = lower + 1;
  return [lower, upper];
}

/** Summarises every column of `table` with ε-DP; see the module doc. */
export async function analyzeTable(
  conn: DuckDBConnection,
  table: string,
  o: AnalyzeOptions,
): Promise<TableSummary> {
  if (!(Number.isFinite(o.epsilon) && o.epsilon > 0)) {
    throw new MercuryError("usage", `--epsilon must be a finite number > 0, got ${o.epsilon}`, {
      hint: "e.g. --epsilon 1.0",
    });
  }
  const delta = o.delta ?? 1e-6;
  if (!(delta > 0 && delta < 1)) {
    throw new MercuryError("usage", `--delta must lie in (0, 1), got ${delta}`, { hint: "e.g. --delta 1e-6" });
  }
  const r = o.privacyUnit ? (o.maxRowsPerUnit ?? 1) : 1;
  if (!(Number.isInteger(r) && r >= 1)) {
    throw new MercuryError("usage", `--max-rows must be a whole number ≥ 1, got ${r}`, { hint: "e.g. --max-rows 5" });
  }
  const desc = await rows(conn, `describe ${quoteIdent(table)}`);
  const names = desc.map((d) => String(d.column_name));
  if (o.privacyUnit && !names.includes(o.privacyUnit)) {
    throw new MercuryError("usage", `the privacy unit column '${o.privacyUnit}' is not in the data`, {
      where: table,
      hint: `one of: ${names.join(", ")}`,
    });
  }
  for (const b of Object.keys(o.bounds ?? {})) {
    if (!names.includes(b)) {
      throw new MercuryError("usage", `--bounds names '${b}', which is not a column`, {
        where: table,
        hint: `one of: ${names.join(", ")}`,
      });
    }
  }
  const cols = desc.filter((d) =>
    d.column_name !== o.privacyUnit && !(o.exclude ?? []).includes(String(d.column_name))
  );
  if (cols.length === 0) throw new MercuryError("input", "no columns to summarise", { where: table });
  let src = quoteIdent(table);
  if (o.privacyUnit) {
    const u = quoteIdent(o.privacyUnit);
    await conn.run(
      `create or replace temp table __privacy_bounded as select * exclude (__rn) from (select *, row_number() over (partition by ${u} order by random()) as __rn from ${src} where ${u} is not null) where __rn <= ${r}`,
    );
    src = "__privacy_bounded";
  }
  const epsCol = o.epsilon / cols.length;
  const categorical = cols.filter((d) => !NUMERIC.test(String(d.column_type)));
  const deltaCat = categorical.length ? delta / categorical.length : 0;
  const out: ColumnSummary[] = [];
  for (const d of cols) {
    const name = String(d.column_name), type = String(d.column_type), c = quoteIdent(name);
    if (NUMERIC.test(type)) {
      const user = o.bounds?.[name];
      if (user && !(Number.isFinite(user[0]) && Number.isFinite(user[1]) && user[0] < user[1])) {
        throw new MercuryError("usage", `the bounds of '${name}' must be finite with lower < upper, got [${user}]`, {
          hint: `e.g. --bounds ${name}=0:100`,
        });
      }
      // Without user bounds a fifth of the column's ε finds them, the rest is split over the 4 measurements.
      const e = user ? epsCol / 4 : (epsCol * 0.8) / 4;
      let lower: number, upper: number;
      if (user) [lower, upper] = user;
      else [lower, upper] = await privateBounds(conn, src, name, epsCol * 0.2, r);
      const x = clampExpr(name, [lower, upper]);
      // The mean as midpoint + Σ(x − mid)/n: the centred sum has sensitivity (upper − lower)/2.
      const mid = (lower + upper) / 2;
      const [agg] = await rows(
        conn,
        `select count(${c}) as n, coalesce(sum(${x} - ${mid}::double), 0) as s from ${src}`,
      );
      const count = noisyCount(Number(agg!.n), r / e);
      const sum = noisySum(Number(agg!.s), (r * (upper - lower)) / 2, e);
      const clampV = (v: number) => Math.min(upper, Math.max(lower, v));
      const meanV = count.value > 0 ? clampV(mid + sum.value / count.value) : mid;
      // Error of the ratio: the centred sum's and the count's 95% half-widths propagated to first order.
      const nEff = Math.max(1, count.value);
      const meanErr = Math.min(upper - lower, (sum.error95 + Math.abs(meanV - mid) * count.error95) / nEff);
      const spacing = (upper - lower) / 200;
      const qc = Array.from({ length: 201 }, (_, i) => lower + i * spacing);
      const quantiles = [];
      for (const q of [0.25, 0.5, 0.75]) {
        quantiles.push({ q, value: await quantileOver(conn, src, name, q, qc, e / 3, r), spacing });
      }
      const w = (upper - lower) / 10;
      const hist = await rows(
        conn,
        `select least(9, floor((${x} - ${lower}) / ${w}))::int as b, count(*) as n from ${src} where ${c} is not null group by 1`,
      );
      const hc = new Map(hist.map((h) => [Number(h.b), Number(h.n)]));
      const histogram = Array.from({ length: 10 }, (_, i) => ({
        bin: `[${fmt(lower + i * w)}, ${fmt(lower + (i + 1) * w)}${i === 9 ? "]" : ")"}`,
        count: noisyCount(hc.get(i) ?? 0, r / e),
      }));
      out.push({
        column: name,
        type,
        kind: "numeric",
        epsilon: epsCol,
        delta: 0,
        count,
        bounds: { lower, upper, source: user ? "user" : "dp" },
        mean: { value: meanV, scale: sum.scale / nEff, error95: meanErr },
        quantiles,
        histogram,
      });
    } else {
      const e = epsCol / 2;
      const [agg] = await rows(conn, `select count(${c}) as n from ${src}`);
      const count = noisyCount(Number(agg!.n), r / e);
      const b = r / e;
      const threshold = r - 1 + partitionThreshold(b, deltaCat, 1);
      const vals = await rows(
        conn,
        `select ${c}::varchar as v, count(*) as n from ${src} where ${c} is not null group by 1 order by 1`,
      );
      const histogram = [];
      for (const v of vals) {
        const n = noisyCount(Number(v.n), b);
        if (n.value >= threshold) histogram.push({ bin: String(v.v), count: n });
      }
      histogram.sort((a, z) => z.count.value - a.count.value);
      out.push({
        column: name,
        type,
        kind: "categorical",
        epsilon: epsCol,
        delta: deltaCat,
        count,
        histogram,
        threshold,
      });
    }
  }
  if (o.privacyUnit) await conn.run("drop table if exists __privacy_bounded");
  return {
    epsilon: o.epsilon,
    delta: categorical.length ? delta : 0,
    columns: out,
    privacyUnit: o.privacyUnit,
    maxRowsPerUnit: r,
  };
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/\.?0+$/, "");
}

/** One line per column for a terminal table. */
export function summaryRows(s: TableSummary): Record<string, string>[] {
  const pm = (n: Noisy) => `${fmt(Math.round(n.value * 100) / 100)} ± ${fmt(n.error95)}`;
  return s.columns.map((c) => ({
    column: c.column,
    type: c.kind === "numeric" ? c.type.toLowerCase() : "categorical",
    count: pm(c.count),
    mean: c.mean ? pm(c.mean) : "",
    "p25 / p50 / p75": c.quantiles ? c.quantiles.map((q) => fmt(q.value)).join(" / ") : "",
    bounds: c.bounds ? `[${fmt(c.bounds.lower)}, ${fmt(c.bounds.upper)}] ${c.bounds.source}` : "",
    top: c.kind === "categorical"
      ? c.histogram.slice(0, 3).map((h) => `${h.bin}: ${fmt(h.count.value)}`).join(", ") +
        (c.histogram.length > 3 ? ` (+${c.histogram.length - 3})` : "")
      : "",
    "ε": fmt(c.epsilon),
  }));
}
