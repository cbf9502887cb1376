/**
 * `privacy budget <dataset> [--epsilon E --delta D] [--analyst A]`: sets a
 * budget in the PostgreSQL ledger when ε is given, then shows the data set's
 * budgets, what is spent and its last queries.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { tableText } from "@mercury/core/display";
import { Ledger } from "../ledger.ts";

/** Runs `privacy budget`. */
export async function budget(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const dataset = args.positionals[0];
  if (!dataset) {
    throw new MercuryError("usage", "budget needs a data set name", {
      hint: "deno task mercury privacy budget patients --epsilon 3 --delta 1e-6",
    });
  }
  await using ledger = await Ledger.open({ url: ctx.endpoints().postgres.url });
  const v = args.values;
  if (v.epsilon !== undefined) {
    const analyst = v.analyst === undefined ? "*" : String(v.analyst);
    await ledger.setBudget(dataset, { epsilon: Number(v.epsilon), delta: Number(v.delta ?? 1e-6) }, analyst);
  }
  const budgets = await ledger.budgets(dataset);
  if (budgets.length === 0) {
    throw new MercuryError("not_found", `no privacy budget is set for dataset '${dataset}'`, {
      hint: `set one: deno task mercury privacy budget ${dataset} --epsilon 3 --delta 1e-6`,
    });
  }
  ctx.print(tableText(
    budgets.map((b) => ({
      analyst: b.analyst === "*" ? "(data set)" : b.analyst,
      "ε budget": b.epsilon,
      "ε spent": +b.spentEpsilon.toFixed(9),
      "δ budget": b.delta,
      "δ spent": b.spentDelta,
    })),
    { title: `privacy budget of '${dataset}'` },
  ));
  const entries = (await ledger.entries(dataset)).slice(-10);
  if (entries.length) {
    ctx.print(tableText(
      entries.map((e) => ({
        id: e.id,
        at: e.at.toISOString().slice(0, 19),
        analyst: e.analyst,
        ε: e.epsilon,
        δ: e.delta,
        query: e.query.length > 60 ? e.query.slice(0, 57) + "…" : e.query,
      })),
      { title: "last queries" },
    ));
  }
  return 0;
}
