/**
 * `spark sql "<query>"`: runs SQL on the cluster and prints the Arrow result.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core";
import { tableText } from "@mercury/core/display";
import { withSession } from "./_session.ts";

/** Runs `spark sql`. */
export async function sqlCommand(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const query = args.positionals.join(" ").trim();
  if (!query) throw new MercuryError("usage", "spark sql needs a query", { hint: `spark sql "SELECT 1"` });
  const timeoutMs = args.values.timeout === undefined ? undefined : Number(args.values.timeout) * 1000;
  await withSession(async (spark, signal) => {
    const df = await spark.sql(query, undefined, { signal, timeoutMs });
    const t = await df.toArrow({ signal, timeoutMs });
    ctx.print(tableText(t, { maxRows: Number(args.values["max-rows"]) }));
  });
}
