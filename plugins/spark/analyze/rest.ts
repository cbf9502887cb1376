/**
 * Reads a Spark application's jobs, stages and tasks from Spark's monitoring
 * REST API (`/api/v1` on the driver's web UI; services.json's `spark.rest`).
 * A filter keeps the jobs of one tag (the Connect client's operation tags
 * become Spark job tags) or of given job ids.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** One task as the analyser uses it (times in ms, bytes). */
export interface TaskRecord {
  stageId: number;
  index: number;
  executorId: string;
  launchMs: number;
  durationMs: number;
  runMs: number;
  cpuMs: number;
  gcMs: number;
  deserializeMs: number;
  serializeMs: number;
  schedulerDelayMs: number;
  gettingResultMs: number;
  shuffleReadBytes: number;
  shuffleFetchWaitMs: number;
  shuffleWriteBytes: number;
  shuffleWriteMs: number;
  inputBytes: number;
  outputBytes: number;
  memorySpillBytes: number;
  diskSpillBytes: number;
  peakMemoryBytes: number;
}

/** One completed stage with its tasks. */
export interface StageRecord {
  stageId: number;
  attemptId: number;
  name: string;
  jobIds: number[];
  submittedMs: number;
  completedMs: number;
  tasks: TaskRecord[];
}

/** What the analyser reads. */
export interface AppRecord {
  appId: string;
  name: string;
  /** Executors (not the driver): cores and memory each. */
  executors: { id: string; cores: number; maxMemoryBytes: number }[];
  executorMemoryMb: number;
  jobs: { jobId: number; submittedMs: number; completedMs: number; tags: string[]; status: string }[];
  stages: StageRecord[];
}

/** Which jobs to read. */
export interface AppFilter {
  /** Keep jobs whose tags contain this string. */
  tag?: string;
  /** Keep these job ids. */
  jobIds?: number[];
  /** Keep jobs submitted at or after this time (epoch ms). */
  sinceMs?: number;
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function get(rest: string, path: string): Promise<Json> {
  let r: Response;
  try {
    r = await fetch(`${rest}${path}`, { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new MercuryError("unavailable", `Spark's REST API at ${rest} is not answering: ${(err as Error).message}`, {
      where: rest,
      hint: "start the cluster with `deno task services up spark`, or pass --rest http://driver:4040/api/v1",
      cause: err,
    });
  }
  if (r.status === 404) {
    await r.body?.cancel();
    throw new MercuryError("not_found", `Spark's REST API has no ${path}`, {
      where: `${rest}${path}`,
      hint: "list applications with `deno task mercury spark analyze --list`",
    });
  }
  if (!r.ok) {
    const text = await r.text();
    throw new MercuryError("unavailable", `Spark's REST API answered ${r.status} for ${path}: ${text.slice(0, 200)}`, {
      where: `${rest}${path}`,
    });
  }
  return await r.json();
}

const ms = (s: string | undefined): number => (s ? Date.parse(s.replace("GMT", "Z")) : NaN);

/** Application ids the REST API knows. */
export async function listApplications(rest: string): Promise<{ id: string; name: string }[]> {
  return (await get(rest, "/applications")).map((a: Json) => ({ id: a.id, name: a.name }));
}

/** Reads an application's jobs, completed stages and their tasks. */
export async function fetchApplication(rest: string, appId: string, filter: AppFilter = {}): Promise<AppRecord> {
  if (!/^[A-Za-z0-9_.-]+$/.test(appId)) {
    throw new MercuryError("usage", `"${appId}" is not a Spark application id`, {
      where: "--job-id",
      hint: "an id looks like app-20261203134800-0000",
    });
  }
  const base = `/applications/${appId}`;
  const app = await get(rest, base);
  const allJobs: Json[] = await get(rest, `${base}/jobs`);
  const jobs = allJobs.filter((j) =>
    (filter.tag === undefined || (j.jobTags ?? []).some((t: string) => t.includes(filter.tag!))) &&
    (filter.jobIds === undefined || filter.jobIds.includes(j.jobId)) &&
    (filter.sinceMs === undefined || ms(j.submissionTime) >= filter.sinceMs)
  );
  const stageJobs = new Map<number, number[]>();
  for (const j of jobs) for (const s of j.stageIds) stageJobs.set(s, [...(stageJobs.get(s) ?? []), j.jobId]);
  const stageList: Json[] = await get(rest, `${base}/stages?status=complete`);
  const stages: StageRecord[] = [];
  for (const s of stageList) {
    if (!stageJobs.has(s.stageId)) continue;
    const tasks: Json[] = await get(rest, `${base}/stages/${s.stageId}/${s.attemptId}/taskList?length=100000`);
    stages.push({
      stageId: s.stageId,
      attemptId: s.attemptId,
      name: String(s.name ?? ""),
      jobIds: stageJobs.get(s.stageId) ?? [],
      submittedMs: ms(s.submissionTime),
      completedMs: ms(s.completionTime),
      tasks: tasks.filter((t) => t.status === "SUCCESS").map((t) => toTask(s.stageId, t)),
    });
  }
  stages.sort((a, b) => a.submittedMs - b.submittedMs);
  const executors: Json[] = await get(rest, `${base}/allexecutors`);
  const env: Json = await get(rest, `${base}/environment`).catch(() => ({}));
  const props: [string, string][] = env.sparkProperties ?? [];
  const memProp = props.find(([k]) => k === "spark.executor.memory")?.[1] ?? "1g";
  return {
    appId,
    name: app.name,
    executors: executors.filter((e) => e.id !== "driver").map((e) => ({
      id: e.id,
      cores: e.totalCores,
      maxMemoryBytes: e.maxMemory,
    })),
    executorMemoryMb: parseMemoryMb(memProp),
    jobs: jobs.map((j) => ({
      jobId: j.jobId,
      submittedMs: ms(j.submissionTime),
      completedMs: ms(j.completionTime),
      tags: j.jobTags ?? [],
      status: j.status,
    })),
    stages,
  };
}

/** Sums over an application's completed stages, from the stage list alone (no task lists): cheap to take often. */
export interface StageTotals {
  stages: number;
  /** Executor run time of all tasks (ms of one core each). */
  executorRunMs: number;
  executorCpuMs: number;
  inputBytes: number;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  diskSpillBytes: number;
}

/**
 * {@linkcode StageTotals} of `appId`'s completed stages whose ids are not in `seen` (filled as it goes), so two calls
 * around a workload give the workload's own totals.
 *
 * @example
 * ```ts ignore
 * const seen = new Set<string>();
 * await stageTotals(rest, app, seen); // what ran before
 * await runWorkload();
 * const w = await stageTotals(rest, app, seen); // only the workload's stages
 * ```
 */
export async function stageTotals(rest: string, appId: string, seen: Set<string> = new Set()): Promise<StageTotals> {
  const t: StageTotals = {
    stages: 0,
    executorRunMs: 0,
    executorCpuMs: 0,
    inputBytes: 0,
    shuffleReadBytes: 0,
    shuffleWriteBytes: 0,
    diskSpillBytes: 0,
  };
  for (const s of (await get(rest, `/applications/${appId}/stages?status=complete`)) as Json[]) {
    const id = `${s.stageId}.${s.attemptId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    t.stages++;
    t.executorRunMs += Number(s.executorRunTime ?? 0);
    t.executorCpuMs += Number(s.executorCpuTime ?? 0) / 1e6;
    t.inputBytes += Number(s.inputBytes ?? 0);
    t.shuffleReadBytes += Number(s.shuffleReadBytes ?? 0);
    t.shuffleWriteBytes += Number(s.shuffleWriteBytes ?? 0);
    t.diskSpillBytes += Number(s.diskBytesSpilled ?? 0);
  }
  return t;
}

/** `"1g"` → 1024, `"1536m"` → 1536. */
export function parseMemoryMb(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(s.trim());
  if (!m) return 1024;
  const n = Number(m[1]);
  const unit = (m[2] ?? "").toLowerCase();
  return unit === "g"
    ? n * 1024
    : unit === "t"
    ? n * 1024 * 1024
    : unit === "k"
    ? n / 1024
    : unit === ""
    ? n / 1048576
    : n;
}

function toTask(stageId: number, t: Json): TaskRecord {
  const m = t.taskMetrics ?? {};
  const sr = m.shuffleReadMetrics ?? {};
  const sw = m.shuffleWriteMetrics ?? {};
  return {
    stageId,
    index: t.index,
    executorId: String(t.executorId),
    launchMs: ms(t.launchTime),
    durationMs: t.duration ?? 0,
    runMs: m.executorRunTime ?? 0,
    cpuMs: (m.executorCpuTime ?? 0) / 1e6,
    gcMs: m.jvmGcTime ?? 0,
    deserializeMs: m.executorDeserializeTime ?? 0,
    serializeMs: m.resultSerializationTime ?? 0,
    schedulerDelayMs: t.schedulerDelay ?? 0,
    gettingResultMs: t.gettingResultTime ?? 0,
    shuffleReadBytes: (sr.remoteBytesRead ?? 0) + (sr.localBytesRead ?? 0),
    shuffleFetchWaitMs: sr.fetchWaitTime ?? 0,
    shuffleWriteBytes: sw.bytesWritten ?? 0,
    shuffleWriteMs: (sw.writeTime ?? 0) / 1e6,
    inputBytes: m.inputMetrics?.bytesRead ?? 0,
    outputBytes: m.outputMetrics?.bytesWritten ?? 0,
    memorySpillBytes: m.memoryBytesSpilled ?? 0,
    diskSpillBytes: m.diskBytesSpilled ?? 0,
    peakMemoryBytes: m.peakExecutionMemory ?? 0,
  };
}
