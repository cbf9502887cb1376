/**
 * `olap ingest`: a file or PostgreSQL table into a managed table.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { Olap } from "../engine.ts";
import { parseSource } from "../sources.ts";
import { str } from "./_args.ts";

/** Runs `olap ingest <table> <source>`. */
export async function ingest(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const [table, source] = args.positionals;
  if (!table || !source) throw new MercuryError("usage", "ingest needs <table> <source>");
  const storage = str(args.values.storage);
  if (storage !== "parquet" && storage !== "duckdb") {
    throw new MercuryError("usage", `--storage "${storage}" is not parquet or duckdb`);
  }
  const olap = await Olap.open({ dataDir: str(args.values["data-dir"]), restrictFiles: false });
  try {
    const t = await olap.ingest(table, parseSource(source, str(args.values.format) || undefined), {
      partitionBy: str(args.values["partition-by"]) || undefined,
      sortBy: str(args.values["sort-by"]) ? str(args.values["sort-by"]).split(",").map((s) => s.trim()) : undefined,
      storage,
      mode: args.values.append ? "append" : "replace",
    });
    ctx.print(`${table}: version ${t.version}, ${t.rows} rows, ${t.files} files, ${t.partitions} partitions`);
  } finally {
    await olap.close();
  }
}
