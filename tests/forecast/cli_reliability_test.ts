import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";

const dir = new URL("./testdata/", import.meta.url).pathname;
const cli = `${ROOT}/plugins/forecast/cli.ts`;

/**
 * Runs the `forecast` CLI with a 1 GB heap, killed after `limitMs`, and says how long it ran: a command that starts
 * a huge job fails these tests by its exit code and time instead of eating the shared machine.
 */
async function forecast(args: string[], limitMs = 20_000) {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--max-old-space-size=1024", cli, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(limitMs),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - t0,
  };
}

/** Asserts a fast failure: the exit code, one line on stderr matching `pattern`, under 10 s. */
function failsFast(r: Awaited<ReturnType<typeof forecast>>, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.ok(r.ms < 10_000, `took ${Math.round(r.ms)} ms`);
}

const entries = (path: string) => [...Deno.readDirSync(path)].map((e) => e.name).sort();

Deno.test("forecast CLI: tiny input cannot start huge work", async (t) => {
  const tmp = await Deno.makeTempDir();
  const csv = async (name: string, text: string) => {
    await Deno.writeTextFile(`${tmp}/${name}`, text);
    return `${tmp}/${name}`;
  };
  await t.step("a last index of 1e11 is an input error naming the limit and --max-points", async () => {
    const f = await csv("index.csv", "ds,y\n1,1\n2,2\n3,3\n100000000000,4\n");
    const r = await forecast(["train", "--data", f, "--algorithm", "naive", "--output", `${tmp}/m.pkl`]);
    failsFast(r, 65, /^error\[input\]: .*series series spans 1\.00e\+11 .*the limit is 1000000 points.*--max-points/);
  });
  await t.step("a row in year 9999 is an input error", async () => {
    const f = await csv("y9999.csv", "ds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n9999-01-01,4\n");
    const r = await forecast(["train", "--data", f, "--algorithm", "naive", "--output", `${tmp}/m.pkl`]);
    failsFast(r, 65, /spans .* 1d steps from 2024-01-01.* to 9999-01-01.*line 5.*the limit is 1000000 points/);
    const b = await forecast(["batch", "--data", f, "--output", `${tmp}/b.csv`, "--errors", `${tmp}/e.csv`]);
    failsFast(b, 65, /the limit is 1000000 points/);
  });
  await t.step("--max-points raises or lowers the bound", async () => {
    const f = await csv("gap.csv", "ds,y\n0,1\n1,2\n2,3\n3,4\n2000,5\n");
    const low = await forecast(["detect", "--data", f, "--max-points", "1000", "--method", "decomposition"]);
    failsFast(low, 65, /spans 2\.00e\+3 index steps.*the limit is 1000 points/);
    const ok = await forecast(["detect", "--data", f, "--max-points", "5000", "--method", "decomposition"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /in 2001 points/);
  });
  await t.step("a zero frequency is a usage error", async () => {
    for (const freq of ["0h", "0M", "00min"]) {
      const r = await forecast(["train", "--data", `${dir}hourly.csv`, "--freq", freq, "--output", `${tmp}/m.pkl`]);
      failsFast(r, 64, /^error\[usage\]: frequency "0+(h|M|min)" is not a positive step \(at --freq\)/);
    }
    const neg = await forecast(["backtest", "--data", `${dir}hourly.csv`, "--freq=-1h"]);
    failsFast(neg, 64, /^error\[usage\]: cannot read frequency "-1h"/);
  });
  await t.step("a horizon past --max-horizon is a usage error naming the limit", async () => {
    const m = `${tmp}/naive.pkl`;
    const tr = await forecast(["train", "--data", `${dir}hourly.csv`, "--algorithm", "naive", "--output", m]);
    assert.equal(tr.code, 0, tr.stderr);
    const r = await forecast(["predict", "--model-path", m, "--future-periods", "1000000000"]);
    failsFast(r, 64, /--future-periods 1000000000 is more than the limit of 10000 steps.*--max-horizon/);
    const huge = await forecast(["predict", "--model-path", m, "--future-periods", "1e400"]);
    failsFast(huge, 64, /--future-periods must be an integer ≥ 1, got '1e400'/);
    const low = await forecast(["predict", "--model-path", m, "--future-periods", "12", "--max-horizon", "10"]);
    failsFast(low, 64, /--future-periods 12 is more than the limit of 10 steps/);
    const raised = await forecast([
      "predict",
      "--model-path",
      m,
      "--future-periods",
      "12000",
      "--max-horizon",
      "12000",
    ]);
    assert.equal(raised.code, 0, raised.stderr);
    for (const cmd of ["batch", "backtest", "tune", "compare"]) {
      const args = cmd === "compare" ? ["--models", m] : ["--data", `${dir}hourly.csv`];
      const b = await forecast([cmd, ...args, "--horizon", "1000000000"]);
      failsFast(b, 64, /--horizon 1000000000 is more than the limit of 10000 steps/);
    }
  });
  await t.step("a forecast past the last representable date is an input error", async () => {
    const f = await csv("end.csv", "ds,y\n+275760-09-10,1\n+275760-09-11,2\n+275760-09-12,3\n+275760-09-13,4\n");
    const m = `${tmp}/end.pkl`;
    const tr = await forecast(["train", "--data", f, "--algorithm", "naive", "--output", m]);
    assert.equal(tr.code, 0, tr.stderr);
    const r = await forecast(["predict", "--model-path", m, "--future-periods", "3"]);
    failsFast(r, 65, /^error\[input\]: a forecast date falls past \+275760-09-13/);
  });
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("forecast CLI: outputs are checked first and written all or nothing", async (t) => {
  const tmp = await Deno.makeTempDir();
  const model = `${tmp}/m.pkl`;
  const tr = await forecast(["train", "--data", `${dir}hourly.csv`, "--algorithm", "naive", "--output", model]);
  assert.equal(tr.code, 0, tr.stderr);
  await t.step("predict --output <existing folder> fails and leaves no temp file", async () => {
    await Deno.mkdir(`${tmp}/out`);
    const r = await forecast(["predict", "--model-path", model, "--output", `${tmp}/out`]);
    failsFast(r, 73, /^error\[conflict\]: --output .*\/out: is a folder/);
    assert.deepEqual(entries(tmp), ["m.pkl", "out"]);
    assert.deepEqual(entries(`${tmp}/out`), []);
  });
  await t.step("predict --chart in a missing folder fails before writing --output", async () => {
    const r = await forecast([
      "predict",
      "--model-path",
      model,
      "--output",
      `${tmp}/ok.csv`,
      "--chart",
      `${tmp}/nodir/c.svg`,
    ]);
    failsFast(r, 73, /^error\[conflict\]: --chart .*nodir\/c\.svg: folder .*nodir does not exist/);
    assert.deepEqual(entries(tmp), ["m.pkl", "out"]);
  });
  await t.step("batch --errors in a missing folder fails before writing --output", async () => {
    const r = await forecast([
      "batch",
      "--data",
      `${dir}long.csv`,
      "--algorithm",
      "naive",
      "--output",
      `${tmp}/forecasts.csv`,
      "--errors",
      `${tmp}/nodir/e.csv`,
    ]);
    failsFast(r, 73, /^error\[conflict\]: --errors .*nodir\/e\.csv: folder .*nodir does not exist/);
    assert.deepEqual(entries(tmp), ["m.pkl", "out"]);
  });
  await t.step("every command that writes checks its paths before the work", async () => {
    const cases: [string[], RegExp][] = [
      [["train", "--data", `${dir}hourly.csv`, "--output", `${tmp}/nodir/m.pkl`], /--output .*nodir\/m\.pkl/],
      [["train", "--data", `${dir}hourly.csv`, "--output", `${tmp}/out`], /--output .*\/out: is a folder/],
      [["detect", "--data", `${dir}hourly.csv`, "--output", `${tmp}/out`], /--output .*\/out: is a folder/],
      [["tune", "--data", `${dir}hourly.csv`, "--output", `${tmp}/nodir/b.pkl`], /--output .*nodir\/b\.pkl/],
      [["compare", "--models", model, "--chart", `${tmp}/nodir/c.svg`], /--chart .*nodir\/c\.svg/],
      [
        ["predict", "--model-path", model, "--output", `${tmp}/m.pkl/f.csv`],
        /--output .*m\.pkl\/f\.csv: .* not a folder/,
      ],
    ];
    for (const [args, pattern] of cases) failsFast(await forecast(args), 73, pattern);
    const same = await forecast([
      "batch",
      "--data",
      `${dir}long.csv`,
      "--output",
      `${tmp}/x.csv`,
      "--errors",
      `${tmp}/x.csv`,
    ]);
    failsFast(same, 64, /--errors and --output both name/);
    assert.deepEqual(entries(tmp), ["m.pkl", "out"]);
  });
  await t.step("a folder nobody may write (even root) is refused before the work", async () => {
    const r = await forecast(["predict", "--model-path", model, "--output", "/proc/f.csv"]);
    failsFast(r, 73, /^error\[conflict\]: --output \/proc\/f\.csv: folder \/proc is not writable/);
  });
  await t.step("--output /dev/stdout writes the CSV to standard output and leaves /dev alone", async () => {
    const r = await forecast(["predict", "--model-path", model, "--future-periods", "3", "--output", "/dev/stdout"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^unique_id,ds,forecast,lo80,hi80,lo95,hi95\n(series,.*\n){3}/);
    assert.ok((await Deno.lstat("/dev/stdout")).isSymlink);
    assert.deepEqual(entries("/dev").filter((n) => n.includes(".tmp-") || n.includes(".check-")), []);
  });
  await t.step("a good run writes every output and no temp file", async () => {
    const r = await forecast([
      "predict",
      "--model-path",
      model,
      "--output",
      `${tmp}/out/f.csv`,
      "--chart",
      `${tmp}/out/c.svg`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(entries(`${tmp}/out`), ["c.svg", "f.csv"]);
    assert.match(await Deno.readTextFile(`${tmp}/out/c.svg`), /^<svg/);
  });
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("forecast CLI: an ensemble on too short a series names the member that needs more", async () => {
  const r = await forecast([
    "train",
    "--data",
    `${dir}long.csv`,
    "--series",
    "H3",
    "--algorithm",
    "ensemble",
    "--params",
    '{"members":["auto_arima","seasonal_naive"]}',
  ]);
  failsFast(
    r,
    65,
    /^error\[input\]: series H3 has 20 points; ensemble member seasonal_naive with season 24 needs at least 25/,
  );
  const b = await forecast([
    "backtest",
    "--data",
    `${dir}long.csv`,
    "--series",
    "H3",
    "--algorithm",
    "ensemble",
    "--params",
    '{"members":["naive","lstm"]}',
  ]);
  failsFast(b, 65, /ensemble member lstm with season 24 needs at least 121/);
  const tmp = await Deno.makeTempDir();
  const batch = await forecast([
    "batch",
    "--data",
    `${dir}long.csv`,
    "--algorithm",
    "ensemble",
    "--params",
    '{"members":["naive","drift"],"combination":"mean"}',
    "--horizon",
    "4",
    "--output",
    `${tmp}/f.csv`,
    "--errors",
    `${tmp}/e.csv`,
  ], 60_000);
  assert.equal(batch.code, 0, batch.stderr);
  assert.match(batch.stdout, /3\/3 series forecast/); // the members' own needs, not the default members'
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("forecast CLI: damaged model files are input errors naming the file", async (t) => {
  const tmp = await Deno.makeTempDir();
  const model = `${tmp}/m.pkl`;
  const tr = await forecast(["train", "--data", `${dir}hourly.csv`, "--algorithm", "theta", "--output", model]);
  assert.equal(tr.code, 0, tr.stderr);
  const good = JSON.parse(await Deno.readTextFile(model));
  await t.step("a valid header with an empty state", async () => {
    await Deno.writeTextFile(`${tmp}/empty.pkl`, JSON.stringify({ ...good, model: { ...good.model, state: {} } }));
    const r = await forecast(["predict", "--model-path", `${tmp}/empty.pkl`]);
    failsFast(r, 65, /^error\[input\]: model file .*empty\.pkl has no usable theta state .*\(at .*empty\.pkl\)/);
    const c = await forecast(["compare", "--models", model, `${tmp}/empty.pkl`]);
    failsFast(c, 65, /model file .*empty\.pkl has no usable theta state/);
  });
  await t.step("an unknown algorithm names the file and the algorithm, not --algorithm", async () => {
    await Deno.writeTextFile(
      `${tmp}/magic.pkl`,
      JSON.stringify({ ...good, model: { ...good.model, algorithm: "magic" } }),
    );
    const r = await forecast(["predict", "--model-path", `${tmp}/magic.pkl`]);
    failsFast(
      r,
      65,
      /^error\[input\]: model file .*magic\.pkl names algorithm "magic", which this build does not know/,
    );
    assert.doesNotMatch(r.stderr, /--algorithm/);
  });
  await t.step("a binary file never prints control bytes", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await Deno.writeFile(`${tmp}/bin.pkl`, bytes);
    const r = await forecast(["predict", "--model-path", `${tmp}/bin.pkl`]);
    failsFast(r, 65, /^error\[input\]: model file .*bin\.pkl is corrupt \(not valid JSON: .*\\x00/);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(r.stderr.trimEnd(), /[\u0000-\u001f\u007f-\u009f]/);
    await Deno.writeFile(
      `${tmp}/bin.csv`,
      new Uint8Array([...new TextEncoder().encode("ds,y\n1,1\n2,\u001b[2J\u0007\n")]),
    );
    const d = await forecast(["train", "--data", `${tmp}/bin.csv`, "--output", `${tmp}/x.pkl`]);
    assert.equal(d.code, 65, d.stderr);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(d.stderr.trimEnd(), /[\u0000-\u001f\u007f-\u009f]/);
    assert.match(d.stderr, /\\x1b\[2J\\x07" in column y is not a number/);
  });
  await Deno.remove(tmp, { recursive: true });
});
