import assert from "node:assert/strict";
import { ALGORITHMS, gridCombinations, tune } from "@mercury/forecast";
import { runScript } from "../_helpers.ts";
import { seasonalSeries } from "./forecaster_suite.ts";

const y = seasonalSeries(144, 12);
const bt = { h: 12, windows: 3, season: 12 };

Deno.test("tune(): successive halving scores every candidate on 1 window and the best third on 3", async () => {
  const board = await tune(y, ["theta", "optimized_theta"], bt, "mase", {}, { strategy: "halving" });
  const total = gridCombinations(ALGORITHMS.get("theta")!.grid).length +
    gridCombinations(ALGORITHMS.get("optimized_theta")!.grid).length;
  assert.equal(total, 14, "theta's grid (θ × seasonal adjustment) and optimised theta's");
  assert.equal(board.length, total);
  const survivors = board.filter((r) => r.windows === 3);
  assert.equal(survivors.length, Math.ceil(total / 3));
  assert.ok(board.slice(0, survivors.length).every((r) => r.windows === 3), "survivors rank first");
  const worstSurvivorOnOne = Math.max(...survivors.map((r) => r.rank));
  assert.equal(worstSurvivorOnOne, survivors.length);
  // The seasonal series needs its seasonal adjustment: the winner keeps it.
  assert.equal(board[0]!.params.seasonal, true);
});

Deno.test("tune(): a time budget stops the search early; random order is seeded", async () => {
  const quick = await tune(y, ["auto_ets"], bt, "mase", {}, { strategy: "random", budgetMs: 1 });
  assert.equal(quick.length, 1, "at least one candidate, then the 1 ms budget is spent");
  const a = await tune(y, ["theta"], { ...bt, windows: 1 }, "mase", {}, { strategy: "random", seed: 7, budgetMs: 1 });
  const b = await tune(y, ["theta"], { ...bt, windows: 1 }, "mase", {}, { strategy: "random", seed: 7, budgetMs: 1 });
  assert.deepEqual(a[0]!.params, b[0]!.params);
  const all = await tune(y, ["theta"], { ...bt, windows: 1 }, "mase", {}, { strategy: "random", seed: 7 });
  assert.equal(all.length, 12, "no budget: every candidate");
});

Deno.test("forecast tune --budget searches theta and mstl grids and says how much it covered", async () => {
  const r = await runScript("plugins/forecast/cli.ts", [
    "tune",
    "--data",
    new URL("./testdata/hourly.csv", import.meta.url).pathname,
    "--algorithms",
    "theta,mstl",
    "--horizon",
    "24",
    "--budget",
    "60s",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /halving search, 16 of 16 candidates within 1m/);
  assert.match(r.stdout, /"multiples":\[1,7\]/);
  assert.match(r.stdout, /"theta":2.5,"seasonal":false/);
  const bad = await runScript("plugins/forecast/cli.ts", ["tune", "--data", "x.csv", "--budget", "soon"]);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /--budget/);
});
