/**
 * `materialize`: compute feature views offline and load their latest values into Redis.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { date, open } from "./_open.ts";

/** `materialize [view…]`: offline → Redis, full or `--incremental`, optionally pruning old partitions. */
export async function materialize(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const fs = await open(args, { served: true });
  // Connected before anything is computed, so Spark not running fails at once with nothing written.
  const engine = args.values.engine === "spark"
    ? await (await import("../materialize_spark.ts")).SparkLatest.connect().catch(async (err) => {
      await fs.close();
      throw err;
    })
    : undefined;
  try {
    ctx.print(`definitions: ${fs.source.describe}`);
    const names = args.positionals.length ? args.positionals : undefined;
    for (const n of names ?? []) fs.offline.view(n);
    const reports = await fs.materialize(names, {
      incremental: args.values.incremental === true,
      start: date(args.values.start, "start"),
      end: date(args.values.end, "end"),
      recompute: args.values.recompute === true,
      chunkRows: Number(args.values["chunk-rows"] ?? 20000),
      engine,
    });
    const webhooks = (args.values["alert-webhook"] as string[] | undefined) ?? [];
    if (webhooks.length) {
      const { DriftAlerts } = await import("../drift_alerts.ts");
      const alerts = await DriftAlerts.create(fs.repo.project, fs.env, { webhooks });
      for (const e of await alerts.report(reports)) {
        if (e.state === "firing") {
          ctx.print(`${e.view}: drift alert sent (${e.drift.map((d) => d.feature).join(", ")})`);
        }
      }
      if (alerts.failedDeliveries) ctx.print(`warning: ${alerts.failedDeliveries} drift alert delivery(ies) failed`);
    }
    for (const r of reports) {
      ctx.print(
        `${r.view}: ${r.rows} rows, ${r.keys} keys, ${r.written} written, ${r.expired} expired in ${
          r.seconds.toFixed(2)
        }s ` +
          `[${r.start.toISOString()} → ${r.end.toISOString()})` +
          (r.resumedFrom ? ` resumed from ${r.resumedFrom}` : "") +
          (r.drift.length ? `; DRIFT ${r.drift.map((d) => `${d.feature}: ${d.reason}`).join("; ")}` : ""),
      );
      if (args.values.prune) {
        const pruned = await fs.offline.prune(r.view);
        if (pruned.length) ctx.print(`${r.view}: pruned ${pruned.length} partition(s) up to ${pruned.at(-1)}`);
      }
    }
  } finally {
    await engine?.close();
    await fs.close();
  }
}
