/**
 * The checkpoint actions that need the store or the report renderer, kept out
 * of `actions.ts` so that module stays light:
 *
 * - `store_metrics` — records the run (suite version, fingerprint, results,
 *   score), its metrics and an audit entry in the PostgreSQL store
 *   (`{ type: store_metrics, schema?: quality_x, url?: postgres://… }`); a run
 *   already stored is left as it is, so it is safe next to `check`'s own
 *   recording.
 * - `write_report` — renders the run as HTML, PDF, JSON or JUnit XML
 *   (`{ type: write_report, path: report.html, format?: junit }`), written
 *   atomically; a relative path is taken beside the run's result JSON.
 *
 * Importing the module registers both.
 *
 * @example
 * ```ts
 * import "@mercury/quality/checkpoint_actions";
 * import { actionTypes } from "@mercury/quality/actions";
 * import assert from "node:assert/strict";
 *
 * assert.ok(actionTypes().includes("store_metrics"));
 * assert.ok(actionTypes().includes("write_report"));
 * ```
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { MercuryError, resolveEndpoints } from "@mercury/core";
import { registerAction } from "./actions.ts";
import { buildReport, formatOf, type ReportFormat, writeReport } from "./report/build.ts";
import { scoreRun } from "./score.ts";
import { withStore } from "./store/store.ts";
import type { ActionConfig } from "./types.ts";

function storeTarget(cfg: ActionConfig): { url: string; schema?: string } {
  return {
    url: typeof cfg.url === "string" ? cfg.url : resolveEndpoints().postgres.url,
    ...(typeof cfg.schema === "string" ? { schema: cfg.schema } : {}),
  };
}

registerAction("store_metrics", async (cfg, ctx) => {
  await withStore(storeTarget(cfg), (store) => store.recordRun(ctx.run, scoreRun(ctx.run, ctx.suite)));
});

registerAction("write_report", async (cfg, ctx) => {
  const given = typeof cfg.path === "string" ? cfg.path : "";
  if (!given) {
    throw new MercuryError("usage", "action write_report needs path", {
      where: `suite ${ctx.suite.name}: actions`,
      hint: "{type: write_report, path: quality_report.html}",
    });
  }
  const path = isAbsolute(given) || !ctx.out_dir ? given : join(ctx.out_dir, given);
  const format = (typeof cfg.format === "string" ? cfg.format : formatOf(path)) as ReportFormat;
  const input = await buildReport(ctx.run, { suite: ctx.suite, profile: cfg.profile === true ? undefined : null });
  await writeReport(input, path, format);
});
