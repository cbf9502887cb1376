/**
 * `olap ingest`: a file or PostgreSQL table into a managed table.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import type { Storage } from "../catalog.ts";
import { Olap } from "../engine.ts";
import { parseSource } from "../sources.ts";

/** Runs `olap ingest <table> <source>`. */
export async function ingest(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const [table, source] = args.positionals;
  if (!table || !source) throw new MercuryError("usage", "ingest needs <table> <source>");
  const storage = args.values.storage as Storage | undefined;
  const olap = await Olap.open({ dataDir: String(args.values["data-dir"] ?? ""), restrictFiles: false });
  try {
    const t = await olap.ingest(table, parseSource(source, args.values.format as string | undefined), {
      partitionBy: args.values["partition-by"] as string | undefined,
      sortBy: args.values["sort-by"] as string[] | undefined,
      storage,
      mode: args.values.append ? "append" : "replace",
    });
    ctx.print(`${table}: version ${t.version}, ${t.rows} rows, ${t.files} files, ${t.partitions} partitions`);
  } finally {
    await olap.close();
  }
}
