/**
 * `olap setup`: creates the data dir and loads the sample `events` table (and the M4 hourly series if shipped).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { Olap } from "../engine.ts";
import { generateEvents } from "../sample_data.ts";

/** Runs `olap setup`. */
export async function setup(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const dir = String(args.values["data-dir"] ?? "");
  const olap = await Olap.open({ dataDir: dir, restrictFiles: false });
  try {
    const file = await generateEvents(args.values.events as number);
    const t = await olap.ingest("events", { file }, { partitionBy: "day=cast(ts as date)", sortBy: ["ts"] });
    await Deno.remove(file);
    ctx.print(`events: ${t.rows} rows, ${t.partitions} partitions, ${t.files} files, version ${t.version}`);
    const m4 = `${ctx.root}/data/m4/Hourly-train.csv`;
    try {
      if (args.values["skip-m4"]) throw new Deno.errors.NotFound("skipped");
      await Deno.stat(m4);
      // The M4 hourly training series, long form: one row per (series, hour).
      const m = await olap.catalog.ingestQuery(
        "m4_hourly",
        `select V1 as series, timestamp '2020-01-01' + to_hours(cast(replace(col, 'V', '') as int) - 2) as ts,
           cast(value as double) as value
         from (unpivot read_csv('${m4}', header = true, all_varchar = true) on columns(* exclude (V1)) into name col value value)
         where value is not null and value <> ''`,
        { sortBy: ["series", "ts"] },
      );
      await olap.refresh(true);
      ctx.print(`m4_hourly: ${m.rows} rows from data/m4/Hourly-train.csv`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    ctx.print(`catalog ready in ${dir}; serve it with: deno task mercury olap serve --data-dir ${dir}`);
  } finally {
    await olap.close();
  }
}
