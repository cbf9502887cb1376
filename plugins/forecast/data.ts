/**
 * Reading series: CSV or Parquet through DuckDB (loaded on the first read,
 * so importing this module stays light), one series (`ds`, `y`) or
 * many in long format (`unique_id`, `ds`, `y`, as statsforecast uses).
 * Values are checked row by row (non-numeric values, duplicate or unsorted
 * timestamps are errors naming the file, row and series), the frequency is
 * inferred (or given), and missing timestamps are inserted and filled by a
 * stated rule: `linear` interpolation (default), `previous` value, `zero`,
 * or `error` to refuse gaps. The grid a series spans is bounded
 * ({@linkcode MAX_POINTS} points by default, `maxPoints` to change it) and
 * checked before it is built, so one stray timestamp cannot make a tiny file
 * allocate gigabytes.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { quoteLiteral } from "@mercury/core/sql";
import { printable } from "./_printable.ts";
import { MAX_POINTS } from "./_limits.ts";

export { MAX_POINTS };

/** A regular time step: a fixed number of ms, calendar months, or a plain index. */
export type Frequency = { unit: "ms"; step: number } | { unit: "month"; step: number } | {
  unit: "index";
  step: number;
};

/** One regular series, oldest first. */
export interface Series {
  id: string;
  /** Timestamps, epoch ms (or plain indices for `unit: "index"`). */
  ds: number[];
  y: number[];
  /** How many points were inserted or filled. */
  filled: number;
}

/** How gaps (missing timestamps or empty values) are filled. */
export type FillRule = "linear" | "previous" | "zero" | "error";

/** Options of {@linkcode loadSeries}. */
export interface LoadOptions {
  idColumn?: string;
  timeColumn?: string;
  targetColumn?: string;
  /** `1h`, `15min`, `1d`, `1w`, `1M` (months), `index`; inferred when absent. */
  freq?: string;
  fill?: FillRule;
  /** Sort by id and time instead of rejecting unsorted input. */
  sort?: boolean;
  /** Most points a series may span on its grid, gaps included (default {@linkcode MAX_POINTS}). */
  maxPoints?: number;
}

/** Series read from one file, with the frequency found. */
export interface Dataset {
  file: string;
  series: Series[];
  freq: Frequency;
  /** Seasonal period suggested by the frequency (24 for hourly, 7 daily, 12 monthly…). */
  season: number;
}

const UNITS: Record<string, number> = { s: 1e3, sec: 1e3, min: 6e4, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

/**
 * Parses a frequency string.
 *
 * @example
 * ```ts
 * import { parseFrequency } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseFrequency("1h"), { unit: "ms", step: 3_600_000 });
 * assert.deepEqual(parseFrequency("3M"), { unit: "month", step: 3 });
 * assert.throws(() => parseFrequency("often"), /frequency/);
 * assert.throws(() => parseFrequency("0h"), /not a positive step/);
 * ```
 */
export function parseFrequency(s: string): Frequency {
  if (s === "index") return { unit: "index", step: 1 };
  const m = /^(\d*)\s*(M|mo|month|s|sec|min|m|h|d|w)$/.exec(s.trim());
  if (!m) {
    throw new MercuryError("usage", `cannot read frequency "${s}"`, {
      where: "--freq",
      hint: "use e.g. 1h, 15min, 1d, 1w, 1M or index",
    });
  }
  const n = m[1] ? Number(m[1]) : 1;
  if (!(n > 0)) {
    throw new MercuryError("usage", `frequency "${s}" is not a positive step`, {
      where: "--freq",
      hint: "use a step of at least 1, e.g. 1h, 15min, 1d, 1w, 1M or index",
    });
  }
  if (m[2] === "M" || m[2] === "mo" || m[2] === "month") return { unit: "month", step: n };
  return { unit: "ms", step: n * UNITS[m[2]!]! };
}

/** Seasonal period implied by a frequency. */
export function defaultSeason(f: Frequency): number {
  if (f.unit === "month") return f.step === 1 ? 12 : f.step === 3 ? 4 : 1;
  if (f.unit === "index") return 1;
  const perDay = 864e5 / f.step;
  if (f.step === 6048e5) return 52;
  if (f.step === 864e5) return 7;
  if (Number.isInteger(perDay) && perDay > 1) return perDay;
  return 1;
}

/** Next timestamp after `t`. */
export function advance(t: number, f: Frequency, k = 1): number {
  if (f.unit !== "month") return t + k * f.step;
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k * f.step, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
}

function inferFrequency(series: { ds: number[] }[], index: boolean): Frequency {
  if (index) return { unit: "index", step: 1 };
  const diffs: number[] = [];
  for (const s of series) {
    for (let i = 1; i < s.ds.length && diffs.length < 10000; i++) diffs.push(s.ds[i]! - s.ds[i - 1]!);
  }
  if (!diffs.length) return { unit: "ms", step: 864e5 };
  const day = 864e5;
  if (diffs.every((d) => d >= 28 * day && d <= 31 * day)) return { unit: "month", step: 1 };
  if (diffs.every((d) => d >= 89 * day && d <= 92 * day)) return { unit: "month", step: 3 };
  const counts = new Map<number, number>();
  for (const d of diffs) counts.set(d, (counts.get(d) ?? 0) + 1);
  const step = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  return { unit: "ms", step };
}

function fillGaps(y: (number | null)[], rule: FillRule): number[] {
  const out = y.slice();
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== null) continue;
    let j = i;
    while (j < out.length && out[j] === null) j++;
    const before = i > 0 ? out[i - 1] as number : null;
    const after = j < out.length ? out[j] as number : null;
    for (let k = i; k < j; k++) {
      if (rule === "zero") out[k] = 0;
      else if (rule === "previous" || after === null) out[k] = before ?? after ?? 0;
      else if (before === null) out[k] = after;
      else out[k] = before + ((after - before) * (k - i + 1)) / (j - i + 1);
    }
    i = j;
  }
  return out as number[];
}

/** How many points a regular grid from `first` to `last` holds (fractional when `last` is off the grid). */
function gridPoints(first: number, last: number, f: Frequency): number {
  if (f.unit !== "month") return (last - first) / f.step + 1;
  const a = new Date(first), b = new Date(last);
  return ((b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth()) / f.step + 1;
}

/**
 * Reads a CSV or Parquet file of one or many series.
 *
 * @example
 * ```ts
 * import { loadSeries } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(file, "ds,y\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,2\n2024-01-01T03:00Z,4\n");
 * const d = await loadSeries(file);
 * assert.deepEqual(d.series[0]!.y, [1, 2, 3, 4]); // the 02:00 gap filled linearly
 * assert.equal(d.season, 24);
 * await Deno.remove(file);
 * ```
 */
export async function loadSeries(file: string, options: LoadOptions = {}): Promise<Dataset> {
  const idCol = options.idColumn ?? "unique_id";
  const timeCol = options.timeColumn ?? "ds";
  const yCol = options.targetColumn ?? "y";
  const fill = options.fill ?? "linear";
  try {
    await Deno.stat(file);
  } catch {
    throw new MercuryError("not_found", `data file ${file} does not exist`, {
      where: file,
      hint: "check the --data path",
    });
  }
  const parquet = /\.parquet$/i.test(file);
  const lit = quoteLiteral(file);
  const sql = parquet
    ? `select * from read_parquet(${lit})`
    : `select * from read_csv(${lit}, header = true, all_varchar = true, auto_detect = true)`;
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  let cols: Record<string, unknown[]>;
  let names: string[];
  try {
    const reader = await conn.runAndReadAll(sql);
    names = reader.columnNames();
    cols = reader.getColumnsObjectJS() as Record<string, unknown[]>;
  } catch (err) {
    throw new MercuryError("input", `cannot read ${file}: ${(err as Error).message.split("\n")[0]}`, {
      where: file,
      hint: parquet ? "is it a Parquet file?" : "is it a CSV file with a header row?",
      cause: err,
    });
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  for (const c of [timeCol, yCol]) {
    if (!names.includes(c)) {
      throw new MercuryError("input", `${file} has no column "${c}" (columns: ${names.join(", ")})`, {
        where: file,
        hint: `name the columns ${idCol === "unique_id" ? "unique_id, " : ""}ds, y or pass --time-col / --target-col`,
      });
    }
  }
  const ids = names.includes(idCol) ? cols[idCol]! : null;
  const tcol = cols[timeCol]!, ycol = cols[yCol]!;
  const rowOf = (i: number) => (parquet ? `row ${i + 1}` : `line ${i + 2}`);
  const isIndex = tcol.every((v) =>
    v === null || typeof v === "number" || typeof v === "bigint" || /^-?\d+$/.test(String(v))
  );
  const groups = new Map<string, { ds: number[]; y: (number | null)[]; rows: number[] }>();
  for (let i = 0; i < tcol.length; i++) {
    const id = ids ? String(ids[i] ?? "") : "series";
    const tv = tcol[i];
    let t: number;
    if (tv instanceof Date) t = tv.getTime();
    else if (isIndex) t = Number(tv);
    else {
      const s = String(tv ?? "");
      t = Date.parse(
        /^\d{4}-\d\d-\d\d$/.test(s) ? `${s}T00:00:00Z` : /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(" ", "T")}Z`,
      );
    }
    if (!Number.isFinite(t)) {
      throw new MercuryError(
        "input",
        `${file} ${rowOf(i)}: "${printable(String(tv))}" in column ${timeCol} is not a timestamp`,
        {
          where: `${file}:${i + 2}`,
          hint: "use ISO dates such as 2024-01-31 or 2024-01-31T13:00:00Z, or integer indices",
        },
      );
    }
    const raw = ycol[i];
    let v: number | null = null;
    if (
      raw !== null && raw !== undefined && String(raw).trim() !== "" && !/^(na|nan|null)$/i.test(String(raw).trim())
    ) {
      v = Number(raw);
      if (!Number.isFinite(v)) {
        throw new MercuryError(
          "input",
          `${file} ${rowOf(i)}${ids ? ` (series ${printable(id)})` : ""}: "${
            printable(String(raw))
          }" in column ${yCol} is not a number`,
          {
            where: `${file}:${i + 2}`,
            hint: "fix the value, or leave the cell empty to have it filled",
          },
        );
      }
    }
    let g = groups.get(id);
    if (!g) groups.set(id, g = { ds: [], y: [], rows: [] });
    g.ds.push(t);
    g.y.push(v);
    g.rows.push(i);
  }
  for (const [id, g] of groups) {
    if (options.sort) {
      const o = g.ds.map((_, k) => k).sort((a, b) => g.ds[a]! - g.ds[b]!);
      g.ds = o.map((k) => g.ds[k]!);
      g.y = o.map((k) => g.y[k]!);
      g.rows = o.map((k) => g.rows[k]!);
    }
    for (let k = 1; k < g.ds.length; k++) {
      if (g.ds[k] === g.ds[k - 1]) {
        throw new MercuryError(
          "input",
          `${file} ${rowOf(g.rows[k]!)}: duplicate timestamp ${tcol[g.rows[k]!]} in series ${id} (also ${
            rowOf(g.rows[k - 1]!)
          })`,
          {
            where: `${file}:${g.rows[k]! + 2}`,
            hint: "keep one row per series and timestamp",
          },
        );
      }
      if (g.ds[k]! < g.ds[k - 1]!) {
        throw new MercuryError(
          "input",
          `${file} ${rowOf(g.rows[k]!)}: timestamp ${tcol[g.rows[k]!]} of series ${id} is earlier than the row before`,
          {
            where: `${file}:${g.rows[k]! + 2}`,
            hint: "sort the file by unique_id, ds (or pass --sort)",
          },
        );
      }
    }
  }
  if (!groups.size) {
    throw new MercuryError("input", `${file} has no rows`, { where: file, hint: "give at least a few observations" });
  }
  const freq = options.freq ? parseFrequency(options.freq) : inferFrequency([...groups.values()], isIndex);
  const maxPoints = options.maxPoints ?? MAX_POINTS;
  for (const [id, g] of groups) {
    const points = Math.floor(gridPoints(g.ds[0]!, g.ds[g.ds.length - 1]!, freq));
    if (points > maxPoints) {
      const at = (t: number) => (freq.unit === "index" ? String(t) : new Date(t).toISOString());
      const k = g.ds.length - 1;
      throw new MercuryError(
        "input",
        `${file}: series ${id} spans ${points.toExponential(2)} ${describeFrequency(freq)} steps from ${
          at(g.ds[0]!)
        } to ${at(g.ds[k]!)} (${rowOf(g.rows[k]!)}); the limit is ${maxPoints} points`,
        {
          where: `${file}:${g.rows[k]! + 2}`,
          hint: `check that timestamp and --freq; to allow a longer series pass --max-points N`,
        },
      );
    }
  }
  const series: Series[] = [];
  for (const [id, g] of groups) {
    const ds: number[] = [];
    const y: (number | null)[] = [];
    let filled = 0;
    let t = g.ds[0]!;
    for (let k = 0; k < g.ds.length; k++) {
      while (t < g.ds[k]!) {
        if (fill === "error") {
          throw new MercuryError(
            "input",
            `${file}: series ${id} has no value at ${freq.unit === "index" ? t : new Date(t).toISOString()}`,
            {
              where: `${file}:${g.rows[k]! + 2}`,
              hint: "fill the gap or choose --fill linear|previous|zero",
            },
          );
        }
        ds.push(t);
        y.push(null);
        t = advance(t, freq);
      }
      if (t !== g.ds[k]) {
        throw new MercuryError(
          "input",
          `${file} ${rowOf(g.rows[k]!)}: timestamp ${tcol[g.rows[k]!]} of series ${id} is off the ${
            describeFrequency(freq)
          } grid`,
          {
            where: `${file}:${g.rows[k]! + 2}`,
            hint: "pass the right --freq, or aggregate the data to a regular grid first",
          },
        );
      }
      ds.push(g.ds[k]!);
      y.push(g.y[k]!);
      t = advance(t, freq);
    }
    const gaps = y.filter((v) => v === null).length;
    filled += gaps;
    if (gaps && fill === "error") {
      throw new MercuryError("input", `${file}: series ${id} has ${gaps} empty values`, {
        where: file,
        hint: "choose --fill linear|previous|zero",
      });
    }
    if (y.every((v) => v === null)) {
      throw new MercuryError("input", `${file}: series ${id} has no values`, {
        where: file,
        hint: "remove it or give values",
      });
    }
    series.push({ id, ds, y: fillGaps(y, fill), filled });
  }
  return { file, series, freq, season: defaultSeason(freq) };
}

/** `1h`, `1d`, `1M`… for messages. */
export function describeFrequency(f: Frequency): string {
  if (f.unit === "index") return "index";
  if (f.unit === "month") return `${f.step}M`;
  for (const [u, ms] of [["w", 6048e5], ["d", 864e5], ["h", 36e5], ["min", 6e4], ["s", 1e3]] as const) {
    if (f.step % ms === 0) return `${f.step / ms}${u}`;
  }
  return `${f.step}ms`;
}

/** Future timestamps after a series' last one. */
export function futureDates(s: Series, f: Frequency, h: number): number[] {
  const last = s.ds[s.ds.length - 1]!;
  return Array.from({ length: h }, (_, i) => advance(last, f, i + 1));
}

/** The step in ms of a frequency (months ≈ 30.44 days), for models that want a clock. */
export function stepMs(f: Frequency): number {
  return f.unit === "month" ? f.step * 2_629_746_000 : f.unit === "index" ? 3_600_000 : f.step;
}
