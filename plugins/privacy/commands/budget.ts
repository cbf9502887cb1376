/**
 * `privacy budget <dataset> [--epsilon E --delta D] [--composition basic|zcdp] [--analyst A]`: sets a
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
    const composition = String(v.composition ?? "basic");
    if (composition !== "basic" && composition !== "zcdp") {
      throw new MercuryError("usage", `--composition must be basic or zcdp, got '${composition}'`, {
        hint: "zcdp fits more Gaussian or many small answers into the same (ε, δ); basic suits a few large ones",
      });
    }
    await ledger.setBudget(dataset, {
      epsilon: Number(v.epsilon),
      delta: Number(v.delta ?? 1e-6),
      composition,
      ...(v["approx-delta"] !== undefined ? { approxDelta: Number(v["approx-delta"]) } : {}),
    }, analyst);
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
      composition: b.composition === "zcdp"
        ? `zcdp: ρ ${+(b.spentRho ?? 0).toPrecision(4)} of ${+(b.rhoBudget ?? 0).toPrecision(4)}`
        : "basic",
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
