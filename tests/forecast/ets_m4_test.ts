import { AutoETS, etsAdmissible, nelderMeadBounded, smape } from "@mercury/forecast";
import assert from "node:assert/strict";

/** One M4 Hourly series: its training part and the 48 points that followed. */
function m4(id: string): { y: number[]; actual: number[] } {
  const row = (file: string) => {
    const line = Deno.readTextFileSync(new URL(`../../data/m4/${file}`, import.meta.url)).split("\n")
      .find((l) => l.startsWith(`"${id}"`))!;
    return line.split(",").slice(1).map((c) => c.replaceAll('"', "")).filter((c) => c !== "").map(Number);
  };
  return { y: row("Hourly-train.csv"), actual: row("Hourly-test.csv") };
}

async function etsSmape(id: string, params: ConstructorParameters<typeof AutoETS>[0] = {}) {
  const { y, actual } = m4(id);
  const m = new AutoETS(params);
  await m.fit(y, { season: 24 });
  return { model: m.describe(), smape: smape(actual, m.predict(48, []).mean) };
}

Deno.test("AutoETS on M4 Hourly series (regression guards for the statsforecast-style fit)", async (t) => {
  await t.step("H1: optimised initial states reproduce statsforecast (ETS(A,N,A), sMAPE 2.95)", async () => {
    const r = await etsSmape("H1");
    assert.equal(r.model, "ETS(A,N,A)"); // statsforecast 2.1.1 picks ETS(A,N,A), sMAPE 2.95
    assert.ok(r.smape < 3.2, `sMAPE ${r.smape}`);
    // the previous fit (seasonal states from a decomposition of the last four cycles) scored 6.74
    const fixed = await etsSmape("H1", { states: "fixed" });
    assert.ok(fixed.smape > r.smape + 0.5, `fixed-state sMAPE ${fixed.smape} vs ${r.smape}`);
  });
  await t.step("H3: the seasonality rule keeps a seasonal model where statsforecast falls to ETS(A,N,N)", async () => {
    const free = await etsSmape("H3", { seasonalOnly: false });
    assert.equal(free.model, "ETS(A,N,N)"); // statsforecast's choice too, sMAPE 21.95
    const r = await etsSmape("H3");
    assert.match(r.model, /,[AM]\)$/);
    assert.ok(r.smape < 12 && r.smape < free.smape - 8, `sMAPE ${r.smape} vs ${free.smape}`);
  });
});

Deno.test("the admissible region and the bounded Nelder–Mead", async (t) => {
  await t.step("admissible: stable seasonal parameters pass, explosive ones fail", () => {
    assert.equal(etsAdmissible(0.1, NaN, 0.1, 1, 24), true);
    assert.equal(etsAdmissible(0.5, 0.1, NaN, 0.9, 1), true);
    assert.equal(etsAdmissible(1.9, NaN, 0.5, 1, 24), false);
    assert.equal(etsAdmissible(0.1, -0.5, 0.1, 0.9, 24), false);
  });
  await t.step("bounded Nelder–Mead stays in the box and finds the constrained minimum", () => {
    const target = [-2, -1, 0, 1, 2];
    const f = (x: number[]) => x.reduce((s, v, i) => s + (i + 1) * (v - target[i]!) ** 2, 0);
    const r = nelderMeadBounded(f, target.map(() => 1), {
      lower: target.map(() => -1.5),
      upper: target.map(() => 3),
      maxIter: 20000,
      tolStd: 1e-12,
    });
    assert.ok(r.x.every((v) => v >= -1.5 && v <= 3));
    assert.ok(Math.abs(r.x[0]! + 1.5) < 1e-6, `x0 = ${r.x[0]}`); // target -2 lies below the bound
    assert.ok(Math.abs(r.x[2]! - 0) < 0.05 && Math.abs(r.x[4]! - 2) < 0.05, `x = ${r.x.slice(0, 5)}`);
  });
});
