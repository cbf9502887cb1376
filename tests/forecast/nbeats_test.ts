import assert from "node:assert/strict";
import { forecastBatch, type Series } from "@mercury/forecast";
import { fitNBeats, restoreNBeats } from "@mercury/forecast/neural";
import { runScript } from "../_helpers.ts";

/** Four seasonal series of different levels (m = 6), plus one too short to use. */
function batchSeries(): Series[] {
  const mk = (id: string, level: number, n: number): Series => {
    const y = Array.from({ length: n }, (_, t) => level * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 6)) + (t % 5) * 0.1);
    return { id, ds: y.map((_, t) => t), y, filled: 0 };
  };
  return [mk("a", 10, 90), mk("b", 100, 70), mk("c", 1000, 80), mk("d", 50, 30), mk("short", 5, 2)];
}

const TINY = { lookback: 2, units: 16, blocks: 2, epochs: 8, samples: 400, batchSize: 64 };

Deno.test("nbeats in forecastBatch: one network for the batch, seeded, intervals, a too-short series reported", async () => {
  const opts = { algorithm: "nbeats", params: TINY, season: 6, stepMs: 1, h: 6, levels: [80, 95] };
  const r = await forecastBatch(batchSeries(), opts);
  assert.deepEqual(r.forecasts.map((f) => f.id).sort(), ["a", "b", "c", "d"]);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.error, /series short has 2 points; nbeats .* needs at least 3/);
  for (const f of r.forecasts) {
    assert.match(f.model, /N-BEATS\(global over 4 series/);
    const [i80, i95] = f.intervals;
    for (let k = 0; k < 6; k++) {
      assert.ok(i95!.lower[k]! <= i80!.lower[k]! && i80!.lower[k]! <= f.mean[k]!, `${f.id} lower nest at ${k}`);
      assert.ok(f.mean[k]! <= i80!.upper[k]! && i80!.upper[k]! <= i95!.upper[k]!, `${f.id} upper nest at ${k}`);
    }
  }
  // Scaled per window, one network serves levels 10 to 1000: each forecast stays near its own series' level.
  const c = r.forecasts.find((f) => f.id === "c")!, a = r.forecasts.find((f) => f.id === "a")!;
  assert.ok(Math.abs(c.mean[0]! - 1000) < 400 && Math.abs(a.mean[0]! - 10) < 4, `${c.mean[0]} ${a.mean[0]}`);
  const again = await forecastBatch(batchSeries(), opts);
  assert.deepEqual(again.forecasts.map((f) => f.mean), r.forecasts.map((f) => f.mean), "same seed, same forecasts");
});

Deno.test("nbeats as an ensemble member of a batch: median works, weighted is refused per series", async () => {
  const base = { algorithm: "ensemble", season: 6, stepMs: 1, h: 6, levels: [95], workers: 1 };
  const members = ["seasonal_naive", "nbeats", "naive"];
  const ok = await forecastBatch(batchSeries().slice(0, 4), {
    ...base,
    params: { combination: "median", members, memberParams: { nbeats: TINY } },
  });
  assert.equal(ok.errors.length, 0, JSON.stringify(ok.errors));
  assert.match(ok.forecasts[0]!.model, /nbeats\(global\)/);
  const bad = await forecastBatch(batchSeries().slice(0, 2), {
    ...base,
    params: { combination: "weighted", members, memberParams: { nbeats: TINY } },
  });
  assert.equal(bad.forecasts.length, 0);
  assert.match(bad.errors[0]!.error, /nbeats is a global model: combine it by mean or median/);
});

Deno.test("a trained N-BEATS network restores from its state to the same forecast", async () => {
  const ys = batchSeries().slice(0, 4).map((s) => s.y);
  const fit = await fitNBeats(ys, 6, { ...TINY, lookback: [2, 3], horizon: 6 });
  const state = JSON.parse(JSON.stringify(fit.state()));
  const back = await restoreNBeats(state);
  const a = fit.forecast(ys[2]!, 9, [80]), b = back.forecast(ys[2]!, 9, [80]);
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(a.mean[k]! - b.mean[k]!) < 1e-3 * (1 + Math.abs(a.mean[k]!)));
  assert.equal(state.calib.length, 6);
  fit.dispose();
  back.dispose();
});

Deno.test("forecast batch --algorithm nbeats writes a forecast for every series", async () => {
  const tmp = await Deno.makeTempDir();
  const rows = batchSeries().slice(0, 4).flatMap((s) => s.y.map((v, t) => `${s.id},${t},${v}`));
  await Deno.writeTextFile(`${tmp}/long.csv`, "unique_id,ds,y\n" + rows.join("\n") + "\n");
  const r = await runScript("plugins/forecast/cli.ts", [
    "batch",
    "--data",
    `${tmp}/long.csv`,
    "--freq",
    "index",
    "--season",
    "6",
    "--horizon",
    "6",
    "--algorithm",
    "nbeats",
    "--params",
    JSON.stringify(TINY),
    "--output",
    `${tmp}/f.csv`,
    "--errors",
    `${tmp}/e.csv`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = (await Deno.readTextFile(`${tmp}/f.csv`)).trim().split("\n");
  assert.equal(lines.length, 1 + 4 * 6);
  assert.match(lines[0]!, /unique_id,ds,forecast,lo80,hi80,lo95,hi95/);
  await Deno.remove(tmp, { recursive: true });
});
