import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { type Charge, type Ledger } from "@mercury/privacy/ledger";
import { withLedger } from "./_setup.ts";
import { analyticGaussianSigma } from "@mercury/privacy/mechanisms/float";
import { rhoForEpsilon, zcdpToEpsilon } from "@mercury/privacy/accounting/zcdp";

const BUDGET = { epsilon: 1, delta: 1e-6 };

/** Spends `charge` until the ledger refuses; the number that fit. */
async function fill(ledger: Ledger, charge: Charge, limit = 2000): Promise<number> {
  for (let n = 0; n < limit; n++) {
    try {
      await ledger.spend(charge, () => Promise.resolve(n));
    } catch (e) {
      assert.ok(e instanceof MercuryError && e.code === "conflict", String(e));
      return n;
    }
  }
  throw new Error(`the ledger never refused after ${limit} charges`);
}

/** The composed (ε, δ) of a zCDP data set's entries, recomputed from the entries alone. */
async function composedFromEntries(ledger: Ledger, dataset: string, approxDelta: number) {
  const entries = await ledger.entries(dataset);
  const rho = entries.reduce((s, e) => s + e.rho, 0);
  const delta = entries.reduce((s, e) => s + e.approxDelta, 0);
  const dConv = BUDGET.delta - approxDelta;
  return { n: entries.length, rho, epsilon: zcdpToEpsilon(rho, dConv).epsilon, delta: dConv + delta };
}

Deno.test("Ledger (zCDP budget) fits far more Gaussian answers into (ε, δ) than basic composition, never more than it", async () => {
  await withLedger(async (ledger) => {
    // One Gaussian answer at (ε, δ) = (0.1, 1e-8), σ by the analytic calibration for sensitivity 1.
    const sigma = analyticGaussianSigma({ sensitivity: 1, epsilon: 0.1, delta: 1e-8 });
    const gaussian = (dataset: string): Charge => ({
      dataset,
      analyst: "ada",
      query: "select avg(cost) from visits",
      mechanism: "gaussian",
      epsilon: 0.1,
      delta: 1e-8,
      parts: [{ kind: "gaussian", sigma }],
    });
    await ledger.setBudget("basic", BUDGET);
    await ledger.setBudget("zcdp", { ...BUDGET, composition: "zcdp" });
    const basic = await fill(ledger, gaussian("basic"));
    const zcdp = await fill(ledger, gaussian("zcdp"));
    assert.equal(basic, 10);
    assert.ok(zcdp >= 5 * basic, `zCDP fit ${zcdp}, basic ${basic}`);
    assert.equal(zcdp, Math.floor(rhoForEpsilon(1, 5e-7) * 2 * sigma * sigma)); // 96
    // The total never passes the budget, and one more answer would have.
    const c = await composedFromEntries(ledger, "zcdp", BUDGET.delta / 2);
    assert.equal(c.n, zcdp);
    assert.ok(c.epsilon <= BUDGET.epsilon * (1 + 1e-9) && c.delta <= BUDGET.delta, JSON.stringify(c));
    const oneMore = zcdpToEpsilon(c.rho + 1 / (2 * sigma * sigma), BUDGET.delta / 2).epsilon;
    assert.ok(oneMore > BUDGET.epsilon, `one more would give ε=${oneMore}`);
    const [b] = await ledger.budgets("zcdp");
    assert.equal(b!.composition, "zcdp");
    assert.ok(Math.abs(b!.spentEpsilon - c.epsilon) < 1e-9);
    assert.ok(Math.abs(b!.rhoBudget! - rhoForEpsilon(1, 5e-7)) < 1e-15);
  });
});

Deno.test("Ledger (zCDP budget) fits more small Laplace answers than basic composition; partition-selection δ is capped", async () => {
  await withLedger(async (ledger) => {
    const laplace = (dataset: string): Charge => ({
      dataset,
      analyst: "ada",
      query: "select count(*) from visits",
      mechanism: "laplace",
      epsilon: 0.02,
      delta: 0,
    });
    await ledger.setBudget("basic", BUDGET);
    await ledger.setBudget("zcdp", { ...BUDGET, composition: "zcdp" });
    const basic = await fill(ledger, laplace("basic"));
    const zcdp = await fill(ledger, laplace("zcdp"));
    assert.equal(basic, 50);
    assert.ok(zcdp > 1.5 * basic, `zCDP fit ${zcdp}, basic ${basic}`);
    const c = await composedFromEntries(ledger, "zcdp", BUDGET.delta / 2);
    assert.ok(c.epsilon <= BUDGET.epsilon * (1 + 1e-9), JSON.stringify(c));
    assert.equal(zcdp, Math.floor(rhoForEpsilon(1, 5e-7) / (0.02 ** 2 / 2)));

    // A few large Laplace answers fit better under basic composition (ε²/2 is loose for them): why it is per budget.
    await ledger.setBudget("basic-large", BUDGET);
    await ledger.setBudget("zcdp-large", { ...BUDGET, composition: "zcdp" });
    const large = (dataset: string) => ({ ...laplace(dataset), epsilon: 0.1 });
    assert.equal(await fill(ledger, large("basic-large")), 10);
    assert.equal(await fill(ledger, large("zcdp-large")), 4);

    // (ε, δ) answers draw their δ from the share kept for them (δ/2 here): two of δ = 2e-7 fit, a third does not.
    await ledger.setBudget("groups", { epsilon: 10, delta: 1e-6, composition: "zcdp" });
    const grouped: Charge = {
      dataset: "groups",
      analyst: "ada",
      query: "select region, count(*) from visits group by region",
      mechanism: "laplace+partition-selection",
      epsilon: 0.1,
      delta: 2e-7,
    };
    assert.equal(await fill(ledger, grouped), 2);
    const [g] = await ledger.budgets("groups");
    assert.ok(g!.spentDelta <= 1e-6 * (1 + 1e-12), `δ spent ${g!.spentDelta}`);
  });
});

Deno.test("Ledger (zCDP budget): 60 concurrent Gaussian answers record exactly as many as fit one after another", async () => {
  await withLedger(async (ledger) => {
    const sigma = 5; // ρ = 0.02 each
    const charge = (i: number): Charge => ({
      dataset: "patients",
      analyst: `analyst${i % 6}`,
      query: `q${i}`,
      mechanism: "gaussian",
      epsilon: 0.5,
      delta: 1e-7,
      parts: [{ kind: "gaussian", sigma }],
    });
    await ledger.setBudget("patients", { ...BUDGET, composition: "zcdp" });
    const rhoB = rhoForEpsilon(BUDGET.epsilon, BUDGET.delta / 2);
    const fits = Math.floor(rhoB / (1 / (2 * sigma * sigma)) * (1 + 1e-9));
    assert.ok(fits >= 1 && fits < 60, `fits ${fits}`);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        ledger.spend(charge(i), async () => {
          await new Promise((r) => setTimeout(r, 3));
          return i;
        })),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, fits);
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.ok(refused.every((r) => r.reason instanceof MercuryError && /ρ=/.test(r.reason.message)));
    const c = await composedFromEntries(ledger, "patients", BUDGET.delta / 2);
    assert.equal(c.n, fits);
    assert.ok(c.rho <= rhoB * (1 + 1e-9) && c.epsilon <= BUDGET.epsilon * (1 + 1e-9));
  }, 10);
});

Deno.test("Ledger (zCDP budget) rejects bad set-ups and parts with one clear line", async () => {
  await withLedger(async (ledger) => {
    await assert.rejects(
      ledger.setBudget("x", { epsilon: 1, delta: 0, composition: "zcdp" }),
      /zCDP composition needs δ > 0/,
    );
    await assert.rejects(
      ledger.setBudget("x", { epsilon: 1, delta: 1e-6, composition: "zcdp", approxDelta: 1e-6 }),
      /approxDelta < δ/,
    );
    await ledger.setBudget("x", BUDGET);
    const base = { dataset: "x", analyst: "ada", query: "q", mechanism: "gaussian", epsilon: 0.1, delta: 0 };
    await ledger.spend(base, () => Promise.resolve(1));
    // Spent under basic composition: it cannot switch.
    await assert.rejects(
      ledger.setBudget("x", { ...BUDGET, composition: "zcdp" }),
      (e: unknown) => e instanceof MercuryError && e.code === "conflict" && /cannot switch to zcdp/.test(e.message),
    );
    await assert.rejects(
      ledger.spend({ ...base, parts: [{ kind: "gaussian", sigma: 0 }] }, () => Promise.resolve(1)),
      /cost part 0: sigma must be a finite number > 0/,
    );
    assert.equal((await ledger.entries("x")).length, 1);
  });
});
