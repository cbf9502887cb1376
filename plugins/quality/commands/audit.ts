/**
 * `dq-validate audit verify` (exit 0 intact, 1 tampered) and `audit log [--limit N]`.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { withStore } from "../store/store.ts";

/** Runs `audit`. */
export async function audit(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const [sub = "verify"] = args.positionals;
  return await withStore(ctx, async (store) => {
    if (sub === "verify") {
      const v = await store.verifyAudit();
      if (v.ok) {
        ctx.print(`audit log intact: ${v.entries} entries, hash chain and run results verified`);
        return 0;
      }
      for (const p of v.problems) ctx.print(`TAMPERED: ${p}`);
      ctx.print(`audit log NOT intact: ${v.problems.length} problem(s) in ${v.entries} entries`);
      return 1;
    }
    if (sub === "log") {
      for (const e of await store.auditLog(Number(args.values.limit ?? 50))) {
        ctx.print(`${e.seq}\t${e.at}\t${e.actor}\t${e.action}\t${e.subject}\t${e.hash.slice(0, 12)}`);
      }
      return 0;
    }
    throw new MercuryError("usage", `unknown audit subcommand "${sub}"`, { hint: "audit verify | audit log" });
  });
}
