/**
 * The forecast plugin's front doors are light: the manifest and the `forecast` CLI load no npm package before a
 * command runs, and `@mercury/forecast` loads no TensorFlow.js, augurs wasm, DuckDB or vega until a model or a read
 * needs it.
 */
import assert from "node:assert/strict";
import { staticImportGraph } from "@mercury/core/testing";
import { MercuryError } from "@mercury/core";
import { ALGORITHMS, createForecaster, manifest, restoreForecaster, runForecast } from "@mercury/forecast";
import { manifest as lightManifest } from "@mercury/forecast/manifest";
import { ALGORITHM_NAMES } from "../../plugins/forecast/_names.ts";
import { ROOT } from "../_helpers.ts";

/** Every module `entry` loads before any dynamic import runs (core's static-graph walk). */
const staticGraph = (entry: string) => staticImportGraph(entry, ROOT);

const npm = (graph: string[]) => graph.filter((s) => s.startsWith("npm:") || s.includes("/node_modules/"));
const forecastModules = (graph: string[]) =>
  graph.filter((s) => s.includes("/plugins/forecast/")).map((s) => s.replace(/^.*\/plugins\/forecast\//, "")).sort();

Deno.test("forecast manifest.ts and cli.ts statically import no npm package and no model", async () => {
  for (const entry of ["plugins/forecast/manifest.ts", "plugins/forecast/cli.ts"]) {
    const graph = await staticGraph(entry);
    assert.deepEqual(npm(graph), [], entry);
    const own = forecastModules(graph).filter((m) => m !== "cli.ts");
    assert.deepEqual(own, ["_limits.ts", "_names.ts", "manifest.ts", "metrics.ts"], entry);
  }
});

Deno.test("@mercury/forecast (mod.ts) statically imports no npm package: no TensorFlow.js, augurs, DuckDB or vega", async () => {
  assert.deepEqual(npm(await staticGraph("plugins/forecast/mod.ts")), []);
  // The check itself can fail: the neural and prophet entry points do reach their packages statically.
  assert.ok(npm(await staticGraph("plugins/forecast/neural.ts")).some((s) => s.includes("@tensorflow/tfjs")));
  assert.ok(npm(await staticGraph("plugins/forecast/prophet.ts")).some((s) => s.includes("@bsull/augurs")));
});

Deno.test("a program using @mercury/forecast for ETS never evaluates TensorFlow.js; fitting an LSTM loads it", async () => {
  const script = `
    const f = await import("@mercury/forecast");
    const y = Array.from({ length: 48 }, (_, t) => 10 + (t % 12));
    const ets = f.createForecaster("auto_ets");
    await ets.fit(y, { season: 12 });
    const lstm = f.createForecaster("lstm", { lookback: 12, horizon: 6, epochs: 1, units: 2, calibration: 4 });
    const before = "_tfengine" in globalThis;
    await lstm.fit(y, { season: 12 });
    console.log(JSON.stringify({ before, after: "_tfengine" in globalThis, ets: ets.predict(3).mean.length,
      lstm: lstm.predict(3).mean.length, algorithm: lstm.algorithm }));
  `;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", script], cwd: ROOT }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  assert.deepEqual(r, { before: false, after: true, ets: 3, lstm: 3, algorithm: "lstm" });
});

Deno.test("lazily loaded models: unfitted describe() and errors, restore through the registry", async () => {
  const m = createForecaster("mstl");
  assert.equal(m.algorithm, "mstl");
  assert.equal(m.describe(), "mstl (not fitted)");
  assert.throws(() => m.predict(3), /mstl: fit\(\) first/);
  const y = Array.from({ length: 96 }, (_, t) => 20 + 5 * Math.sin((2 * Math.PI * t) / 24));
  await m.fit(y, { season: 24 });
  const back = await restoreForecaster(m.toJSON());
  assert.equal(back.algorithm, "mstl");
  assert.deepEqual(back.predict(24, [80]).mean, m.predict(24, [80]).mean);
});

Deno.test("forecast manifest: the algorithm names it lists are the registry's; every command runs lazily", () => {
  assert.deepEqual([...ALGORITHM_NAMES], [...ALGORITHMS.keys()]);
  assert.equal(manifest, lightManifest);
  assert.deepEqual(Object.keys(manifest.commands), [
    "train",
    "predict",
    "compare",
    "backtest",
    "detect",
    "tune",
    "batch",
    "models",
  ]);
  for (const [name, cmd] of Object.entries(manifest.commands)) {
    assert.ok(cmd.summary, `${name} has a summary`);
    assert.equal(typeof cmd.run, "function", `${name} has a run`);
  }
});

Deno.test("forecast options: bad values are usage errors in core's one format; help shows types and choices", async () => {
  const data = new URL("./testdata/hourly.csv", import.meta.url).pathname;
  const cases: [string[], RegExp][] = [
    [["backtest", "--data", data, "--windows", "x"], /^--windows must be an integer ≥ 1, got 'x'$/],
    [["backtest", "--data", data, "--season", "0"], /^--season must be an integer ≥ 1, got '0'$/],
    [["detect", "--data", data, "--fill", "nope"], /^--fill must be one of linear, previous, zero, error, got 'nope'$/],
    [["detect", "--data", data, "--method", "x"], /^--method must be one of residual, decomposition, got 'x'$/],
    [["detect", "--data", data, "--threshold", "0"], /^--threshold must be a number > 0, got '0'$/],
    [["tune", "--data", data, "--metric", "x"], /^--metric must be one of mase, smape, rmse, mape, crps, got 'x'$/],
    [["predict", "--levels", "120"], /^--levels must be percentages between 0 and 100, got '120'$/],
    [["predict", "--future-periods", "2.5"], /^--future-periods must be an integer ≥ 1, got '2.5'$/],
    [["train", "--data", data, "--horizon", "-1"], /^--horizon must be an integer ≥ 0, got '-1'$/],
    [["predict", "--max-horizon", "1e3"], /^--max-horizon must be an integer ≥ 1, got '1e3'$/],
    [["train", "--data", data, "--params", "[1]"], /^--params must be a JSON object, got '\[1\]'$/],
    [
      ["train", "--data", data, "--model-version", "1.0"],
      /^--model-version must be a semantic version \(x\.y\.z\), got '1\.0'$/,
    ],
  ];
  for (const [argv, message] of cases) {
    await assert.rejects(() => runForecast(argv, () => {}), (e) => {
      assert.ok(e instanceof MercuryError, String(e));
      assert.equal(e.exitCode, 64, e.message);
      assert.match(e.message, message);
      return true;
    }, argv.join(" "));
  }
  const help: string[] = [];
  assert.equal(await runForecast(["detect", "--help"], (l) => help.push(l)), 0);
  assert.match(help.join("\n"), /--method M .*one of residual, decomposition; default: residual/);
  assert.match(help.join("\n"), /--season M .*integer ≥ 1/);
});
