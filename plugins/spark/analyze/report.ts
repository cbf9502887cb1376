/**
 * The analyser's outputs: a few lines for a terminal, and a self-contained
 * HTML report (charts are vega-lite rendered to SVG in-process by core's
 * display helpers, so the page needs no network).
 *
 * @module
 */
import { chartSvg, escapeHtml, tableHtml } from "@mercury/core/display";
import type { Analysis } from "./analysis.ts";

const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

/** Terminal lines: time split, top findings with advice, what-if and cost. */
export function summaryLines(a: Analysis, maxFindings = 8): string[] {
  const t = a.totals;
  const lines = [
    `${a.appId} (${a.name}): ${a.jobs} jobs, ${a.stages.length} stages, ${t.tasks} tasks, wall ${
      s1(a.wallMs)
    } on ${a.executors} executors × ${a.coresPerExecutor} cores`,
    `task time ${s1(t.runMs)}: CPU ${s1(t.cpuMs)}, GC ${s1(t.gcMs)}, shuffle fetch wait ${
      s1(t.shuffleFetchWaitMs)
    }, shuffle write ${s1(t.shuffleWriteMs)}, off-CPU (I/O, waits) ${s1(t.otherMs)}; scheduler delay ${
      s1(t.schedulerDelayMs)
    }, (de)serialisation ${s1(t.serdeMs)}`,
    `input ${mb(t.inputBytes)}, shuffle read ${mb(t.shuffleReadBytes)}, shuffle write ${
      mb(t.shuffleWriteBytes)
    }, spill ${mb(t.spillDiskBytes)} disk / ${mb(t.spillMemoryBytes)} memory; ${t.stragglers} stragglers`,
  ];
  if (a.findings.length === 0) lines.push("no heuristic fired");
  for (const f of a.findings.slice(0, maxFindings)) {
    lines.push(
      `[${f.severity}] ${f.heuristic}${
        f.stageId !== undefined ? ` (stage ${f.stageId})` : ""
      }: ${f.detail} → ${f.advice}`,
    );
  }
  lines.push(
    `what-if (sparklens-style, driver time ${s1(a.whatIf.driverMs)} kept): ` +
      a.whatIf.rows.map((r) => `${r.executors} exec ${s1(r.estimatedMs)}`).join(", "),
  );
  lines.push(
    `cost: ${a.cost.coreHours.toFixed(4)} core-h, ${a.cost.gbHours.toFixed(4)} GB-h = ${
      a.cost.money.toFixed(4)
    } ${a.prices.currency} (${a.prices.label}); tasks used ${a.usedCoreHours.toFixed(4)} core-h`,
  );
  return lines;
}

/** The HTML report. */
export async function reportHtml(a: Analysis): Promise<string> {
  const split = a.stages.flatMap((s) =>
    [
      ["CPU", s.cpuMs],
      ["GC", s.gcMs],
      ["shuffle fetch wait", s.shuffleFetchWaitMs],
      ["shuffle write", s.shuffleWriteMs],
      ["off-CPU (I/O, waits)", s.otherMs],
      ["scheduler delay", s.schedulerDelayMs],
    ].map(([part, ms]) => ({ stage: `stage ${s.stageId}`, part, seconds: Number(ms) / 1000 }))
  );
  const splitSvg = await chartSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "Task time per stage, by kind",
    width: 640,
    height: Math.max(120, a.stages.length * 18),
    data: { values: split },
    mark: "bar",
    encoding: {
      y: { field: "stage", type: "nominal", sort: null, title: null },
      x: { field: "seconds", type: "quantitative", aggregate: "sum", title: "seconds (summed over tasks)" },
      color: { field: "part", type: "nominal", title: null },
    },
  });
  const skewSvg = await chartSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "Slowest vs median task per stage",
    width: 640,
    height: 200,
    data: { values: a.stages.map((s) => ({ stage: s.stageId, median: s.medianTaskMs, max: s.maxTaskMs })) },
    transform: [{ fold: ["median", "max"], as: ["which", "ms"] }],
    mark: { type: "point", filled: true, size: 60 },
    encoding: {
      x: { field: "stage", type: "ordinal", title: "stage" },
      y: { field: "ms", type: "quantitative", scale: { type: "symlog" }, title: "task ms" },
      color: { field: "which", type: "nominal", title: null },
    },
  });
  const whatIfSvg = await chartSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "What-if: estimated wall time with N executors",
    width: 640,
    height: 200,
    data: { values: a.whatIf.rows.map((r) => ({ executors: r.executors, seconds: r.estimatedMs / 1000 })) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "executors", type: "quantitative", scale: { type: "log", base: 2 } },
      y: { field: "seconds", type: "quantitative" },
    },
  });
  const findings = a.findings.map((f) => ({
    severity: f.severity,
    heuristic: f.heuristic,
    stage: f.stageId ?? "",
    detail: f.detail,
    advice: f.advice,
  }));
  const stages = a.stages.map((s) => ({
    stage: s.stageId,
    tasks: s.tasks,
    wall_s: +(s.wallMs / 1000).toFixed(2),
    cpu_s: +(s.cpuMs / 1000).toFixed(2),
    gc_s: +(s.gcMs / 1000).toFixed(2),
    shuffle_read_mb: +(s.shuffleReadBytes / 1048576).toFixed(2),
    shuffle_write_mb: +(s.shuffleWriteBytes / 1048576).toFixed(2),
    spill_mb: +(s.spillDiskBytes / 1048576).toFixed(2),
    skew: +s.durationSkew.toFixed(2),
    stragglers: s.stragglers,
    name: s.name.slice(0, 60),
  }));
  return `<!doctype html><html><head><meta charset="utf-8"><title>Spark analysis ${escapeHtml(a.appId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}pre{white-space:pre-wrap}td,th{padding:2px 8px;font-size:13px}
.CRITICAL,.SEVERE{color:#b00020;font-weight:600}.MODERATE{color:#b26a00}</style></head><body>
<h1>Spark analysis: ${escapeHtml(a.appId)}</h1>
<pre>${escapeHtml(summaryLines(a, 0).join("\n"))}</pre>
<h2>Findings</h2>${findings.length ? tableHtml(findings, { maxRows: 50 }) : "<p>No heuristic fired.</p>"}
<h2>Time split</h2>${splitSvg}
<h2>Skew</h2>${skewSvg}
<h2>What-if</h2>${whatIfSvg}
<p>Driver-side time kept in every estimate: ${s1(a.whatIf.driverMs)}. Stages are re-scheduled one after another
(longest task first); parallel stages and shuffle-fetch contention are not modelled.</p>
<h2>Cost</h2><p>${a.cost.coreHours.toFixed(4)} core-hours and ${a.cost.gbHours.toFixed(4)} GB-hours held =
${a.cost.money.toFixed(4)} ${
    escapeHtml(a.prices.currency)
  } at ${a.prices.perCoreHour}/core-h and ${a.prices.perGbHour}/GB-h
(${escapeHtml(a.prices.label)}). Task time used: ${a.usedCoreHours.toFixed(4)} core-hours.</p>
<h2>Stages</h2>${tableHtml(stages, { maxRows: 500 })}
</body></html>`;
}
