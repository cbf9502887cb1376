/**
 * `spark generate` and `spark process` (the seed's `spark-submit process_data.py`).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { tableText } from "@mercury/core/display";
import { downstreamQuery, generateEvents, processEvents, type Strategy } from "../jobs/events.ts";
import { withSession } from "./_session.ts";

/** Runs `spark generate --output DIR --rows N`. */
export async function generate(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  await withSession(async (spark) => {
    const t0 = performance.now();
    const r = await generateEvents(spark, {
      output: String(v.output),
      rows: Number(v.rows),
      days: Number(v.days),
    });
    ctx.print(
      `${v.rows} raw events → ${r.events}; products → ${r.products} (${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s)`,
    );
  });
}

/** Runs `spark process --input … --output … --partitions N`. */
export async function processCommand(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  const input = String(v.input);
  const products = v.products ? String(v.products) : `${input.replace(/\/$/, "")}-products`;
  const output = String(v.output);
  const format = v.format as "parquet" | "delta";
  const partitions = Number(v.partitions);
  await withSession(async (spark, signal) => {
    const strategies: Strategy[] = v.compare ? ["none", "by-columns", "fixed"] : [v.strategy as Strategy];
    const rows = [];
    for (const strategy of strategies) {
      const out = v.compare ? `${output.replace(/\/$/, "")}-${strategy}` : output;
      const r = await processEvents(spark, {
        input,
        products,
        output: out,
        partitions,
        format,
        strategy,
        broadcast: !v["no-broadcast"],
        udf: v.udf as "zscore" | undefined,
        exec: { signal },
      });
      const q = await downstreamQuery(spark, out, format);
      ctx.print(
        `${strategy}: ${r.rawRows} raw → ${r.cleanRows} clean rows → ${out} (${r.aggregateRows} daily rows → ${r.aggregateOutput}) in ${
          r.seconds.toFixed(1)
        } s`,
      );
      rows.push({
        strategy,
        files: r.files?.files ?? NaN,
        folders: r.files?.folders ?? NaN,
        total_mb: r.files ? +(r.files.bytes / 1048576).toFixed(2) : NaN,
        median_file_kb: r.files ? +(r.files.medianBytes / 1024).toFixed(1) : NaN,
        job_s: +r.seconds.toFixed(1),
        downstream_query_ms: Math.round(q),
      });
    }
    ctx.print(tableText(rows));
  });
}
