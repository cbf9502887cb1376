/**
 * Checkpoint actions: what happens after a run. Built in: `write_json`
 * (the run as JSON, atomically), `webhook` (POST the run summary as JSON;
 * `format: slack` posts a Slack incoming-webhook message `{text}` instead,
 * `on: failure` only when the run failed),
 * `fail_step` (make the step fail when the run failed — the CLI's exit 1).
 * Other modules add theirs with {@linkcode registerAction} (reports, the
 * metrics store).
 *
 * @example
 * ```ts
 * import { registerAction, actionTypes } from "@mercury/quality/actions";
 * import assert from "node:assert/strict";
 *
 * registerAction("count_runs", async () => {});
 * assert.ok(actionTypes().includes("count_runs"));
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { MercuryError } from "@mercury/core/plugin";
import type { ActionConfig, ActionContext, ActionFn } from "./types.ts";

const actions = new Map<string, ActionFn>();

/** Registers (or replaces) an action type. */
export function registerAction(type: string, fn: ActionFn): void {
  actions.set(type, fn);
}

/** The registered action types. */
export function actionTypes(): string[] {
  return [...actions.keys()].sort();
}

/** Writes text to `path` through a temp file in the same folder and a rename (core's `writeFileAtomic`). */
export const writeAtomic: (path: string, text: string | Uint8Array) => Promise<void> = writeFileAtomic;

/** Thrown by `fail_step` so a pipeline step stops; carries exit code 1. */
export class ValidationFailed extends Error {
  override name = "ValidationFailed";
  readonly exitCode = 1;
}

registerAction("write_json", async (cfg, ctx) => {
  const path = String(cfg.path ?? "");
  if (!path) throw new MercuryError("usage", "action write_json needs path");
  await writeAtomic(path, JSON.stringify(ctx.run, null, 2) + "\n");
});

registerAction("webhook", async (cfg, ctx) => {
  const url = String(cfg.url ?? "");
  if (!url) throw new MercuryError("usage", "action webhook needs url");
  const { run } = ctx;
  if (cfg.on === "failure" && run.success) return;
  const failed = run.results.filter((r) => !r.success);
  const summary = {
    suite: run.suite_name,
    suite_version: run.suite_version ?? null,
    success: run.success,
    run_id: run.run_id,
    source: run.fingerprint.source,
    statistics: run.statistics,
    failed: failed.map((r) => ({
      type: r.expectation_config.type,
      column: target(r.expectation_config.kwargs) || null,
      unexpected_count: r.result.unexpected_count ?? null,
      observed_value: r.result.observed_value ?? null,
    })),
  };
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(cfg.format === "slack" ? { text: slackText(run, failed) } : summary),
      signal: AbortSignal.timeout(Number(cfg.timeout_ms ?? 10_000)),
    });
  } catch (err) {
    throw new MercuryError("unavailable", `webhook ${url} did not answer: ${(err as Error).message}`, {
      where: url,
      hint: "check the URL and that the receiver runs",
      cause: err,
    });
  }
  await res.body?.cancel();
  if (!res.ok) throw new MercuryError("unavailable", `webhook ${url} answered ${res.status}`, { where: url });
});

/** The column(s) an expectation is about: `column`, `column_A`, or the `column_list` joined. */
function target(k: Record<string, unknown>): string {
  if (typeof k.column === "string") return k.column;
  if (typeof k.column_A === "string") return k.column_A;
  return Array.isArray(k.column_list) ? k.column_list.join(",") : "";
}

/** The text of a Slack message about a run: status line, then one bullet per failed expectation. */
export function slackText(run: ActionContext["run"], failed: ActionContext["run"]["results"]): string {
  const s = run.statistics;
  const head = `${run.success ? ":white_check_mark:" : ":x:"} *${run.suite_name}*${
    run.suite_version ? ` v${run.suite_version}` : ""
  } ${
    run.success ? "passed" : "failed"
  } on \`${run.fingerprint.source}\`: ${s.successful_expectations}/${s.evaluated_expectations} expectations (run ${run.run_id})`;
  const lines = failed.slice(0, 10).map((r) => {
    const col = target(r.expectation_config.kwargs);
    const n = r.result.unexpected_count;
    return `• ${r.expectation_config.type}${col ? `(${col})` : ""}${
      n !== undefined ? `: ${n} unexpected of ${r.result.element_count}` : ""
    }`;
  });
  if (failed.length > 10) lines.push(`• … and ${failed.length - 10} more`);
  return [head, ...lines].join("\n");
}

registerAction("fail_step", (_cfg, ctx) => {
  if (!ctx.run.success) {
    return Promise.reject(
      new ValidationFailed(
        `suite ${ctx.run.suite_name} failed: ${ctx.run.statistics.unsuccessful_expectations} of ${ctx.run.statistics.evaluated_expectations} expectations`,
      ),
    );
  }
  return Promise.resolve();
});

/** Runs the actions in order; `fail_step` runs last so the others still happen. */
export async function runActions(list: ActionConfig[], ctx: ActionContext): Promise<void> {
  const ordered = [...list.filter((a) => a.type !== "fail_step"), ...list.filter((a) => a.type === "fail_step")];
  for (const a of ordered) {
    const fn = actions.get(a.type);
    if (!fn) {
      throw new MercuryError("usage", `unknown checkpoint action "${a.type}"`, {
        hint: `actions: ${actionTypes().join(", ")}`,
      });
    }
    await fn(a, ctx);
  }
}
