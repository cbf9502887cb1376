/**
 * Reads a Spark application from its event log (the JSON-lines file Spark
 * writes with `spark.eventLog.enabled`; Mercury's cluster writes them to
 * `.mercury/spark/events/`) into the same {@linkcode AppRecord} the REST
 * path builds, so an application that is no longer live gets the same
 * heuristics, what-if, cost and report.
 *
 * Spark 4 writes rolling logs by default: a folder `eventlog_v2_<appId>/`
 * holding `events_<n>_<appId>[.zstd]` parts (read in order) and an
 * `appstatus_…` marker; single-file logs (`<appId>[.zstd][.inprogress]`) are
 * read too. zstd parts are split into the frames Spark flushes and decoded
 * frame by frame with `node:zlib` (`_zstd_frames.ts`), a frame at a time, so
 * a long application's log (hundreds of MB of JSON) is never held whole;
 * events the analyser does not read (SQL plans, Connect operations: most of
 * the bytes) are skipped without parsing. A log still being written may end
 * inside a frame or a line: what was complete up to there is used.
 *
 * The mapping follows what the REST API serves: successful tasks only, task
 * duration = finish − launch, scheduler delay = duration − run −
 * deserialise − serialise − getting-result (Spark's `AppStatusUtils`),
 * completed stage attempts only, and job tags from the job's
 * `spark.job.tags` property.
 *
 * @example
 * ```ts
 * import { parseEventLines } from "@mercury/spark/analyze";
 * import assert from "node:assert/strict";
 *
 * const lines = [
 *   { Event: "SparkListenerApplicationStart", "App Name": "demo", "App ID": "app-1" },
 *   { Event: "SparkListenerJobStart", "Job ID": 0, "Submission Time": 1000, "Stage IDs": [0], Properties: {} },
 *   { Event: "SparkListenerJobEnd", "Job ID": 0, "Completion Time": 3000, "Job Result": { Result: "JobSucceeded" } },
 * ].map((e) => JSON.stringify(e));
 * const app = parseEventLines(lines, "demo.log");
 * assert.equal(app.appId, "app-1");
 * assert.deepEqual(app.jobs.map((j) => [j.jobId, j.status]), [[0, "SUCCEEDED"]]);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { zstdDecodeFrames } from "./_zstd_frames.ts";
import { type AppFilter, type AppRecord, parseMemoryMb, type StageRecord, type TaskRecord } from "./rest.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** One event log found in a folder. */
export interface EventLogEntry {
  appId: string;
  /** The file or rolling-log folder. */
  path: string;
  /** Whether Spark still marks it in progress (a live or killed application). */
  inProgress: boolean;
}

const APP_ID = /(app-\d{14}-\d{4,}|local-\d+|application_\d+_\d+)/;

/** The event logs in `dir` (rolling folders and single files), newest application first. */
export function listEventLogs(dir: string): EventLogEntry[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: EventLogEntry[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name.endsWith(".crc")) continue;
    const id = APP_ID.exec(e.name)?.[1];
    if (!id) continue;
    const path = `${dir}/${e.name}`;
    const inProgress = e.isDirectory
      ? [...Deno.readDirSync(path)].some((f) => f.name.startsWith("appstatus_") && f.name.endsWith(".inprogress"))
      : e.name.endsWith(".inprogress");
    out.push({ appId: id, path, inProgress });
  }
  return out.sort((a, b) => b.appId.localeCompare(a.appId));
}

/** The event log of `appId` in `dir`, or `undefined`. */
export function findEventLog(dir: string, appId: string): string | undefined {
  return listEventLogs(dir).find((e) => e.appId === appId)?.path;
}

/** The files of one log, in order: the parts of a rolling folder by number, or the file itself. */
function logFiles(path: string): string[] {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (err) {
    throw new MercuryError("not_found", `no event log at ${path}`, {
      where: "--event-log",
      hint: "event logs are in .mercury/spark/events/ (list them with `spark analyze --list`)",
      cause: err,
    });
  }
  if (!info.isDirectory) return [path];
  const parts = [...Deno.readDirSync(path)]
    .map((f) => ({ name: f.name, n: Number(/^events_(\d+)_/.exec(f.name)?.[1]) }))
    .filter((f) => Number.isInteger(f.n))
    .sort((a, b) => a.n - b.n);
  if (parts.length === 0) {
    throw new MercuryError("input", `${path} holds no events_<n>_… part`, {
      where: path,
      hint: "pass a Spark event log file or an eventlog_v2_… folder",
    });
  }
  return parts.map((p) => `${path}/${p.name}`);
}

const CHUNK = 1 << 20;

/**
 * The lines of one part, decoded a frame (zstd) or a megabyte (plain) at a
 * time. lz4/snappy are refused. A trailing partial line is yielded only when
 * `keepTail` (a finished part ends with a newline; one still being written
 * may not).
 */
function* partLines(file: string, keepTail: boolean): Generator<string> {
  const bytes = Deno.readFileSync(file);
  const name = file.replace(/\.inprogress$/, "");
  if (/\.(lz4|lzf|snappy)$/.test(name)) {
    throw new MercuryError("input", `${file}: this codec is not supported (zstd and uncompressed logs are)`, {
      where: file,
      hint: "set spark.eventLog.compression.codec=zstd (Spark's default) or spark.eventLog.compress=false",
    });
  }
  const zstd = name.endsWith(".zstd") ||
    (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd);
  function* plain(): Generator<Uint8Array> {
    for (let off = 0; off < bytes.length; off += CHUNK) yield bytes.subarray(off, off + CHUNK);
  }
  const text = new TextDecoder();
  let rest = "";
  try {
    for (const chunk of zstd ? zstdDecodeFrames(bytes) : plain()) {
      rest += text.decode(chunk, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      yield* lines;
    }
  } catch (err) {
    if (err instanceof MercuryError) throw err;
    throw new MercuryError("input", `${file} is not a readable zstd event log: ${(err as Error).message}`, {
      where: file,
      cause: err,
    });
  }
  rest += text.decode();
  if (keepTail && rest !== "") yield rest;
}

/** Reads an event log (a file or a rolling-log folder) into an {@linkcode AppRecord}, filtered as the REST path is. */
export function readEventLog(path: string, filter: AppFilter = {}): AppRecord {
  const files = logFiles(path);
  function* all(): Generator<string> {
    for (const [i, f] of files.entries()) yield* partLines(f, i < files.length - 1);
  }
  return parseEventLines(all(), path, filter);
}

/** The events the analyser reads; the others (SQL plans, Connect operations: most of the bytes) are not parsed. */
const WANTED = new Set([
  "SparkListenerApplicationStart",
  "SparkListenerEnvironmentUpdate",
  "SparkListenerExecutorAdded",
  "SparkListenerBlockManagerAdded",
  "SparkListenerJobStart",
  "SparkListenerJobEnd",
  "SparkListenerTaskEnd",
  "SparkListenerStageCompleted",
]);
const EVENT_PREFIX = '{"Event":"';

const tagsOf = (props: Json): string[] =>
  String(props?.["spark.job.tags"] ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);

/** Builds an {@linkcode AppRecord} from event-log lines (JSON objects, one a line). */
export function parseEventLines(lines: Iterable<string>, where: string, filter: AppFilter = {}): AppRecord {
  let appId = "";
  let name = "";
  let executorMemoryMb = 1024;
  const executors = new Map<string, { id: string; cores: number; maxMemoryBytes: number }>();
  const memory = new Map<string, number>();
  const jobs = new Map<number, AppRecord["jobs"][number] & { stageIds: number[] }>();
  const stageNames = new Map<number, string>();
  const tasks = new Map<string, TaskRecord[]>();
  const completed: { stageId: number; attemptId: number; name: string; submittedMs: number; completedMs: number }[] =
    [];
  let n = 0;
  for (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    // Spark writes the event's name first: skip the events not read without parsing them.
    const kind = line.startsWith(EVENT_PREFIX) ? line.slice(EVENT_PREFIX.length, line.indexOf('"', 10)) : undefined;
    if (kind !== undefined && !WANTED.has(kind)) continue;
    let e: Json;
    try {
      e = JSON.parse(line);
      if (kind === undefined) throw new SyntaxError('not an object starting with its "Event"');
    } catch (err) {
      throw new MercuryError("input", `${where}:${n} is not a JSON event: ${(err as Error).message}`, {
        where: `${where}:${n}`,
        hint: "pass a Spark event log (spark.eventLog.dir)",
        cause: err,
      });
    }
    switch (e.Event) {
      case "SparkListenerApplicationStart":
        appId = String(e["App ID"] ?? appId);
        name = String(e["App Name"] ?? "");
        break;
      case "SparkListenerEnvironmentUpdate": {
        const props = e["Spark Properties"];
        const entries: [string, string][] = Array.isArray(props) ? props : Object.entries(props ?? {});
        const mem = entries.find(([k]) => k === "spark.executor.memory")?.[1];
        if (mem) executorMemoryMb = parseMemoryMb(mem);
        break;
      }
      case "SparkListenerExecutorAdded": {
        const id = String(e["Executor ID"]);
        executors.set(id, {
          id,
          cores: Number(e["Executor Info"]?.["Total Cores"] ?? 1),
          maxMemoryBytes: memory.get(id) ?? 0,
        });
        break;
      }
      case "SparkListenerBlockManagerAdded": {
        const id = String(e["Block Manager ID"]?.["Executor ID"]);
        const max = Number(e["Maximum Memory"] ?? 0);
        memory.set(id, max);
        const ex = executors.get(id);
        if (ex) ex.maxMemoryBytes = max;
        break;
      }
      case "SparkListenerJobStart": {
        const jobId = Number(e["Job ID"]);
        for (const s of e["Stage Infos"] ?? []) stageNames.set(Number(s["Stage ID"]), String(s["Stage Name"] ?? ""));
        jobs.set(jobId, {
          jobId,
          submittedMs: Number(e["Submission Time"] ?? NaN),
          completedMs: NaN,
          tags: tagsOf(e.Properties),
          status: "RUNNING",
          stageIds: (e["Stage IDs"] ?? []).map(Number),
        });
        break;
      }
      case "SparkListenerJobEnd": {
        const j = jobs.get(Number(e["Job ID"]));
        if (j) {
          j.completedMs = Number(e["Completion Time"] ?? NaN);
          j.status = e["Job Result"]?.Result === "JobSucceeded" ? "SUCCEEDED" : "FAILED";
        }
        break;
      }
      case "SparkListenerTaskEnd": {
        const info = e["Task Info"] ?? {};
        if (e["Task End Reason"]?.Reason !== "Success" || info.Failed || info.Killed) break;
        const key = `${e["Stage ID"]}/${e["Stage Attempt ID"]}`;
        const list = tasks.get(key) ?? [];
        list.push(toTask(Number(e["Stage ID"]), info, e["Task Metrics"] ?? {}));
        tasks.set(key, list);
        break;
      }
      case "SparkListenerStageCompleted": {
        const s = e["Stage Info"] ?? {};
        if (s["Failure Reason"] !== undefined) break;
        completed.push({
          stageId: Number(s["Stage ID"]),
          attemptId: Number(s["Stage Attempt ID"] ?? 0),
          name: String(s["Stage Name"] ?? stageNames.get(Number(s["Stage ID"])) ?? ""),
          submittedMs: Number(s["Submission Time"] ?? NaN),
          completedMs: Number(s["Completion Time"] ?? NaN),
        });
        break;
      }
    }
  }
  if (!appId) {
    throw new MercuryError("input", `${where} has no SparkListenerApplicationStart event`, {
      where,
      hint: "pass a Spark event log (spark.eventLog.dir), not another JSON-lines file",
    });
  }
  const kept = [...jobs.values()].filter((j) =>
    (filter.tag === undefined || j.tags.some((t) => t.includes(filter.tag!))) &&
    (filter.jobIds === undefined || filter.jobIds.includes(j.jobId)) &&
    (filter.sinceMs === undefined || j.submittedMs >= filter.sinceMs)
  ).sort((a, b) => b.jobId - a.jobId);
  const stageJobs = new Map<number, number[]>();
  for (const j of kept) for (const s of j.stageIds) stageJobs.set(s, [...(stageJobs.get(s) ?? []), j.jobId]);
  const stages: StageRecord[] = completed.filter((s) => stageJobs.has(s.stageId)).map((s) => ({
    ...s,
    jobIds: stageJobs.get(s.stageId) ?? [],
    tasks: tasks.get(`${s.stageId}/${s.attemptId}`) ?? [],
  }));
  stages.sort((a, b) => a.submittedMs - b.submittedMs);
  return {
    appId,
    name,
    executors: [...executors.values()].filter((e) => e.id !== "driver"),
    executorMemoryMb,
    jobs: kept.map(({ stageIds: _, ...j }) => j),
    stages,
  };
}

function toTask(stageId: number, info: Json, m: Json): TaskRecord {
  const launch = Number(info["Launch Time"] ?? 0);
  const finish = Number(info["Finish Time"] ?? launch);
  const duration = Math.max(0, finish - launch);
  const fetchStart = Number(info["Getting Result Time"] ?? 0);
  const gettingResultMs = fetchStart > 0 ? Math.max(0, finish - fetchStart) : 0;
  const runMs = Number(m["Executor Run Time"] ?? 0);
  const deserializeMs = Number(m["Executor Deserialize Time"] ?? 0);
  const serializeMs = Number(m["Result Serialization Time"] ?? 0);
  const sr = m["Shuffle Read Metrics"] ?? {};
  const sw = m["Shuffle Write Metrics"] ?? {};
  return {
    stageId,
    index: Number(info.Index ?? 0),
    executorId: String(info["Executor ID"]),
    launchMs: launch,
    durationMs: duration,
    runMs,
    cpuMs: Number(m["Executor CPU Time"] ?? 0) / 1e6,
    gcMs: Number(m["JVM GC Time"] ?? 0),
    deserializeMs,
    serializeMs,
    schedulerDelayMs: Math.max(0, duration - runMs - deserializeMs - serializeMs - gettingResultMs),
    gettingResultMs,
    shuffleReadBytes: Number(sr["Remote Bytes Read"] ?? 0) + Number(sr["Local Bytes Read"] ?? 0),
    shuffleFetchWaitMs: Number(sr["Fetch Wait Time"] ?? 0),
    shuffleWriteBytes: Number(sw["Shuffle Bytes Written"] ?? 0),
    shuffleWriteMs: Number(sw["Shuffle Write Time"] ?? 0) / 1e6,
    inputBytes: Number(m["Input Metrics"]?.["Bytes Read"] ?? 0),
    outputBytes: Number(m["Output Metrics"]?.["Bytes Written"] ?? 0),
    memorySpillBytes: Number(m["Memory Bytes Spilled"] ?? 0),
    diskSpillBytes: Number(m["Disk Bytes Spilled"] ?? 0),
    peakMemoryBytes: Number(m["Peak Execution Memory"] ?? 0),
  };
}
