/**
 * `dq-validate report --output quality_report.html [--run ID | --suite NAME | --result run.json]`:
 * renders a run as HTML, PDF, JSON or JUnit XML (by extension or `--format`).
 * Without `--run`, the latest run: the newest result JSON `check` wrote, which
 * is recorded in the store on the way (so its metrics join the history), or
 * the store's latest.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import type { ValidationRun } from "../types.ts";
import { buildReport, formatOf, latestRunFile, type ReportFormat, writeReport } from "../report/build.ts";
import { scoreRun } from "../score.ts";
import { withStore } from "../store/store.ts";

async function readRun(path: string): Promise<ValidationRun> {
  try {
    const run = JSON.parse(await Deno.readTextFile(path)) as ValidationRun;
    if (!run.run_id || !Array.isArray(run.results)) throw new Error("no run_id and results");
    return run;
  } catch (err) {
    throw new MercuryError("input", `cannot read the run ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "give a result JSON written by dq-validate check",
    });
  }
}

/** Runs `report`. */
export async function report(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const output = String(v.output ?? "quality_report.html");
  const format = (v.format ? String(v.format) : formatOf(output)) as ReportFormat;
  const suite = v.suite ? String(v.suite) : undefined;
  let run: ValidationRun | null = v.result ? await readRun(String(v.result)) : null;
  if (!run && !v.run) {
    const file = await latestRunFile(ctx.root, suite);
    if (file) run = await readRun(file);
  }
  const written = await withStore(ctx, async (store) => {
    if (run) await store.recordRun(run, scoreRun(run));
    else {
      const found = await store.run(v.run ? String(v.run) : undefined, suite);
      if (!found) {
        throw new MercuryError("not_found", v.run ? `no stored run ${v.run}` : "no run to report on", {
          where: v.run ? "--run" : "--suite",
          hint: "run dq-validate check first, or list runs with dq-validate history",
        });
      }
      run = found.run;
    }
    const versions = run.suite_version ? await store.suiteVersions(run.suite_name) : [];
    const stored = versions.find((x) => x.version === run!.suite_version)?.suite;
    const input = await buildReport(run, { store, suite: stored, profile: v["no-profile"] ? null : undefined });
    const f = await writeReport(input, output, format);
    await store.audit("dq-validate", "report.write", `${run.suite_name}@${run.suite_version ?? "file"}`, {
      run_id: run.run_id,
      output,
      format: f,
    });
    return { f, score: input.score.overall };
  });
  ctx.print(
    `wrote ${output} (${written.f}) for run ${run!.run_id} of ${run!.suite_name}: score ${written.score.toFixed(1)}`,
  );
  return 0;
}
