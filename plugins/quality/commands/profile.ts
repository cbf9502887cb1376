/**
 * `dq-validate profile --source URI`: profiles a source and prints one line
 * per column, or writes the profile as JSON (`--output profile.json`).
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { profileSource, profileText } from "../profile/mod.ts";
import { writeFileAtomic } from "@mercury/core/files";

/** Runs `profile`. */
export async function profile(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const source = String(v.source ?? args.positionals[0] ?? "");
  if (!source) {
    throw new MercuryError("usage", "profile needs --source URI", {
      hint: "dq-validate profile --source data.parquet",
    });
  }
  const p = await profileSource(source, {
    bins: v.bins as number | undefined,
    topK: v["top-k"] as number | undefined,
    sampleRows: v["sample-rows"] as number | undefined,
    exactDistinctRows: v["exact-distinct-rows"] as number | undefined,
  });
  if (v.output) {
    await writeFileAtomic(String(v.output), JSON.stringify(p, null, 2) + "\n");
    ctx.print(`wrote ${v.output} (${p.rows} rows, ${p.columns.length} columns)`);
  }
  if (v.format === "json" && !v.output) ctx.print(JSON.stringify(p, null, 2));
  else if (!v.output || v.format === "text") { for (const line of profileText(p)) ctx.print(line); }
  return 0;
}
