/**
 * `deno task bench:forecast`: every model of ours against statsforecast (AutoETS, AutoARIMA, AutoTheta; Python) and
 * R's forecast package (ets(), auto.arima(); Debian r-cran-forecast) in the same run, on the same series, on three
 * sets with separate roles:
 *
 * - `validation` — M4 Hourly's training part with its last 48 points held out (what rules, defaults and the
 *   ensemble's members and combination are chosen on; the combination study below runs only here);
 * - `test` — M4 Hourly's official test horizon (48), scored once with the configuration chosen on validation;
 * - `dev` — the development set: seeded synthetic series (weekly with level shifts, short weekly, daily, daily with a
 *   365-day season, monthly, quarterly, yearly; `plugins/forecast/synthetic.ts`) and R's classic series
 *   (`data/forecast_r_datasets.csv`), the last horizon of each held out, scored per frequency against seasonal naive.
 *
 * The headline ensemble is what users run: `forecast batch --algorithm ensemble --params …` (the CLI, as a
 * subprocess), scored from the CSV it writes. sMAPE, MASE (in-sample seasonal-naive scale) and OWA against our Naive2
 * exactly as M4 computed them. Ours on 2 Deno workers, statsforecast with n_jobs=2, R with mclapply on 2 cores; the
 * peers run concurrently with ours (started first), so every time is measured under the same shared load.
 * Every model's forecasts are saved under `.mercury/bench/forecast/<set>/` (not committed).
 *
 * usage: deno task bench:forecast [--sets validation,test,dev] [--limit N] [--dev-count N] [--models a,b]
 *   [--ensembles weighted,median] [--members auto_arima,auto_ets,mstl,seasonal_naive] [--cv-windows K]
 *   [--peer-models AutoETS,AutoTheta,AutoARIMA] [--r-models ets,auto.arima] [--no-peers] [--peer-timeout SECONDS]
 *   [--neural N] [--study-only] [--in-process] [--nbeats-params JSON] [--reuse a,b]
 *
 * `--members "auto_arima,mstl;auto_arima,mstl,nbeats"` runs one shipped ensemble per member set (N-BEATS as a member is
 * trained once across each (m, h) group by `forecast batch`, with --nbeats-params). `--models …,nbeats` fits the global
 * N-BEATS through `forecastBatch` (one network per (m, h) group) even with --in-process.
 *
 * @module
 */
import { createForecaster, forecastBatch, mase, owa, smape, syntheticSet } from "@mercury/forecast";
import type { SyntheticKind } from "@mercury/forecast";
import { ensureVenv } from "../tasks/python.ts";
import { ensureR } from "./peers/forecast_r/ensure.ts";

const args = Deno.args;
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (name: string, fallback: string) => (opt(name) ?? fallback).split(",").filter(Boolean);
const root = new URL("..", import.meta.url).pathname;
const SETS = list("sets", "validation,test,dev");
const LIMIT = Number(opt("limit") ?? 0);
const DEV_COUNT = Number(opt("dev-count") ?? 12);
const NEURAL = Number(opt("neural") ?? 0);
const PEERS = !args.includes("--no-peers");
const CV_WINDOWS = Number(opt("cv-windows") ?? 2);
const PEER_TIMEOUT = Number(opt("peer-timeout") ?? 0);
const MODELS = list("models", "naive2,seasonal_naive,theta,optimized_theta,auto_ets,auto_arima,mstl");
// --members a,b[;c,d,e]: one or more member sets; each runs as its own shipped ensemble (the study uses the first).
const MEMBER_SETS = (opt("members") ?? "auto_arima,auto_ets,mstl,seasonal_naive").split(";").map((m) =>
  m.split(",").filter(Boolean)
);
const MEMBERS = MEMBER_SETS[0]!;
// --nbeats-params '{…}': the N-BEATS hyper-parameters (chosen on validation), for the model and as an ensemble member.
const NBEATS_PARAMS = JSON.parse(opt("nbeats-params") ?? "{}") as Record<string, unknown>;
// --reuse a,b: those models' forecasts are read from a previous run's saved files of the same set (not refitted; no
// time), e.g. to add N-BEATS to a run whose statistical models were already fitted.
const REUSE = list("reuse", "");
const paramsOf = (name: string): Record<string, unknown> => (name === "nbeats" ? NBEATS_PARAMS : {});
const ENSEMBLES = list("ensembles", "weighted,median");
const PY_MODELS = list("peer-models", "AutoETS,AutoTheta,AutoARIMA");
const R_MODELS = list("r-models", "ets,auto.arima");
// --study-only: no fitting; the combination study (mean/median of every member subset) from the member forecasts a
// previous run of the same set saved under .mercury/bench/forecast/<set>/.
const STUDY_ONLY = args.includes("--study-only");
// --in-process: our models fitted in this process, one series after another, instead of forecastBatch's 2 workers (for
// sets of many small (m, h) groups, where starting workers per group costs more than the fits).
const IN_PROCESS = args.includes("--in-process");

/** One series of a set: training values, the held-out actuals, its period, horizon and scoring group. */
interface Item {
  id: string;
  group: string;
  train: number[];
  actual: number[];
  m: number;
  h: number;
}
type Forecasts = Map<string, number[]>;
interface Run {
  impl: string;
  model: string;
  forecasts: Forecasts;
  seconds: number;
  partial?: boolean;
}

function readM4(file: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of Deno.readTextFileSync(file).trim().split("\n").slice(1)) {
    const cells = l.split(",").map((c) => c.replaceAll('"', ""));
    out.set(cells[0]!, cells.slice(1).filter((c) => c !== "").map(Number));
  }
  return out;
}

/** The items of a set. */
function loadSet(name: string): Item[] {
  if (name === "validation" || name === "test") {
    let train = [...readM4(`${root}data/m4/Hourly-train.csv`)];
    if (LIMIT) train = train.slice(0, LIMIT);
    const test = readM4(`${root}data/m4/Hourly-test.csv`);
    return train.map(([id, y]) =>
      name === "test"
        ? { id, group: "M4 Hourly", train: y, actual: test.get(id)!.slice(0, 48), m: 24, h: 48 }
        : { id, group: "M4 Hourly", train: y.slice(0, -48), actual: y.slice(-48), m: 24, h: 48 }
    );
  }
  const items: Item[] = [];
  for (const kind of ["weekly", "weekly_short", "daily", "daily_yearly", "monthly", "quarterly", "yearly"]) {
    for (const s of syntheticSet(kind as SyntheticKind, DEV_COUNT)) {
      items.push({
        id: s.id,
        group: `synthetic ${kind} (m=${s.m})`,
        train: s.y.slice(0, -s.h),
        actual: s.y.slice(-s.h),
        m: s.m,
        h: s.h,
      });
    }
  }
  const r = new Map<string, { m: number; h: number; y: number[] }>();
  for (const l of Deno.readTextFileSync(`${root}data/forecast_r_datasets.csv`).trim().split("\n").slice(1)) {
    const [id, m, h, y] = l.split(",");
    if (!r.has(id!)) r.set(id!, { m: Number(m), h: Number(h), y: [] });
    r.get(id!)!.y.push(Number(y));
  }
  const period = (m: number) =>
    ({ 1: "yearly", 4: "quarterly", 12: "monthly" } as Record<number, string>)[m] ?? `m=${m}`;
  for (const [id, s] of r) {
    items.push({
      id: `R:${id}`,
      group: `R ${period(s.m)}${s.m > 1 ? ` (m=${s.m})` : ""}`,
      train: s.y.slice(0, -s.h),
      actual: s.y.slice(-s.h),
      m: s.m,
      h: s.h,
    });
  }
  return items;
}

/** (m, h) groups: each is forecast with one season and horizon. */
function byShape(items: Item[]): Item[][] {
  const g = new Map<string, Item[]>();
  for (const it of items) {
    const k = `${it.m}/${it.h}`;
    g.set(k, [...(g.get(k) ?? []), it]);
  }
  return [...g.values()];
}

/** Our models through the library's parallel batch (2 workers), one call per (m, h) group. */
async function runOurs(name: string, items: Item[], params: Record<string, unknown> = {}): Promise<Run> {
  const forecasts: Forecasts = new Map();
  let seconds = 0, failed = 0;
  let first = "";
  if (IN_PROCESS && name !== "nbeats") {
    const t = performance.now();
    for (const it of items) {
      await new Promise((r) => setTimeout(r, 0)); // let the peers' start-up and timers run between fits
      try {
        const model = createForecaster(name, params);
        await model.fit(it.train, { season: it.m });
        forecasts.set(it.id, model.predict(it.h, [95]).mean);
      } catch (e) {
        failed++;
        if (!first) first = ` (${it.id}: ${(e as Error).message})`;
      }
    }
    seconds = (performance.now() - t) / 1000;
    console.error(`  ${name}: ${seconds.toFixed(1)} s in process, ${failed} failed${first}`);
    return { impl: "mercury", model: name, forecasts, seconds };
  }
  for (const g of byShape(items)) {
    const r = await forecastBatch(
      g.map((it) => ({ id: it.id, y: it.train, ds: it.train.map((_, i) => i), filled: 0 })),
      { algorithm: name, params, season: g[0]!.m, stepMs: 1, h: g[0]!.h, levels: [95], workers: 2 },
    );
    seconds += r.seconds;
    for (const f of r.forecasts) forecasts.set(f.id, f.mean);
    failed += r.errors.length;
    if (!first && r.errors[0]) first = ` (${r.errors[0].id}: ${r.errors[0].error})`;
  }
  console.error(`  ${name}: ${seconds.toFixed(1)} s, ${failed} failed${first}`);
  return { impl: "mercury", model: name, forecasts, seconds };
}

/**
 * The shipped command: `forecast batch --algorithm ensemble --params '{"combination":C,"horizon":h,"windows":K}'
 * --freq index --season m --horizon h --workers 2`, one run per (m, h) group; wall time of the command.
 */
async function runCli(combination: string, items: Item[], dir: string, members: string[], tag: string): Promise<Run> {
  const forecasts: Forecasts = new Map();
  let seconds = 0;
  for (const [gi, g] of byShape(items).entries()) {
    const data = `${dir}/cli_input_${gi}.csv`;
    const out = `${dir}/cli_${combination}${tag}_${gi}.csv`;
    Deno.writeTextFileSync(
      data,
      "unique_id,ds,y\n" + g.flatMap((it) => it.train.map((v, i) => `${it.id},${i},${v}`)).join("\n") + "\n",
    );
    const memberParams = members.includes("nbeats") ? { memberParams: { nbeats: NBEATS_PARAMS } } : {};
    const params = { combination, horizon: g[0]!.h, windows: CV_WINDOWS, members, ...memberParams };
    const cliArgs = [
      "run",
      "-A",
      `${root}plugins/forecast/cli.ts`,
      "batch",
      "--data",
      data,
      "--freq",
      "index",
      "--season",
      String(g[0]!.m),
      "--horizon",
      String(g[0]!.h),
      "--levels",
      "95",
      "--workers",
      "2",
      "--algorithm",
      "ensemble",
      "--params",
      JSON.stringify(params),
      "--output",
      out,
      "--errors",
      `${dir}/cli_${combination}${tag}_${gi}_errors.csv`,
    ];
    if (gi === 0) console.error(`  deno ${cliArgs.slice(3).map((a) => (a.startsWith("{") ? `'${a}'` : a)).join(" ")}`);
    const t = performance.now();
    const p = await new Deno.Command(Deno.execPath(), { args: cliArgs, stdout: "piped", stderr: "piped" }).output();
    seconds += (performance.now() - t) / 1000;
    if (p.code !== 0) console.error(new TextDecoder().decode(p.stderr).slice(-400));
    const lines = Deno.readTextFileSync(out).trim().split("\n");
    const head = lines[0]!.split(",");
    const [ci, fi] = [head.indexOf("unique_id"), head.indexOf("forecast")];
    for (const l of lines.slice(1)) {
      const c = l.split(",");
      forecasts.set(c[ci]!, [...(forecasts.get(c[ci]!) ?? []), Number(c[fi])]);
    }
  }
  const name = `ensemble ${combination}(${members.join(",")}) (forecast batch)`;
  console.error(`  ${name}: ${seconds.toFixed(1)} s, ${forecasts.size}/${items.length} series`);
  return { impl: "mercury", model: name, forecasts, seconds };
}

/**
 * Runs `cmd` in a session of its own (`setsid`), stopping its whole process group after --peer-timeout seconds, so
 * forked workers (R's mclapply) stop too; what it wrote so far is still scored.
 */
async function runPeer(cmd: string, cmdArgs: string[]): Promise<void> {
  const child = new Deno.Command("setsid", { args: [cmd, ...cmdArgs], stdout: "inherit", stderr: "inherit" }).spawn();
  const stop = () => {
    try {
      Deno.kill(-child.pid, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
  };
  const timer = PEER_TIMEOUT > 0 ? setTimeout(stop, PEER_TIMEOUT * 1000) : undefined;
  const s = await child.status;
  clearTimeout(timer);
  if (s.code !== 0) console.error(`  ${cmd} exited ${s.code}; scoring what finished`);
}

/**
 * The peers on the set's series, statsforecast and R concurrently, started before our models so that all finish
 * within the run (each stopped after --peer-timeout seconds; what finished is scored).
 */
async function runPeers(items: Item[], dir: string): Promise<Run[]> {
  const input = `${dir}/peer_input.csv`;
  Deno.writeTextFileSync(
    input,
    "unique_id,m,h,y\n" + items.flatMap((it) => it.train.map((v) => `${it.id},${it.m},${it.h},${v}`)).join("\n") +
      "\n",
  );
  const python = async (): Promise<Run[]> => {
    if (!PY_MODELS.length) return [];
    const python = await ensureVenv(
      `${root}.mercury/peers/forecast/venv`,
      `${root}bench/peers/forecast/requirements.txt`,
      "statsforecast + prophet",
    );
    const out = `${dir}/peer_statsforecast.json`;
    await Deno.remove(out).catch(() => {});
    await runPeer(python, [`${root}bench/peers/forecast/peer.py`, input, out, PY_MODELS.join(",")]);
    const doc = JSON.parse(await Deno.readTextFile(out).catch(() => "{}")) as Record<
      string,
      { seconds: number; forecasts: Record<string, number[]>; partial?: boolean }
    >;
    return Object.entries(doc).map(([k, v]) => ({
      impl: k === "Prophet" ? "prophet (python)" : "statsforecast 2.1.1",
      model: k,
      forecasts: new Map(Object.entries(v.forecasts)),
      seconds: v.seconds,
      partial: v.partial,
    }));
  };
  const r = async (): Promise<Run[]> => {
    if (!R_MODELS.length) return [];
    const rscript = await ensureR();
    const out = `${dir}/peer_r.csv`;
    await Deno.remove(out).catch(() => {});
    await Deno.remove(`${out}.times`).catch(() => {});
    await runPeer(rscript, [`${root}bench/peers/forecast_r/peer.R`, input, out, R_MODELS.join(","), "2"]);
    const fc = new Map<string, Forecasts>();
    for (const l of (await Deno.readTextFile(out).catch(() => "")).trim().split("\n").slice(1)) {
      const [model, id, , value] = l.split(",");
      if (!model) continue;
      if (!fc.has(model)) fc.set(model, new Map());
      const m = fc.get(model)!;
      m.set(id!, [...(m.get(id!) ?? []), value === "NA" ? NaN : Number(value)]);
    }
    const secs = new Map<string, number>();
    for (const l of (await Deno.readTextFile(`${out}.times`).catch(() => "")).trim().split("\n").slice(1)) {
      const [model, s] = l.split(",");
      secs.set(model!, Number(s));
    }
    const runs: Run[] = [];
    for (const [model, f] of fc) {
      for (const [id, v] of f) if (v.some((x) => !Number.isFinite(x))) f.delete(id); // a failed fit
      runs.push({
        impl: "R forecast 8.20",
        model: `${model}()`,
        forecasts: f,
        seconds: secs.get(model) ?? NaN,
        partial: f.size < items.length,
      });
    }
    return runs;
  };
  return (await Promise.all([python(), r()])).flat();
}

/** Rolling-origin CV errors (mean MASE over origins n − h·k, k = 1..K) of a member, per series: for the study. */
async function cvErrors(name: string, items: Item[]): Promise<{ err: Map<string, number>; seconds: number }> {
  const errs = new Map<string, number[]>();
  let seconds = 0;
  for (let k = 1; k <= CV_WINDOWS; k++) {
    const cut = items.map((it) => ({ ...it, train: it.train.slice(0, -it.h * k) }));
    const r = await runOurs(name, cut);
    seconds += r.seconds;
    for (const it of items) {
      const f = r.forecasts.get(it.id);
      if (!f) continue;
      const n = it.train.length;
      const e = mase(it.train.slice(0, n - it.h * k), it.train.slice(n - it.h * k, n - it.h * (k - 1)), f, it.m);
      errs.set(it.id, [...(errs.get(it.id) ?? []), e]);
    }
  }
  return { err: new Map([...errs].map(([id, e]) => [id, e.reduce((a, b) => a + b, 0) / e.length])), seconds };
}

const medianOf = (col: number[]) => {
  const s = col.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
};

/** Combination study (validation only): every combination of member subsets from the members' saved forecasts. */
function study(items: Item[], runs: Map<string, Run>, cv: Map<string, Map<string, number>>): Run[] {
  const out: Run[] = [];
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << MEMBERS.length; mask++) {
    const s = MEMBERS.filter((_, i) => mask & (1 << i));
    if (s.length >= 2) subsets.push(s);
  }
  for (const members of subsets) {
    for (const how of ["mean", "median", "weighted", "select"]) {
      const fc: Forecasts = new Map();
      for (const it of items) {
        const have = members.filter((m) => runs.get(m)?.forecasts.has(it.id));
        if (!have.length) continue;
        const fs = have.map((m) => runs.get(m)!.forecasts.get(it.id)!);
        let w = have.map(() => 1 / have.length);
        if (how === "weighted" || how === "select") {
          const e = have.map((m) => cv.get(m)?.get(it.id) ?? Infinity);
          const inv = e.map((v) => (Number.isFinite(v) && v > 0 ? 1 / v : 0));
          const sum = inv.reduce((a, b) => a + b, 0);
          const best = e.indexOf(Math.min(...e));
          if (how === "select" && Number.isFinite(e[best]!)) w = e.map((_, i) => (i === best ? 1 : 0));
          else if (sum > 0) w = inv.map((v) => v / sum);
        }
        fc.set(
          it.id,
          fs[0]!.map((_, k) =>
            how === "median" ? medianOf(fs.map((f) => f[k]!)) : fs.reduce((a, f, i) => a + w[i]! * f[k]!, 0)
          ),
        );
      }
      out.push({ impl: "study (offline)", model: `${how}(${members.join(",")})`, forecasts: fc, seconds: NaN });
    }
  }
  return out;
}

/** Mean sMAPE and MASE of `fc` on `items` (those it forecast). */
function score(fc: Forecasts, items: Item[]) {
  let s = 0, m = 0, n = 0;
  for (const it of items) {
    const f = fc.get(it.id);
    if (!f || f.length !== it.h) continue;
    s += smape(it.actual, f);
    m += mase(it.train, it.actual, f, it.m);
    n++;
  }
  return { smape: s / n, mase: m / n, n };
}

type Row = {
  set: string;
  group: string;
  impl: string;
  model: string;
  series: number;
  smape: number;
  mase: number;
  owa: number;
  vsSnaive: number;
  seconds: number | null;
  partial?: boolean;
};

function table(set: string, items: Item[], runs: Run[]): Row[] {
  const rows: Row[] = [];
  const groups = [...new Set(items.map((it) => it.group))];
  const naive2 = runs.find((r) => r.impl === "mercury" && r.model === "naive2")!;
  const snaive = runs.find((r) => r.impl === "mercury" && r.model === "seasonal_naive")!;
  for (const group of set === "dev" ? ["all", ...groups] : ["all"]) {
    const inGroup = group === "all" ? items : items.filter((it) => it.group === group);
    for (const r of runs) {
      const have = inGroup.filter((it) => r.forecasts.get(it.id)?.length === it.h);
      if (!have.length) continue;
      const s = score(r.forecasts, have), b = score(naive2.forecasts, have), sn = score(snaive.forecasts, have);
      rows.push({
        set,
        group,
        impl: r.impl,
        model: r.model,
        series: s.n,
        smape: +s.smape.toFixed(3),
        mase: +s.mase.toFixed(3),
        owa: +owa(s.smape, s.mase, b.smape, b.mase).toFixed(3),
        vsSnaive: +(s.mase / sn.mase).toFixed(3),
        seconds: group === "all" && Number.isFinite(r.seconds) ? +r.seconds.toFixed(1) : null,
        ...(r.partial || have.length < inGroup.length ? { partial: true } : {}),
      });
    }
  }
  return rows;
}

const results: Row[] = [];
const commands: Record<string, string> = {};
const loads: Record<string, number[][]> = {};
for (const set of SETS) {
  const items = loadSet(set);
  const dir = `${root}.mercury/bench/forecast/${set}`;
  Deno.mkdirSync(dir, { recursive: true });
  const loadAtStart = Deno.loadavg();
  console.error(`${set}: ${items.length} series; load average ${loadAtStart.map((v) => v.toFixed(2)).join(" ")}`);
  const peersRunning = PEERS && !STUDY_ONLY ? runPeers(items, dir) : Promise.resolve([]);
  const runs = new Map<string, Run>();
  for (const name of [...MODELS, ...REUSE.filter((m) => !MODELS.includes(m))]) {
    if (!STUDY_ONLY && !REUSE.includes(name)) runs.set(name, await runOurs(name, items, paramsOf(name)));
    else {
      const saved = JSON.parse(Deno.readTextFileSync(`${dir}/${name}.json`)) as Record<string, number[]>;
      runs.set(name, { impl: "mercury", model: name, forecasts: new Map(Object.entries(saved)), seconds: NaN });
    }
  }
  const extra: Run[] = [];
  if (NEURAL > 0 && set !== "dev") {
    for (const name of ["lstm", "transformer"]) extra.push(await runOurs(name, items.slice(0, NEURAL)));
  }
  if (set === "validation") {
    const cv = new Map<string, Map<string, number>>();
    if (!STUDY_ONLY && CV_WINDOWS > 0) {
      for (const m of MEMBERS) if (runs.has(m)) cv.set(m, (await cvErrors(m, items)).err);
    }
    extra.push(...study(items, runs, cv).filter((r) => cv.size || /^(mean|median)/.test(r.model)));
  }
  if (!STUDY_ONLY) {
    for (const c of ENSEMBLES) {
      for (const [k, members] of MEMBER_SETS.entries()) {
        extra.push(await runCli(c, items, dir, members, k ? `_set${k}` : ""));
      }
    }
  }
  const peers = await peersRunning;
  if (!STUDY_ONLY) {
    for (const [name, r] of runs) {
      if (REUSE.includes(name)) continue;
      Deno.writeTextFileSync(`${dir}/${name}.json`, JSON.stringify(Object.fromEntries(r.forecasts)));
    }
  }
  for (const p of peers) {
    Deno.writeTextFileSync(`${dir}/peer_${p.model}.json`, JSON.stringify(Object.fromEntries(p.forecasts)));
  }
  const rows = table(set, items, [...runs.values(), ...extra, ...peers]);
  results.push(...rows);
  const label = { validation: "VALIDATION (M4 Hourly train, last 48 held out)", test: "TEST (M4 Hourly test)" }[set] ??
    "DEVELOPMENT (synthetic + R data sets, last horizon held out)";
  loads[set] = [loadAtStart, Deno.loadavg()];
  console.log(
    `\n${label}: ${items.length} series (load average at start ${loadAtStart[0]!.toFixed(2)}, at end ${
      Deno.loadavg()[0]!.toFixed(2)
    } on ${navigator.hardwareConcurrency} cores)`,
  );
  const cols = ["group", "impl", "model", "series", "smape", "mase", "owa", "vsSnaive", "seconds"] as const;
  console.log(cols.join("\t"));
  for (const r of rows) console.log(cols.map((c) => r[c] ?? "").join("\t") + (r.partial ? "\t(partial)" : ""));
  commands[set] = `deno task bench:forecast ${args.join(" ")}`;
}

await Deno.mkdir(`${root}bench/results`, { recursive: true });
const file = `${root}bench/results/forecast.json`;
let previous: { sets?: Record<string, unknown> } = {};
try {
  previous = JSON.parse(Deno.readTextFileSync(file));
} catch { /* first run */ }
const sets: Record<string, unknown> = { ...(previous.sets ?? {}) };
// A run replaces the rows it measured (same group, impl and model) and keeps the others, each row dated by its run.
const now = new Date().toISOString();
for (const set of SETS) {
  const prev = (sets[set] ?? {}) as {
    date?: string;
    command?: string;
    runs?: unknown[];
    rows?: (Row & { date?: string })[];
  };
  const fresh = results.filter((r) => r.set === set).map((r) => ({ ...r, date: now }));
  const key = (r: Row) => `${r.group}|${r.impl}|${r.model}`;
  const seen = new Set(fresh.map(key));
  const kept = (prev.rows ?? []).filter((r) => !seen.has(key(r))).map((r) => ({ ...r, date: r.date ?? prev.date }));
  sets[set] = {
    runs: [...(prev.runs ?? (prev.command ? [{ date: prev.date, command: prev.command }] : [])), {
      date: now,
      command: commands[set],
      loadAverage: { start: loads[set]?.[0], end: loads[set]?.[1] },
    }],
    rows: [...kept, ...fresh],
  };
}
await Deno.writeTextFile(`${file}.tmp`, JSON.stringify({ sets }, null, 2));
await Deno.rename(`${file}.tmp`, file);
