/**
 * The analyser's arithmetic, on records read from Spark's REST API (pure
 * functions, so they are tested on hand-made stages too): per-stage time
 * split (CPU, GC, shuffle read wait, shuffle write, scheduler delay,
 * (de)serialisation), skew and stragglers, Dr. Elephant-style heuristics with
 * severities and advice, a sparklens-style what-if (the stages' tasks
 * re-scheduled on N executors), and cost in core-hours, GB-hours and money.
 *
 * @example
 * ```ts
 * import { makespan, severityOf } from "@mercury/spark/analyze";
 * import assert from "node:assert/strict";
 *
 * assert.equal(makespan([4, 3, 3, 2], 2), 6);
 * assert.equal(severityOf(9, [2, 4, 8, 16]), "SEVERE");
 * ```
 *
 * @module
 */
import type { AppRecord, StageRecord, TaskRecord } from "./rest.ts";

/** Dr. Elephant's severities. */
export type Severity = "NONE" | "LOW" | "MODERATE" | "SEVERE" | "CRITICAL";

/** The severity of `value` against ascending thresholds (LOW, MODERATE, SEVERE, CRITICAL). */
export function severityOf(value: number, thresholds: [number, number, number, number]): Severity {
  if (value >= thresholds[3]) return "CRITICAL";
  if (value >= thresholds[2]) return "SEVERE";
  if (value >= thresholds[1]) return "MODERATE";
  if (value >= thresholds[0]) return "LOW";
  return "NONE";
}

const RANK: Record<Severity, number> = { NONE: 0, LOW: 1, MODERATE: 2, SEVERE: 3, CRITICAL: 4 };

/** Per-stage summary. */
export interface StageSummary {
  stageId: number;
  name: string;
  tasks: number;
  wallMs: number;
  /** Summed over tasks, ms. */
  runMs: number;
  cpuMs: number;
  gcMs: number;
  shuffleFetchWaitMs: number;
  shuffleWriteMs: number;
  schedulerDelayMs: number;
  serdeMs: number;
  /** Run time not in CPU, shuffle fetch wait or shuffle write: I/O and other waits. */
  otherMs: number;
  inputBytes: number;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  spillMemoryBytes: number;
  spillDiskBytes: number;
  medianTaskMs: number;
  maxTaskMs: number;
  /** max / median task duration. */
  durationSkew: number;
  /** max / median shuffle read bytes (1 without a shuffle read). */
  dataSkew: number;
  stragglers: number;
}

/** One finding. */
export interface Finding {
  heuristic: string;
  severity: Severity;
  stageId?: number;
  detail: string;
  advice: string;
}

/** The median of numbers (0 for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sum = (ts: TaskRecord[], f: (t: TaskRecord) => number): number => ts.reduce((s, t) => s + f(t), 0);

/** A straggler: over twice the stage's median task time and at least 500 ms over it. */
export function isStraggler(t: TaskRecord, medianMs: number): boolean {
  return t.durationMs > 2 * medianMs && t.durationMs - medianMs >= 500;
}

/** Summarises one stage. */
export function summarizeStage(s: StageRecord): StageSummary {
  const ts = s.tasks;
  const durations = ts.map((t) => t.durationMs);
  const med = median(durations);
  const max = Math.max(0, ...durations);
  const reads = ts.map((t) => t.shuffleReadBytes);
  const medRead = median(reads);
  const maxRead = Math.max(0, ...reads);
  const runMs = sum(ts, (t) => t.runMs);
  const cpuMs = sum(ts, (t) => t.cpuMs);
  const fetch = sum(ts, (t) => t.shuffleFetchWaitMs);
  const write = sum(ts, (t) => t.shuffleWriteMs);
  return {
    stageId: s.stageId,
    name: s.name,
    tasks: ts.length,
    wallMs: Math.max(0, s.completedMs - s.submittedMs),
    runMs,
    cpuMs,
    gcMs: sum(ts, (t) => t.gcMs),
    shuffleFetchWaitMs: fetch,
    shuffleWriteMs: write,
    schedulerDelayMs: sum(ts, (t) => t.schedulerDelayMs),
    serdeMs: sum(ts, (t) => t.deserializeMs + t.serializeMs),
    otherMs: Math.max(0, runMs - cpuMs - fetch - write),
    inputBytes: sum(ts, (t) => t.inputBytes),
    shuffleReadBytes: sum(ts, (t) => t.shuffleReadBytes),
    shuffleWriteBytes: sum(ts, (t) => t.shuffleWriteBytes),
    spillMemoryBytes: sum(ts, (t) => t.memorySpillBytes),
    spillDiskBytes: sum(ts, (t) => t.diskSpillBytes),
    medianTaskMs: med,
    maxTaskMs: max,
    durationSkew: med > 0 ? max / med : 1,
    dataSkew: medRead > 0 ? maxRead / medRead : maxRead > 0 ? Infinity : 1,
    stragglers: ts.filter((t) => isStraggler(t, med)).length,
  };
}

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

/** Dr. Elephant-style heuristics over the stages; the worst first. */
export function heuristics(stages: StageSummary[], app: { executorMemoryMb: number }): Finding[] {
  const out: Finding[] = [];
  for (const s of stages) {
    if (s.tasks >= 2 && s.maxTaskMs >= 1000) {
      const sev = severityOf(s.durationSkew, [2, 4, 8, 16]);
      if (sev !== "NONE") {
        out.push({
          heuristic: "task time skew",
          severity: sev,
          stageId: s.stageId,
          detail: `slowest task ${s.maxTaskMs} ms vs median ${s.medianTaskMs} ms (×${s.durationSkew.toFixed(1)})`,
          advice: s.dataSkew >= 2
            ? "a skewed key: enable AQE skew-join splitting (spark.sql.adaptive.skewJoin.enabled) or salt the key"
            : "uneven work per task: repartition the input, or look for one slow executor",
        });
      }
    }
    if (s.tasks >= 2 && s.shuffleReadBytes > 8 * 1048576) {
      const sev = severityOf(s.dataSkew, [2, 4, 8, 16]);
      if (sev !== "NONE") {
        out.push({
          heuristic: "shuffle data skew",
          severity: sev,
          stageId: s.stageId,
          detail: `largest task reads ×${
            Number.isFinite(s.dataSkew) ? s.dataSkew.toFixed(1) : "∞"
          } the median shuffle bytes (${mb(s.shuffleReadBytes)} in all)`,
          advice: "salt the hot key (key || '#' || rand bucket, aggregate twice) or let AQE split skewed partitions",
        });
      }
    }
    if (s.runMs >= 2000) {
      const ratio = s.gcMs / s.runMs;
      const sev = severityOf(ratio, [0.05, 0.1, 0.2, 0.4]);
      if (sev !== "NONE") {
        out.push({
          heuristic: "garbage collection",
          severity: sev,
          stageId: s.stageId,
          detail: `${(ratio * 100).toFixed(0)} % of task run time in GC`,
          advice: `give executors more memory (now ${app.executorMemoryMb} MB) or fewer cores each, cache less`,
        });
      }
    }
    if (s.spillDiskBytes > 0) {
      const base = Math.max(1, s.shuffleReadBytes + s.inputBytes);
      const sev = severityOf(s.spillDiskBytes / base, [0.01, 0.1, 0.5, 1]);
      out.push({
        heuristic: "spill",
        severity: sev === "NONE" ? "LOW" : sev,
        stageId: s.stageId,
        detail: `${mb(s.spillDiskBytes)} spilled to disk (${mb(s.spillMemoryBytes)} in memory form)`,
        advice: "raise spark.sql.shuffle.partitions (smaller partitions) or executor memory",
      });
    }
    const taskTime = s.runMs + s.schedulerDelayMs;
    if (s.tasks >= 4 && taskTime > 1000) {
      const ratio = s.schedulerDelayMs / taskTime;
      const sev = severityOf(ratio, [0.1, 0.2, 0.4, 0.6]);
      if (sev !== "NONE") {
        out.push({
          heuristic: "scheduler delay",
          severity: sev,
          stageId: s.stageId,
          detail: `${(ratio * 100).toFixed(0)} % of task time waiting to be scheduled or shipped`,
          advice: "fewer, larger tasks (coalesce, fewer shuffle partitions); keep task closures small",
        });
      }
    }
    if (s.tasks >= 50 && s.medianTaskMs < 100) {
      out.push({
        heuristic: "many small tasks",
        severity: s.tasks >= 400 ? "SEVERE" : s.tasks >= 200 ? "MODERATE" : "LOW",
        stageId: s.stageId,
        detail: `${s.tasks} tasks with a median of ${s.medianTaskMs} ms`,
        advice: "lower spark.sql.shuffle.partitions or keep AQE coalescing on (spark.sql.adaptive.coalescePartitions)",
      });
    }
    if (s.stragglers > 0 && s.tasks >= 4) {
      out.push({
        heuristic: "stragglers",
        severity: s.stragglers / s.tasks > 0.1 ? "MODERATE" : "LOW",
        stageId: s.stageId,
        detail: `${s.stragglers} of ${s.tasks} tasks over twice the median time`,
        advice: "enable speculation (spark.speculation) if stragglers are random; find the skew if they are not",
      });
    }
  }
  return out.sort((a, b) => RANK[b.severity] - RANK[a.severity]);
}

/** Longest-processing-time-first schedule of `durations` on `slots`: the makespan. */
export function makespan(durations: number[], slots: number): number {
  if (slots < 1) throw new RangeError(`Cannot schedule on ${slots} slots`);
  const loads = new Array<number>(Math.min(slots, Math.max(1, durations.length))).fill(0);
  for (const d of [...durations].sort((a, b) => b - a)) {
    let k = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i]! < loads[k]!) k = i;
    loads[k]! += d;
  }
  return Math.max(0, ...loads);
}

/** One what-if row. */
export interface WhatIf {
  executors: number;
  estimatedMs: number;
  /** Stage time only (the driver's part stays). */
  stageMs: number;
}

/**
 * Sparklens-style what-if: each stage's tasks re-scheduled (LPT) on
 * `executors × coresPerExecutor` slots, stages one after another, plus the
 * driver-side time measured between stages (which more executors do not shorten).
 */
export function whatIf(
  stages: StageRecord[],
  wallMs: number,
  coresPerExecutor: number,
  counts: number[],
): { driverMs: number; rows: WhatIf[] } {
  const union = unionMs(stages.map((s) => [s.submittedMs, s.completedMs] as [number, number]));
  const driverMs = Math.max(0, wallMs - union);
  const rows = counts.map((n) => {
    const stageMs = stages.reduce(
      (acc, s) => acc + makespan(s.tasks.map((t) => t.durationMs), n * coresPerExecutor),
      0,
    );
    return { executors: n, stageMs, estimatedMs: driverMs + stageMs };
  });
  return { driverMs, rows };
}

function unionMs(intervals: [number, number][]): number {
  const s = intervals.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cur: [number, number] | undefined;
  for (const [a, b] of s) {
    if (!cur || a > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    } else cur[1] = Math.max(cur[1], b);
  }
  if (cur) total += cur[1] - cur[0];
  return total;
}

/** A price table (currency per core-hour and per GB-hour). */
export interface Prices {
  label: string;
  currency: string;
  perCoreHour: number;
  perGbHour: number;
}

/**
 * The default price table: on-demand Linux rates in the shape of a cloud's
 * general-purpose instances (USD 0.0405 per vCPU-hour, USD 0.0044 per GB-hour),
 * an example, not a quote: pass your own with `--price-core` / `--price-gb`.
 */
export const DEFAULT_PRICES: Prices = {
  label: "example on-demand rates (edit with --price-core / --price-gb)",
  currency: "USD",
  perCoreHour: 0.0405,
  perGbHour: 0.0044,
};

/** Cost of holding `executors` executors for `wallMs`. */
export function cost(
  wallMs: number,
  executors: number,
  coresPerExecutor: number,
  memoryMbPerExecutor: number,
  prices: Prices = DEFAULT_PRICES,
): { coreHours: number; gbHours: number; money: number; taskCoreHours?: number } {
  const hours = wallMs / 3_600_000;
  const coreHours = hours * executors * coresPerExecutor;
  const gbHours = hours * executors * memoryMbPerExecutor / 1024;
  return { coreHours, gbHours, money: coreHours * prices.perCoreHour + gbHours * prices.perGbHour };
}

/** The whole analysis of an application (or the filtered part of it). */
export interface Analysis {
  appId: string;
  name: string;
  jobs: number;
  wallMs: number;
  executors: number;
  coresPerExecutor: number;
  executorMemoryMb: number;
  stages: StageSummary[];
  totals: Omit<StageSummary, "stageId" | "name" | "medianTaskMs" | "maxTaskMs" | "durationSkew" | "dataSkew">;
  findings: Finding[];
  whatIf: { driverMs: number; rows: WhatIf[] };
  cost: ReturnType<typeof cost>;
  /** Task time actually used: Σ task durations, in core-hours (what a perfectly packed cluster would bill). */
  usedCoreHours: number;
  prices: Prices;
}

/** Analyses an application record. */
export function analyze(app: AppRecord, prices: Prices = DEFAULT_PRICES, counts = [1, 2, 4, 8, 16, 32]): Analysis {
  const stages = app.stages.map(summarizeStage);
  const wallMs = app.jobs.length
    ? Math.max(...app.jobs.map((j) => j.completedMs).filter(Number.isFinite)) -
      Math.min(...app.jobs.map((j) => j.submittedMs))
    : 0;
  const executors = Math.max(1, app.executors.length);
  const coresPerExecutor = Math.max(1, app.executors[0]?.cores ?? 1);
  const keys = [
    "tasks",
    "wallMs",
    "runMs",
    "cpuMs",
    "gcMs",
    "shuffleFetchWaitMs",
    "shuffleWriteMs",
    "schedulerDelayMs",
    "serdeMs",
    "otherMs",
    "inputBytes",
    "shuffleReadBytes",
    "shuffleWriteBytes",
    "spillMemoryBytes",
    "spillDiskBytes",
    "stragglers",
  ] as const;
  const totals = Object.fromEntries(keys.map((k) => [k, stages.reduce((s, x) => s + x[k], 0)])) as Analysis["totals"];
  const usedMs = app.stages.reduce((s, st) => s + st.tasks.reduce((a, t) => a + t.durationMs, 0), 0);
  return {
    appId: app.appId,
    name: app.name,
    jobs: app.jobs.length,
    wallMs,
    executors,
    coresPerExecutor,
    executorMemoryMb: app.executorMemoryMb,
    stages,
    totals,
    findings: heuristics(stages, app),
    whatIf: whatIf(app.stages, wallMs, coresPerExecutor, counts),
    cost: cost(wallMs, executors, coresPerExecutor, app.executorMemoryMb, prices),
    usedCoreHours: usedMs / 3_600_000,
    prices,
  };
}
