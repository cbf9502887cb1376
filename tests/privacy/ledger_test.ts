import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { withLedger } from "./_setup.ts";

const charge = (epsilon: number, analyst = "ada") => ({
  dataset: "patients",
  analyst,
  query: "select count(*) from patients",
  mechanism: "laplace",
  epsilon,
  delta: 0,
});

Deno.test("Ledger records each query's cost and refuses one that would pass the budget before it runs", async () => {
  await withLedger(async (ledger) => {
    await ledger.setBudget("patients", { epsilon: 1, delta: 1e-6 });
    const r = await ledger.spend(charge(0.6), () => Promise.resolve(42));
    assert.equal(r.value, 42);
    assert.ok(Math.abs(r.remaining.epsilon - 0.4) < 1e-12);
    let ran = false;
    await assert.rejects(
      ledger.spend(charge(0.5), () => {
        ran = true;
        return Promise.resolve(0);
      }),
      (e: unknown) => e instanceof MercuryError && e.code === "conflict" && /budget exhausted/.test(e.message),
    );
    assert.equal(ran, false);
    const entries = await ledger.entries("patients");
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.epsilon, 0.6);
    assert.ok(Math.abs((await ledger.remaining("patients", "ada")).epsilon - 0.4) < 1e-12);
  });
});

Deno.test("Ledger keeps no entry and no charge when the query fails", async () => {
  await withLedger(async (ledger) => {
    await ledger.setBudget("patients", { epsilon: 1, delta: 1e-6 });
    await assert.rejects(ledger.spend(charge(0.3), () => Promise.reject(new Error("duckdb died"))), /duckdb died/);
    assert.deepEqual(await ledger.entries("patients"), []);
    const [b] = await ledger.budgets("patients");
    assert.equal(b!.spentEpsilon, 0);
  });
});

Deno.test("Ledger enforces a per-analyst budget inside the dataset's", async () => {
  await withLedger(async (ledger) => {
    await ledger.setBudget("patients", { epsilon: 2, delta: 1e-6 });
    await ledger.setBudget("patients", { epsilon: 0.5, delta: 1e-6 }, "bob");
    await ledger.spend(charge(0.4, "bob"), () => Promise.resolve(1));
    await assert.rejects(ledger.spend(charge(0.2, "bob"), () => Promise.resolve(1)), /analyst 'bob'/);
    await ledger.spend(charge(1.5, "ada"), () => Promise.resolve(1)); // ada has no own budget: the dataset's
    await assert.rejects(ledger.spend(charge(0.2, "ada"), () => Promise.resolve(1)), /dataset 'patients'/);
  });
});

Deno.test("Ledger: 40 concurrent spends of ε = 0.1 on a budget of 1 never overspend", async () => {
  await withLedger(async (ledger) => {
    await ledger.setBudget("patients", { epsilon: 1, delta: 1e-6 });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        ledger.spend(charge(0.1, `analyst${i % 5}`), async () => {
          await new Promise((r) => setTimeout(r, 5)); // the query takes a while
          return i;
        })),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    assert.equal(ok, 10);
    const entries = await ledger.entries("patients");
    assert.equal(entries.length, 10);
    const spent = entries.reduce((s, e) => s + e.epsilon, 0);
    assert.ok(spent <= 1 + 1e-9, `spent ${spent}`);
    const [b] = await ledger.budgets("patients");
    assert.ok(Math.abs(b!.spentEpsilon - spent) < 1e-12);
  }, 10);
});

Deno.test("Ledger rejects bad costs and unknown datasets with clear errors", async () => {
  await withLedger(async (ledger) => {
    await assert.rejects(ledger.setBudget("x", { epsilon: 0, delta: 0 }), /epsilon must be a finite number > 0/);
    await assert.rejects(ledger.setBudget("x", { epsilon: 1, delta: 1 }), /delta must lie in \[0, 1\)/);
    await assert.rejects(ledger.spend(charge(0.1), () => Promise.resolve(0)), /no privacy budget is set/);
    await assert.rejects(ledger.spend(charge(-1), () => Promise.resolve(0)), /epsilon must be a finite number > 0/);
  });
});
