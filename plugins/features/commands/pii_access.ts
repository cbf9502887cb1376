/**
 * `pii-access`: the PII access log — who asked for which PII features, when, over which transport, and whether it
 * was granted — from PostgreSQL, newest first.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { PiiAccessLog } from "../pii.ts";
import { date, open } from "./_open.ts";

/** `pii-access [--who NAME] [--feature VIEW:FEATURE] [--since TIME] [--limit N] [--json]`. */
export async function piiAccess(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const fs = await open(args);
  try {
    const log = new PiiAccessLog(fs.pg.sql, { schema: fs.registry.schema, project: fs.repo.project, env: fs.env });
    const rows = await log.query({
      who: (args.values.who as string | undefined) || undefined,
      feature: (args.values.feature as string | undefined) || undefined,
      since: date(args.values.since, "since"),
      limit: Number(args.values.limit ?? 100),
    });
    if (args.values.json) {
      for (const r of rows) ctx.print(JSON.stringify({ ...r, at: r.at.toISOString() }));
      return;
    }
    if (!rows.length) {
      ctx.print(`no PII access recorded for ${fs.repo.project}/${fs.env}`);
      return;
    }
    for (const r of rows) {
      ctx.print(
        `${r.at.toISOString()}  ${
          r.granted ? "granted" : "REFUSED"
        }  ${r.who}  ${r.transport}  ${r.entities} entities  ${r.features.join(",")}`,
      );
    }
  } finally {
    await fs.close();
  }
}
