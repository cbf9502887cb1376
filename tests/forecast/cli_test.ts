import assert from "node:assert/strict";
import { runScript } from "../_helpers.ts";

const dir = new URL("./testdata/", import.meta.url).pathname;
const cli = "plugins/forecast/cli.ts";

Deno.test("forecast CLI", async (t) => {
  const tmp = await Deno.makeTempDir();
  await t.step("the documented train, predict and compare examples work as written", async () => {
    for (const [alg, out] of [["prophet", "model1.pkl"], ["theta", "model2.pkl"], ["naive2", "model3.pkl"]]) {
      const r = await runScript(cli, [
        "train",
        "--data",
        `${dir}hourly.csv`,
        "--algorithm",
        alg!,
        "--output",
        `${tmp}/${out}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /wrote .*format v1/);
    }
    await Deno.copyFile(`${tmp}/model1.pkl`, `${tmp}/model.pkl`);
    const p = await runScript(cli, [
      "predict",
      "--model-path",
      `${tmp}/model.pkl`,
      "--future-periods",
      "30",
      "--output",
      `${tmp}/f.csv`,
    ]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await Deno.readTextFile(`${tmp}/f.csv`)).trim().split("\n").length, 31);
    const c = await runScript(cli, [
      "compare",
      "--models",
      `${tmp}/model1.pkl`,
      `${tmp}/model2.pkl`,
      `${tmp}/model3.pkl`,
      "--chart",
      `${tmp}/c.svg`,
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /prophet/);
    assert.match(c.stdout, /naive2/);
    assert.match(await Deno.readTextFile(`${tmp}/c.svg`), /^<svg/);
  });
  await t.step("bad input: one line, non-zero exit", async () => {
    const unknown = await runScript(cli, ["train", "--data", `${dir}hourly.csv`, "--algorithm", "magic"]);
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /unknown algorithm "magic".*hint/);
    // (Deno's own "Blocking waiting for file lock on node_modules" notices, printed when other processes hold the
    // lock, are not the CLI's output)
    const ours = unknown.stderr.trim().split("\n").filter((l) => !l.includes("waiting for file lock"));
    assert.equal(ours.length, 1, unknown.stderr);
    const zero = await runScript(cli, ["predict", "--model-path", `${tmp}/model.pkl`, "--future-periods", "0"]);
    assert.equal(zero.code, 64);
    await Deno.writeTextFile(`${tmp}/bad.pkl`, '{"format":"mercury-forecast-model","formatVersion":1,');
    const corrupt = await runScript(cli, ["predict", "--model-path", `${tmp}/bad.pkl`]);
    assert.equal(corrupt.code, 65);
    assert.match(corrupt.stderr, /bad\.pkl is corrupt/);
    const short = await runScript(cli, [
      "train",
      "--data",
      `${dir}long.csv`,
      "--series",
      "H3",
      "--algorithm",
      "seasonal_naive",
    ]);
    assert.equal(short.code, 65);
    assert.match(short.stderr, /series H3 has 20 points; seasonal_naive with season 24 needs at least 25/);
    // AutoETS, as statsforecast's, falls back to a non-seasonal model on a series shorter than two seasons and says so.
    const fallback = await runScript(cli, [
      "train",
      "--data",
      `${dir}long.csv`,
      "--series",
      "H3",
      "--algorithm",
      "auto_ets",
      "--output",
      `${tmp}/short.pkl`,
    ]);
    assert.equal(fallback.code, 0, fallback.stderr);
    assert.match(fallback.stdout + fallback.stderr, /non-seasonal: 20 points < 50 for season 24/);
    const many = await runScript(cli, ["train", "--data", `${dir}long.csv`]);
    assert.match(many.stderr, /holds 3 series; choose one with --series/);
  });
  await t.step("batch reports the failed series and forecasts the rest", async () => {
    const r = await runScript(cli, [
      "batch",
      "--data",
      `${dir}long.csv`,
      "--algorithm",
      "seasonal_naive",
      "--horizon",
      "6",
      "--workers",
      "2",
      "--output",
      `${tmp}/b.csv`,
      "--errors",
      `${tmp}/e.csv`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2\/3 series forecast/);
    const rows = (await Deno.readTextFile(`${tmp}/b.csv`)).trim().split("\n");
    assert.equal(rows.length, 1 + 2 * 6);
    assert.match(await Deno.readTextFile(`${tmp}/e.csv`), /H3,series H3 has 20 points/);
  });
  await t.step("backtest, detect and tune print their reports", async () => {
    const b = await runScript(cli, [
      "backtest",
      "--data",
      `${dir}hourly.csv`,
      "--algorithm",
      "seasonal_naive",
      "--windows",
      "2",
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /coverage: 80% → [\d.]+%/);
    const spiky = (await Deno.readTextFile(`${dir}hourly.csv`)).trim().split("\n");
    spiky[100] = spiky[100]!.replace(/,[\d.]+$/, ",99999");
    await Deno.writeTextFile(`${tmp}/spiky.csv`, spiky.join("\n"));
    const d = await runScript(cli, ["detect", "--data", `${tmp}/spiky.csv`, "--method", "decomposition"]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /anomalies in 240 points/);
    assert.match(d.stdout, /99999/);
    const tn = await runScript(cli, [
      "tune",
      "--data",
      `${dir}hourly.csv`,
      "--algorithms",
      "naive,seasonal_naive,theta",
      "--metric",
      "smape",
      "--output",
      `${tmp}/best.pkl`,
    ]);
    assert.equal(tn.code, 0, tn.stderr);
    assert.match(tn.stdout, /leaderboard .* by SMAPE/);
    assert.match(tn.stdout, /wrote the winner/);
  });
  await t.step("train --clean replaces anomalies before fitting", async () => {
    const lines = (await Deno.readTextFile(`${dir}hourly.csv`)).trim().split("\n");
    const spike = lines[100]!.replace(/,[\d.]+$/, ",99999");
    lines[100] = spike;
    await Deno.writeTextFile(`${tmp}/spike.csv`, lines.join("\n"));
    const stored = async (clean: boolean) => {
      const out = `${tmp}/clean-${clean}.pkl`;
      const args = ["train", "--data", `${tmp}/spike.csv`, "--algorithm", "seasonal_naive", "--output", out];
      const r = await runScript(cli, clean ? [...args, "--clean"] : args);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(await Deno.readTextFile(out));
    };
    const raw = await stored(false);
    const cleaned = await stored(true);
    assert.equal(Math.max(...raw.model.state.y), 99999);
    assert.ok(Math.max(...cleaned.model.state.y) < 1000, "the spike is gone from the fitted series");
    assert.equal(cleaned.model.state.y.length, 240);
    assert.notEqual(cleaned.fingerprint, raw.fingerprint);
  });
  await t.step("compare --data scores an ensemble's MASE and each model on its own series", async () => {
    const rows = (await Deno.readTextFile(`${dir}long.csv`)).trim().split("\n").slice(1).map((l) => l.split(","));
    const of = (id: string) => rows.filter((r) => r[0] === id);
    const head = "unique_id,ds,y\n";
    const trainRows = [...of("H2").slice(0, -24), ...of("H4").slice(0, -24)];
    const holdRows = [...of("H2").slice(-24), ...of("H4").slice(-24)];
    await Deno.writeTextFile(`${tmp}/tr.csv`, head + trainRows.map((r) => r.join(",")).join("\n") + "\n");
    await Deno.writeTextFile(`${tmp}/ho.csv`, head + holdRows.map((r) => r.join(",")).join("\n") + "\n");
    const fit = async (series: string, alg: string, out: string, params?: string) => {
      const args = ["train", "--data", `${tmp}/tr.csv`, "--series", series, "--algorithm", alg, "--output", out];
      const r = await runScript(cli, [
        ...args,
        "--horizon",
        "0",
        "--registry",
        "off",
        ...(params ? ["--params", params] : []),
      ]);
      assert.equal(r.code, 0, r.stderr);
    };
    await fit("H2", "ensemble", `${tmp}/ens.pkl`, '{"members":["seasonal_naive","naive2"],"combination":"mean"}');
    await fit("H4", "seasonal_naive", `${tmp}/sn.pkl`);
    const c = await runScript(cli, [
      "compare",
      "--models",
      `${tmp}/ens.pkl`,
      `${tmp}/sn.pkl`,
      "--data",
      `${tmp}/ho.csv`,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const line = (name: string) => c.stdout.split("\n").find((l) => l.includes(name))!.trim().split(/\s+/);
    const cols = c.stdout.split("\n").find((l) => l.startsWith("model"))!.trim().split(/\s+/);
    // descriptions have spaces: count the metric columns from the right
    const maseOf = (name: string) => Number(line(name).at(cols.indexOf("mase") - cols.length));
    assert.ok(Number.isFinite(maseOf("ens.pkl")), `the ensemble has a MASE:\n${c.stdout}`);
    // seasonal naive on H4, scored on H4's hold-out (not H2's): MASE by hand
    const y = of("H4").slice(0, -24).map((r) => Number(r[2])), a = of("H4").slice(-24).map((r) => Number(r[2]));
    let scale = 0;
    for (let t = 24; t < y.length; t++) scale += Math.abs(y[t]! - y[t - 24]!);
    scale /= y.length - 24;
    const expected = a.reduce((s, v, t) => s + Math.abs(v - y[y.length - 24 + t]!), 0) / 24 / scale;
    assert.ok(Math.abs(maseOf("sn.pkl") - expected) < 1e-3 * expected, `${maseOf("sn.pkl")} vs ${expected}`);
  });
  await t.step("--help everywhere", async () => {
    for (const cmd of ["", "train", "predict", "compare", "backtest", "detect", "tune", "batch", "models"]) {
      const r = await runScript(cli, cmd ? [cmd, "--help"] : ["--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /forecast/);
    }
    const viaMercury = await runScript("tasks/mercury.ts", ["forecast", "--help"]);
    assert.match(viaMercury.stdout, /train.*\n.*predict/s);
  });
  await Deno.remove(tmp, { recursive: true });
});
