/**
 * `olap tables`, `olap compact` and `olap rollup`: the catalog's maintenance commands.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { Olap } from "../engine.ts";
import { checkRollup, type Measure } from "../rollups.ts";

/**
 * Opens the catalog in `--data-dir` for a maintenance command, which never creates one: a mistyped directory is
 * one clear error, not a new empty catalog.
 */
async function openExisting(args: CommandArgs): Promise<Olap> {
  const dataDir = String(args.values["data-dir"] ?? "");
  try {
    await Deno.stat(`${dataDir}/catalog.json`);
  } catch {
    throw new MercuryError("not_found", `no olap catalog in ${dataDir}`, {
      where: `--data-dir ${dataDir}`,
      hint: "check the directory, or create one with `olap setup --data-dir DIR` or `olap ingest`",
    });
  }
  return await Olap.open({ dataDir, restrictFiles: false });
}

/** Runs `olap tables`: one line per table. */
export async function tables(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const olap = await openExisting(args);
  try {
    for (const t of await olap.tables()) {
      ctx.print(
        `${t.name}\tv${t.version}\t${t.rows} rows\t${t.files} files\t${t.partitions} partitions\t${t.storage}\t${t.source}`,
      );
    }
  } finally {
    await olap.close();
  }
}

/** Runs `olap compact <table>`. */
export async function compact(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const [table] = args.positionals;
  if (!table) throw new MercuryError("usage", "compact needs <table>");
  const olap = await openExisting(args);
  try {
    const t = await olap.compact(table);
    ctx.print(`${table}: version ${t.version}, ${t.files} files`);
  } finally {
    await olap.close();
  }
}

/** Runs `olap rollup <name> --table T --dims a,b --measures sum:x`. */
export async function rollup(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const [name] = args.positionals;
  const v = args.values;
  if (!name || !String(v.table ?? "") || !String(v.dims ?? "")) {
    throw new MercuryError("usage", "rollup needs <name> --table T --dims a,b");
  }
  const measures = String(v.measures ?? "").split(",").filter(Boolean).map((m) => {
    const [agg, column] = m.split(":");
    return { agg, column } as Measure;
  });
  const olap = await openExisting(args);
  try {
    const spec = checkRollup({
      name,
      table: String(v.table ?? ""),
      dimensions: String(v.dims ?? "").split(","),
      measures,
    });
    const t = await olap.declareRollup(spec);
    ctx.print(`rollup ${name}: ${t.rows} rows in ${t.name}`);
  } finally {
    await olap.close();
  }
}
