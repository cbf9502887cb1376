/**
 * The report's view of the budget ledger (`../ledger.ts`, PostgreSQL): the
 * data set's budget, what has been spent and every recorded query.
 *
 * @example
 * ```ts ignore
 * import { Ledger } from "@mercury/privacy/ledger";
 * import { ledgerSummary } from "@mercury/privacy/compliance";
 *
 * await using ledger = await Ledger.open();
 * console.log(await ledgerSummary(ledger, "patients"));
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { Ledger } from "../ledger.ts";
import type { LedgerSummary } from "./report.ts";

/** Reads `dataset`'s budget and entries; a data set without a budget is a `not_found` error. */
export async function ledgerSummary(ledger: Ledger, dataset: string): Promise<LedgerSummary> {
  const budget = (await ledger.budgets(dataset)).find((b) => b.analyst === "*");
  if (!budget) {
    throw new MercuryError("not_found", `the ledger has no budget for data set "${dataset}"`, {
      where: `schema ${ledger.schema}`,
      hint: "set one first (Ledger.setBudget), or leave out --dataset",
    });
  }
  const entries = await ledger.entries(dataset);
  return {
    dataset,
    budget: { epsilon: budget.epsilon, delta: budget.delta },
    spent: { epsilon: budget.spentEpsilon, delta: budget.spentDelta },
    entries: entries.map((e) => ({
      analyst: e.analyst,
      query: e.query,
      mechanism: e.mechanism,
      epsilon: e.epsilon,
      delta: e.delta,
      at: new Date(e.at).toISOString(),
    })),
  };
}
