/**
 * `dq-validate history [--suite NAME] [--metric M]`: the runs of a suite over
 * time (newest first), or one metric's history with anomaly verdicts.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { withStore } from "../store/store.ts";
import { checkMetrics } from "../anomaly.ts";
import { REPORT_STRATEGIES } from "../report/build.ts";

/** Runs `history`. */
export async function history(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const suite = v.suite ? String(v.suite) : args.positionals[0];
  await withStore(ctx, async (store) => {
    if (v.metric) {
      if (!suite) {
        throw new MercuryError("usage", "--metric needs --suite NAME", {
          hint: "dq-validate history --suite orders --metric row_count",
        });
      }
      const metric = String(v.metric);
      const points = await store.metricHistory(suite, metric);
      if (!points.length) {
        const names = await store.metricNames(suite);
        throw new MercuryError("not_found", `suite ${suite} has no metric ${metric}`, {
          where: "--metric",
          hint: names.length ? `metrics: ${names.slice(0, 12).join(", ")}` : "no runs stored for this suite",
        });
      }
      for (const p of points) ctx.print(`${p.at}\t${p.value}\t${p.run_id}`);
      const [j] = await checkMetrics(store, suite, [metric], REPORT_STRATEGIES);
      for (const x of j?.verdicts ?? []) ctx.print(`${x.strategy}: ${x.anomaly ? "ANOMALY" : "ok"} — ${x.detail}`);
      return;
    }
    const runs = await store.runs(suite, Number(v.limit ?? 50));
    if (!runs.length) ctx.print(suite ? `no runs of ${suite}` : "no runs stored");
    for (const r of runs) {
      ctx.print(
        `${r.started_at}  ${r.success ? "PASS" : "FAIL"}  ${r.suite}${
          r.suite_version ? ` v${r.suite_version}` : ""
        }  ` +
          `${r.successful}/${r.evaluated}  score ${
            r.score === null ? "-" : r.score.toFixed(1)
          }  ${r.source}  ${r.run_id}`,
      );
    }
  });
  return 0;
}
