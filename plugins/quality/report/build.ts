/**
 * Gathers what a report shows — the run, its score, metric histories with
 * anomaly verdicts, a sample of failing rows, the data's distributions — and
 * writes it as HTML, PDF, JSON or JUnit XML (by `format` or the output's
 * extension), atomically.
 *
 * @module
 */
import { openDuckDB } from "@mercury/core/services/duckdb";
import { quoteLiteral } from "@mercury/core/sql";
import type { ExpectationSuite, ValidationRun } from "../types.ts";
import { type QualityScore, scoreRun } from "../score.ts";
import type { QualityStore } from "../store/store.ts";
import { type AnomalyStrategy, checkMetrics } from "../anomaly.ts";
import { profileSource } from "../profile/mod.ts";
import type { Profile } from "../profile/profile.ts";
import { renderHtml, type ReportInput } from "./html.ts";
import { htmlToPdf, renderJson, renderJunit } from "./formats.ts";
import { writeFileAtomic } from "@mercury/core/files";

/** Report formats. */
export type ReportFormat = "html" | "pdf" | "json" | "junit";

/** The strategies the report judges metric histories with. */
export const REPORT_STRATEGIES: AnomalyStrategy[] = [
  { type: "z_score", threshold: 3 },
  { type: "forecast", algorithm: "auto_ets", level: 99 },
];

/** The format an output path asks for by its extension. */
export function formatOf(path: string): ReportFormat {
  if (/\.pdf$/i.test(path)) return "pdf";
  if (/\.json$/i.test(path)) return "json";
  if (/\.xml$/i.test(path)) return "junit";
  return "html";
}

/** Options of {@linkcode buildReport}. */
export interface BuildOptions {
  suite?: ExpectationSuite;
  store?: QualityStore;
  /** A profile of the data; profiled from the run's source when omitted and it is a readable file. */
  profile?: Profile | null;
  /** Failing rows shown (default 20). */
  failingRows?: number;
}

/** Collects the report's content for a run. */
export async function buildReport(run: ValidationRun, options: BuildOptions = {}): Promise<ReportInput> {
  const score: QualityScore = scoreRun(run, options.suite);
  const input: ReportInput = { run, score };
  if (options.store) {
    const metrics = (await options.store.metricNames(run.suite_name))
      .filter((m) => m === "row_count" || m.endsWith(".null_share") || m.endsWith(".mean"));
    // The history of the same source: runs of the suite on other data are another series.
    const source = run.fingerprint.source;
    // Row count first, then the metrics whose newest value is anomalous, then the rest: eight charts at most.
    const rank = (j: { metric: string; verdicts: { anomaly: boolean }[] }) =>
      j.metric === "row_count" ? 0 : j.verdicts.some((v) => v.anomaly) ? 1 : 2;
    const judged = (await checkMetrics(options.store, run.suite_name, metrics, REPORT_STRATEGIES, source))
      .map((j, k) => ({ j, k }))
      .sort((a, b) => rank(a.j) - rank(b.j) || a.k - b.k)
      .slice(0, 8)
      .map((x) => x.j);
    input.history = [];
    for (const j of judged) {
      const points = (await options.store.metricHistory(run.suite_name, j.metric, source)).map((p) => ({
        at: p.at,
        value: p.value,
      }));
      if (points.length > 1) input.history.push({ metric: j.metric, points, verdicts: j.verdicts });
    }
  }
  if (run.failing_rows_path) {
    try {
      using db = await openDuckDB();
      input.failingRows = (await db.connection.runAndReadAll(
        `select * from read_parquet(${quoteLiteral(run.failing_rows_path)}) limit ${options.failingRows ?? 20}`,
      )).getRowObjectsJson() as Record<string, unknown>[];
    } catch { /* the Parquet was moved or removed: the report shows the results' samples only */ }
  }
  if (options.profile) input.profile = options.profile;
  else if (options.profile === undefined && /\.(parquet|csv|tsv|json|ndjson|jsonl)$/i.test(run.fingerprint.source)) {
    try {
      input.profile = await profileSource(run.fingerprint.source);
    } catch { /* the data is gone or elsewhere: no distribution charts */ }
  }
  return input;
}

/** Renders the report and writes it to `path` atomically; returns the format written. */
export async function writeReport(
  input: ReportInput,
  path: string,
  format: ReportFormat = formatOf(path),
): Promise<ReportFormat> {
  if (format === "json") await writeFileAtomic(path, renderJson(input.run, input.score));
  else if (format === "junit") await writeFileAtomic(path, renderJunit(input.run));
  else {
    const html = await renderHtml(input);
    await writeFileAtomic(path, format === "pdf" ? await htmlToPdf(html) : html);
  }
  return format;
}

/** The newest run JSON the `check` command wrote under `<root>/.mercury/quality/runs/`, if any. */
export async function latestRunFile(root: string, suite?: string): Promise<string | null> {
  const base = `${root}/.mercury/quality/runs`;
  let best: { path: string; mtime: number } | null = null;
  const dirs: string[] = [];
  try {
    for await (const e of Deno.readDir(base)) {
      if (e.isDirectory && (!suite || e.name === suite)) dirs.push(`${base}/${e.name}`);
    }
  } catch {
    return null;
  }
  for (const d of dirs) {
    for await (const e of Deno.readDir(d)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const st = await Deno.stat(`${d}/${e.name}`);
      const m = st.mtime?.getTime() ?? 0;
      if (!best || m > best.mtime) best = { path: `${d}/${e.name}`, mtime: m };
    }
  }
  return best?.path ?? null;
}
