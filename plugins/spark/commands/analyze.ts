/**
 * `spark analyze` (the seed's `analyze_performance.py`): a running or finished
 * application's stages and tasks from Spark's REST API, or from its event log
 * when the application is no longer live (or with `--event-log FILE`) → time
 * split, skew, heuristics with advice, what-if and cost; `--html` writes the
 * report.
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { DEFAULT_PORTS, MercuryError, resolveEndpoints } from "@mercury/core";
import { readServicesFile, servicesFilePath, stateDir } from "@mercury/core";
import type { AppFilter, AppRecord } from "../analyze/rest.ts";
import { findEventLog, listEventLogs, readEventLog } from "../analyze/event_log.ts";
import { analyze, DEFAULT_PRICES } from "../analyze/analysis.ts";
import { fetchApplication, listApplications } from "../analyze/rest.ts";
import { reportHtml, summaryLines } from "../analyze/report.ts";

/** The REST API base: `--rest`, else services.json's `spark.rest`, else the driver UI port of the native cluster. */
export function restBase(explicit?: string): string {
  if (explicit) return explicit.replace(/\/$/, "");
  const file = readServicesFile(servicesFilePath());
  if (file.spark?.rest) return file.spark.rest;
  const host = /^sc:\/\/([^:/]+)/.exec(resolveEndpoints().spark.remote)?.[1] ?? "127.0.0.1";
  return `http://${host}:${DEFAULT_PORTS.sparkDriverUi}/api/v1`;
}

/** Where the cluster writes event logs: services.json's `spark.eventLogDir`, else `.mercury/spark/events`. */
export function eventLogDir(): string {
  const file = readServicesFile(servicesFilePath());
  return (file.spark?.eventLogDir ?? `${stateDir()}/spark/events`).replace(/^file:\/\//, "");
}

/**
 * The application from the live REST API; when the REST API does not know it
 * (or is down) and its event log is in {@linkcode eventLogDir}, from the log.
 */
export async function loadApplication(
  rest: string,
  appId: string,
  filter: AppFilter,
  logDir = eventLogDir(),
): Promise<{ app: AppRecord; source: string }> {
  try {
    return { app: await fetchApplication(rest, appId, filter), source: rest };
  } catch (err) {
    if (!(err instanceof MercuryError) || (err.code !== "not_found" && err.code !== "unavailable")) throw err;
    const log = findEventLog(logDir, appId);
    if (!log) {
      throw new MercuryError(err.code, `${appId}: ${err.message}, and no event log of it is in ${logDir}`, {
        where: err.where,
        hint: "list live applications and event logs with `spark analyze --list`, or pass --event-log FILE",
        cause: err,
      });
    }
    return { app: readEventLog(log, filter), source: log };
  }
}

/** Runs `spark analyze --job-id app-… [--tag T] [--jobs 1,2] [--html FILE]`. */
export async function analyzeCommand(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  const rest = restBase(v.rest as string | undefined);
  if (v.list) {
    const live = await listApplications(rest).catch(() => []);
    for (const a of live) ctx.print(`${a.id}\t${a.name}\tlive (${rest})`);
    for (const e of listEventLogs(eventLogDir())) {
      ctx.print(`${e.appId}\t\tevent log${e.inProgress ? " (in progress)" : ""} ${e.path}`);
    }
    return;
  }
  let appId = v["job-id"] as string | undefined;
  let eventLog = v["event-log"] as string | undefined;
  if (!appId && !eventLog) {
    // The live application, else the newest event log.
    const logs = listEventLogs(eventLogDir());
    const apps = await listApplications(rest).catch((err) => {
      if (logs.length > 0) return [];
      throw err;
    });
    if (apps.length > 0) appId = apps[0]!.id;
    else if (logs.length > 0) eventLog = logs[0]!.path;
    else throw new MercuryError("not_found", "Spark's REST API lists no application", { where: rest });
  }
  const jobIds = (v.jobs as string[] | undefined)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) {
      throw new MercuryError("usage", `--jobs: "${s}" is not a job id`, { where: "--jobs", hint: "e.g. --jobs 3,4,5" });
    }
    return n;
  });
  const filter = { tag: v.tag as string | undefined, jobIds };
  const { app, source } = eventLog
    ? { app: readEventLog(eventLog, filter), source: eventLog }
    : await loadApplication(rest, appId!, filter);
  if (appId && eventLog && app.appId !== appId) {
    throw new MercuryError("usage", `${eventLog} is the log of ${app.appId}, not ${appId}`, {
      where: "--event-log",
      hint: "drop --job-id, or pass that application's log",
    });
  }
  if (app.jobs.length === 0) {
    throw new MercuryError(
      "not_found",
      `no job of ${app.appId} matches${v.tag ? ` tag "${v.tag}"` : ""}${jobIds ? ` jobs ${jobIds}` : ""}`,
      {
        where: source,
        hint: "drop --tag/--jobs to analyse the whole application",
      },
    );
  }
  const prices = {
    ...DEFAULT_PRICES,
    ...(v["price-core"] !== undefined
      ? { perCoreHour: Number(v["price-core"]), label: "given on the command line" }
      : {}),
    ...(v["price-gb"] !== undefined ? { perGbHour: Number(v["price-gb"]), label: "given on the command line" } : {}),
  };
  const a = analyze(app, prices);
  if (source !== rest) ctx.print(`from the event log ${source}`);
  for (const line of summaryLines(a)) ctx.print(line);
  if (v.html) {
    const path = String(v.html);
    await writeFileAtomic(path, await reportHtml(a));
    ctx.print(`report: ${path}`);
  }
}
