/**
 * The HTML report of a run, after GX's Data Docs: the suite and the data it
 * saw, the quality score per dimension with its formula, each expectation
 * with its result, observed value and a sample of failing values or rows,
 * distribution charts (from a profile) and metric-history charts (from the
 * store). One self-contained file: inline CSS, charts as inline SVG rendered
 * in-process by vega-lite, no script, no network — it opens offline.
 *
 * @module
 */
import { chartSvg, escapeHtml, tableHtml } from "@mercury/core/display";
import type { ExpectationResult, ValidationRun } from "../types.ts";
import type { QualityScore } from "../score.ts";
import { dimensionOf, passRate } from "../score.ts";
import type { Profile } from "../profile/profile.ts";
import type { AnomalyVerdict } from "../anomaly.ts";

/** What a report shows besides the run. */
export interface ReportInput {
  run: ValidationRun;
  score: QualityScore;
  /** Distributions of the data (histograms, top values), when profiled. */
  profile?: Profile;
  /** Metric histories from the store, oldest first, with anomaly verdicts on the newest value. */
  history?: { metric: string; points: { at: string; value: number }[]; verdicts?: AnomalyVerdict[] }[];
  /** Failing rows (a sample), from the run's failing-rows Parquet. */
  failingRows?: Record<string, unknown>[];
  /** Title (default: the suite's name). */
  title?: string;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#243b53;color:#fff;padding:18px 32px}header h1{margin:0 0 4px;font-size:22px}
header .sub{opacity:.85}main{padding:20px 32px;max-width:1200px}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:14px 18px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 10px}.pill{display:inline-block;white-space:nowrap;overflow-wrap:normal;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600}
.ok{background:#e3f9e5;color:#0e5814}.bad{background:#ffe3e3;color:#8a041a}.warn{background:#fff3c4;color:#8d2b0b}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.results{table-layout:fixed}table.results col.s{width:64px}table.results col.e{width:36%}table.results col.d{width:11%}table.results col.o{width:20%}table.results col.p{width:9%}
th{background:#f0f4f8;font-weight:600}code{font-size:12px;background:#f0f4f8;padding:1px 4px;border-radius:3px}
.kv{display:grid;grid-template-columns:180px 1fr;gap:2px 12px}.score{font-size:40px;font-weight:700}
.dims{display:flex;gap:12px;flex-wrap:wrap}.dim{border:1px solid #d9e2ec;border-radius:6px;padding:8px 12px;min-width:130px}
.dim b{font-size:20px;display:block}.charts{display:flex;flex-wrap:wrap;gap:12px}.charts figure{margin:0}
figcaption{font-size:12px;color:#52606d}.formula{font-size:12px;color:#52606d}.small{font-size:12px;color:#52606d}
`;

function fmtValue(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 160 ? s.slice(0, 159) + "…" : s;
}

function kwargsText(k: Record<string, unknown>): string {
  return Object.entries(k).filter(([n]) => n !== "result_format").map(([n, v]) => `${n}=${fmtValue(v)}`).join(", ");
}

function resultRow(r: ExpectationResult, i: number): string {
  const res = r.result ?? {};
  const e = r.expectation_config;
  const observed = r.exception_info?.raised_exception
    ? `<span class="pill bad">error</span> ${escapeHtml(r.exception_info.exception_message ?? "")}`
    : res.observed_value !== undefined
    ? escapeHtml(fmtValue(res.observed_value))
    : typeof res.unexpected_count === "number"
    ? `${res.unexpected_count} unexpected of ${res.element_count ?? "?"} (${fmtValue(res.unexpected_percent ?? 0)} %)`
    : "";
  const sample = (res.partial_unexpected_list ?? []).slice(0, 8).map((v) => escapeHtml(fmtValue(v))).join(", ");
  return `<tr id="e${i}"><td>${
    r.success ? '<span class="pill ok">pass</span>' : '<span class="pill bad">fail</span>'
  }</td>
<td><code>${escapeHtml(e.type)}</code><div class="small">${escapeHtml(kwargsText(e.kwargs))}</div></td>
<td>${dimensionOf(e)}</td><td>${observed}</td><td>${(passRate(r) * 100).toFixed(1)} %</td>
<td class="small">${sample}</td></tr>`;
}

async function histogramChart(c: Profile["columns"][number]): Promise<string | null> {
  if (c.histogram.length) {
    const values = c.histogram.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count }));
    const temporal = !c.duckdbType.match(/INT|DOUBLE|FLOAT|DECIMAL/i);
    return await chartSvg({
      width: 240,
      height: 110,
      data: { values: temporal ? values.map((v) => ({ ...v, lo: v.lo * 1000, hi: v.hi * 1000 })) : values },
      mark: { type: "bar", color: "#486581" },
      encoding: {
        x: { field: "lo", type: temporal ? "temporal" : "quantitative", bin: { binned: true }, title: c.name },
        x2: { field: "hi" },
        y: { field: "count", type: "quantitative", title: "rows" },
      },
    });
  }
  if (c.topK.length) {
    return await chartSvg({
      width: 240,
      height: 110,
      data: { values: c.topK.slice(0, 8) },
      mark: { type: "bar", color: "#627d98" },
      encoding: {
        y: { field: "value", type: "nominal", sort: "-x", title: c.name },
        x: { field: "count", type: "quantitative", title: "rows" },
      },
    });
  }
  return null;
}

async function historyChart(h: NonNullable<ReportInput["history"]>[number]): Promise<string> {
  const flagged = new Set(h.verdicts?.some((v) => v.anomaly) ? [h.points.at(-1)?.at] : []);
  return await chartSvg({
    width: 300,
    height: 120,
    data: { values: h.points.map((p) => ({ ...p, anomaly: flagged.has(p.at) ? "anomaly" : "normal" })) },
    layer: [
      {
        mark: { type: "line", color: "#486581" },
        encoding: {
          x: { field: "at", type: "temporal", title: null },
          y: { field: "value", type: "quantitative", title: h.metric, scale: { zero: false } },
        },
      },
      {
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x: { field: "at", type: "temporal" },
          y: { field: "value", type: "quantitative" },
          color: {
            field: "anomaly",
            type: "nominal",
            scale: { domain: ["normal", "anomaly"], range: ["#486581", "#d64545"] },
            legend: null,
          },
        },
      },
    ],
  });
}

/**
 * Renders the report as one HTML document.
 *
 * @example
 * ```ts
 * import { renderHtml } from "./html.ts";
 * import { scoreRun } from "../score.ts";
 * import assert from "node:assert/strict";
 *
 * const run = {
 *   run_id: "r1", success: true, suite_name: "orders", started_at: "2026-01-01T00:00:00Z",
 *   ended_at: "2026-01-01T00:00:01Z", fingerprint: { source: "o.csv", kind: "csv", row_count: 3 },
 *   statistics: { evaluated_expectations: 0, successful_expectations: 0, unsuccessful_expectations: 0, success_percent: 100 },
 *   results: [],
 * };
 * const html = await renderHtml({ run, score: scoreRun(run) });
 * assert.match(html, /<h1>orders<\/h1>/);
 * ```
 */
export async function renderHtml(input: ReportInput): Promise<string> {
  const { run, score } = input;
  const fp = run.fingerprint;
  const status = run.success ? '<span class="pill ok">passed</span>' : '<span class="pill bad">failed</span>';
  const st = run.statistics;
  const parts: string[] = [];
  parts.push(`<section><h2>Run</h2><div class="kv">
<div>status</div><div>${status} ${st.successful_expectations} of ${st.evaluated_expectations} expectations met (${
    fmtValue(st.success_percent)
  } %)</div>
<div>suite</div><div>${escapeHtml(run.suite_name)}${run.suite_version ? ` v${run.suite_version}` : ""}</div>
<div>data</div><div><code>${escapeHtml(fp.source)}</code> (${escapeHtml(fp.kind)}), ${fp.row_count} rows${
    fp.bytes ? `, ${fp.bytes} bytes` : ""
  }</div>
${fp.hash ? `<div>fingerprint</div><div><code>${escapeHtml(fp.hash)}</code></div>` : ""}
<div>run</div><div><code>${escapeHtml(run.run_id)}</code>, ${escapeHtml(run.started_at)} → ${
    escapeHtml(run.ended_at)
  }</div>
${
    run.failing_rows_path
      ? `<div>failing rows</div><div><code>${escapeHtml(run.failing_rows_path)}</code> (${
        run.failing_rows_count ?? "?"
      } rows, all of them)</div>`
      : ""
  }
</div></section>`);
  parts.push(
    `<section><h2>Quality score</h2><div class="score">${score.overall.toFixed(1)}</div><div class="dims">${
      score.dimensions.map((d) =>
        `<div class="dim">${d.dimension}<b>${
          d.score.toFixed(1)
        }</b><span class="small">${d.passed}/${d.expectations} passed · weight ${d.weight}</span></div>`
      ).join("")
    }</div><p class="formula">${escapeHtml(score.formula)}</p></section>`,
  );
  parts.push(
    `<section><h2>Expectations</h2><table class="results"><colgroup><col class="s"><col class="e"><col class="d"><col class="o"><col class="p"><col></colgroup><thead><tr><th></th><th>expectation</th><th>dimension</th><th>observed</th><th>pass rate</th><th>sample of unexpected values</th></tr></thead><tbody>${
      run.results.map(resultRow).join("\n")
    }</tbody></table></section>`,
  );
  if (input.failingRows?.length) {
    parts.push(
      `<section><h2>Failing rows (first ${input.failingRows.length})</h2>${
        tableHtml(input.failingRows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fmtValue(v)]))))
      }</section>`,
    );
  }
  if (input.history?.length) {
    const charts = [];
    for (const h of input.history) {
      const note = h.verdicts?.filter((v) => !v.skipped).map((v) => `${v.strategy}: ${v.anomaly ? "ANOMALY" : "ok"}`)
        .join(" · ");
      charts.push(
        `<figure>${await historyChart(h)}<figcaption>${escapeHtml(h.metric)}${
          note ? ` — ${escapeHtml(note)}` : ""
        }</figcaption></figure>`,
      );
    }
    parts.push(`<section><h2>Metric history</h2><div class="charts">${charts.join("")}</div></section>`);
  }
  if (input.profile) {
    const charts = [];
    for (const c of input.profile.columns) {
      const svg = await histogramChart(c);
      if (svg) {
        charts.push(
          `<figure>${svg}<figcaption>${escapeHtml(c.name)} · ${c.inferredType}${
            c.semanticType ? ` (${c.semanticType})` : ""
          } · null ${(c.nullShare * 100).toFixed(1)} % · ${
            c.distinctExact ? "" : "~"
          }${c.distinct} distinct</figcaption></figure>`,
        );
      }
    }
    parts.push(`<section><h2>Distributions</h2><div class="charts">${charts.join("")}</div></section>`);
  }
  const title = input.title ?? run.suite_name;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} — data quality</title>
<style>${CSS}</style></head><body><header><h1>${escapeHtml(title)}</h1><div class="sub">data quality report · score ${
    score.overall.toFixed(1)
  } · ${status}</div></header>
<main>${parts.join("\n")}</main></body></html>
`;
}
