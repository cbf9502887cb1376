/**
 * `spark analyze` (the seed's `analyze_performance.py`): a finished or running
 * application's stages and tasks from Spark's REST API → time split, skew,
 * heuristics with advice, what-if and cost; `--html` writes the report.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { DEFAULT_PORTS, MercuryError, resolveEndpoints } from "@mercury/core";
import { readServicesFile, servicesFilePath } from "@mercury/core";
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

/** Runs `spark analyze --job-id app-… [--tag T] [--jobs 1,2] [--html FILE]`. */
export async function analyzeCommand(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  const rest = restBase(v.rest as string | undefined);
  if (v.list) {
    for (const a of await listApplications(rest)) ctx.print(`${a.id}\t${a.name}`);
    return;
  }
  let appId = v["job-id"] as string | undefined;
  if (!appId) {
    const apps = await listApplications(rest);
    if (apps.length === 0) {
      throw new MercuryError("not_found", "Spark's REST API lists no application", { where: rest });
    }
    appId = apps[0]!.id;
  }
  const jobIds = (v.jobs as string[] | undefined)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) {
      throw new MercuryError("usage", `--jobs: "${s}" is not a job id`, { where: "--jobs", hint: "e.g. --jobs 3,4,5" });
    }
    return n;
  });
  const app = await fetchApplication(rest, appId, { tag: v.tag as string | undefined, jobIds });
  if (app.jobs.length === 0) {
    throw new MercuryError(
      "not_found",
      `no job of ${appId} matches${v.tag ? ` tag "${v.tag}"` : ""}${jobIds ? ` jobs ${jobIds}` : ""}`,
      {
        where: rest,
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
  for (const line of summaryLines(a)) ctx.print(line);
  if (v.html) {
    const path = String(v.html);
    const tmp = `${path}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, await reportHtml(a));
    await Deno.rename(tmp, path);
    ctx.print(`report: ${path}`);
  }
}
