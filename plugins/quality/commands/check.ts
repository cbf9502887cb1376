/**
 * `dq-validate check --config suite.yaml --source data.parquet`: validates a
 * source against a suite, prints one line per expectation, writes the run as
 * JSON (default `.mercury/quality/runs/<suite>/<time>_<run>.json`) with every
 * failing row in a Parquet file beside it, runs the suite's checkpoint
 * actions, and exits 0 when every expectation passed, 1 when one failed.
 *
 * Unless `--no-store` (or `--explain`), the run is recorded in the PostgreSQL
 * store before the actions run: the suite is saved as a version when it
 * differs from the stored latest (reason "used by dq-validate check"), the run
 * gets that version, its fingerprint, results, score and metrics, and an
 * audit entry — so `history` lists it and `audit verify` vouches for it.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { runActions, ValidationFailed } from "../actions.ts";
import "../checkpoint_actions.ts";
import { scoreRun } from "../score.ts";
import { type QualityStore, withStore } from "../store/store.ts";
import { openSource } from "../sources/open_source.ts";
import { loadSuite } from "../suite/load_suite.ts";
import type { ActionConfig, ExpectationResult, ResultFormatName } from "../types.ts";
import { validateOpened } from "../validate.ts";

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? "null";
  return s.length > 60 ? s.slice(0, 57) + "…" : s;
}

/** One line of the text summary. */
export function resultLine(r: ExpectationResult): string {
  const c = r.expectation_config;
  const target = c.kwargs.column ?? c.kwargs.column_A ??
    (Array.isArray(c.kwargs.column_list) ? c.kwargs.column_list.join(",") : "") ?? "";
  const res = r.result;
  const detail = res.unexpected_count !== undefined
    ? `unexpected ${res.unexpected_count}/${res.element_count}${
      res.partial_unexpected_list?.length ? ` e.g. ${short(res.partial_unexpected_list.slice(0, 3))}` : ""
    }`
    : res.observed_value !== undefined
    ? `observed ${short(res.observed_value)}`
    : "";
  return `${r.success ? "✓" : "✗"} ${c.type}${target ? `(${target})` : ""}  ${detail}`.trimEnd();
}

/** Runs `check`. */
export async function check(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const config = String(v.config ?? "");
  const source = String(v.source ?? args.positionals[0] ?? "");
  if (!config) {
    throw new MercuryError("usage", "check needs --config suite.yaml", {
      hint: "dq-validate check --config expectations.yaml --source data.parquet",
    });
  }
  if (!source) {
    throw new MercuryError("usage", "check needs --source", {
      hint: "dq-validate check --config expectations.yaml --source data.parquet",
    });
  }
  const suite = await loadSuite(config);
  const explain = Boolean(v.explain);
  const runId = crypto.randomUUID();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const output = String(v.output ?? "") ||
    `${ctx.root}/.mercury/quality/runs/${suite.name.replace(/[^\w.-]/g, "_")}/${stamp}_${runId.slice(0, 8)}.json`;
  const failingPath = v["no-failing-rows"] ? undefined : output.replace(/\.json$/, "") + ".failing.parquet";
  const record = !explain && !v["no-store"];
  const go = async (store?: QualityStore): Promise<number> => {
    await using src = await openSource(source);
    const run = await validateOpened(src, suite, {
      run_id: runId,
      explain,
      ...(failingPath ? { failing_rows_path: failingPath } : {}),
      ...(v["result-format"] ? { result_format: String(v["result-format"]) as ResultFormatName } : {}),
      onSql: explain ? (sql) => ctx.print(sql + ";\n") : undefined,
    });
    if (explain) return 0;
    if (store) {
      // Saved after the run so a source that cannot be read leaves no new version behind.
      const saved = await store.saveSuite(suite, {
        author: String(v.author ?? "") || Deno.env.get("USER") || "dq-validate",
        reason: "used by dq-validate check",
      });
      suite.version = run.suite_version = saved.version;
      await store.recordRun(run, scoreRun(run, suite));
    }
    if (v.format === "json") ctx.print(JSON.stringify(run, null, 2));
    else {
      for (const r of run.results) ctx.print(resultLine(r));
      const s = run.statistics;
      ctx.print(
        `${
          run.success ? "PASSED" : "FAILED"
        } ${suite.name}: ${s.successful_expectations}/${s.evaluated_expectations} expectations on ${run.fingerprint.row_count} rows of ${run.fingerprint.source}`,
      );
    }
    const actions: ActionConfig[] = [
      { type: "write_json", path: output },
      ...((suite.meta?.actions as ActionConfig[] | undefined) ?? []),
      ...(v.webhook ? [{ type: "webhook", url: String(v.webhook) }] : []),
      { type: "fail_step" },
    ];
    try {
      await runActions(actions, { run, suite, out_dir: output.replace(/\/[^/]*$/, "") });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
    }
    if (v.format !== "json") {
      ctx.print(
        `result: ${output}${
          run.failing_rows_path ? `\nfailing rows (${run.failing_rows_count}): ${run.failing_rows_path}` : ""
        }${store ? `\nstored: run ${run.run_id} of ${suite.name} v${run.suite_version} (${store.schema})` : ""}`,
      );
    }
    return run.success ? 0 : 1;
  };
  if (!record) return await go();
  let connected = false;
  try {
    return await withStore(ctx, (store) => {
      connected = true;
      return go(store);
    });
  } catch (err) {
    if (connected || !(err instanceof MercuryError) || err.code !== "unavailable") throw err;
    throw new MercuryError("unavailable", `cannot record the run: ${err.message}`, {
      where: err.where,
      hint: "start PostgreSQL (deno task services up), set MERCURY_PG_URL, or run check with --no-store",
      cause: err,
    });
  }
}
