/**
 * `deno task bench:forecast`: M4 Hourly (414 series, horizon 48) — sMAPE,
 * MASE (m = 24) and OWA exactly as the M4 competition computed them, for
 * every model and the ensembles, next to statsforecast (AutoETS, AutoARIMA,
 * AutoTheta) and Prophet (Python) run in the same invocation on the same
 * series. Wall time is for the whole set; ours run on Deno workers (2), the
 * peers with n_jobs=2 / a 2-process pool.
 *
 * Our Naive2 is checked against M4's published Naive2 (sMAPE 18.383,
 * MASE 2.395). The neural models run on the first `--neural` series
 * (default 24) because per-series training on 414 series takes too long here.
 *
 * usage: deno task bench:forecast [--limit N] [--neural N] [--no-peers] [--models a,b] [--peer-models AutoETS,AutoTheta]
 *   [--prophet-limit N] [--cv-windows K] [--cv-models a,b] [--peer-timeout SECONDS] [--rescore]
 *
 * Ensembles selected or weighted per series by rolling-origin error: the
 * `--cv-models` (default auto_arima, auto_ets, mstl, seasonal_naive) are also
 * fitted at the origins n − 48k (k = 1..K, default 2) and scored on the 48
 * points after each origin (MASE), as `Ensemble({ windows: K, horizon: 48 })`
 * does. Every model's forecasts are saved under `.mercury/bench/forecast/`
 * (not committed) so combinations can be studied offline.
 *
 * @module
 */
import { forecastBatch, mase, owa, smape } from "@mercury/forecast";
import { ensureVenv } from "../tasks/python.ts";

const existsSync = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

const args = Deno.args;
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const LIMIT = Number(opt("limit") ?? 0);
const NEURAL = Number(opt("neural") ?? 24);
const PEERS = !args.includes("--no-peers");
const CV_WINDOWS = Number(opt("cv-windows") ?? 2);
// --rescore: no fitting; score the forecasts a previous run saved (.mercury/bench/forecast/) with its recorded times.
const RESCORE = args.includes("--rescore");
const SAVE = `${new URL("..", import.meta.url).pathname}.mercury/bench/forecast`;
const H = 48, M = 24;
const root = new URL("..", import.meta.url).pathname;

function readM4(file: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const lines = Deno.readTextFileSync(file).trim().split("\n").slice(1);
  for (const l of lines) {
    const cells = l.split(",").map((c) => c.replaceAll('"', ""));
    out.set(cells[0]!, cells.slice(1).filter((c) => c !== "").map(Number));
  }
  return out;
}
let train = readM4(`${root}data/m4/Hourly-train.csv`);
const test = readM4(`${root}data/m4/Hourly-test.csv`);
if (LIMIT) train = new Map([...train].slice(0, LIMIT));
const ids = [...train.keys()];
const t0 = Date.UTC(2015, 0, 1);
const series = ids.map((id) => ({
  id,
  y: train.get(id)!,
  ds: train.get(id)!.map((_, i) => t0 + i * 3_600_000),
  filled: 0,
}));

type Scores = { smape: number; mase: number; n: number };
function score(fc: Map<string, number[]>, subset: string[] = ids): Scores {
  let s = 0, m = 0, n = 0;
  for (const id of subset) {
    const f = fc.get(id);
    if (!f) continue;
    const a = test.get(id)!.slice(0, H);
    s += smape(a, f);
    m += mase(train.get(id)!, a, f, M);
    n++;
  }
  return { smape: s / n, mase: m / n, n };
}

const forecasts = new Map<string, Map<string, number[]>>();
const seconds = new Map<string, number>();
const failures = new Map<string, number>();
const ours = (opt("models") ?? "naive2,seasonal_naive,theta,optimized_theta,auto_ets,auto_arima,mstl,prophet").split(
  ",",
);
/** Writes one model's forecasts to `.mercury/bench/forecast/<name>.json` (for offline study). */
function save(name: string, fc: Map<string, number[]>): void {
  Deno.mkdirSync(SAVE, { recursive: true });
  Deno.writeTextFileSync(`${SAVE}/${name}.json`, JSON.stringify(Object.fromEntries(fc)));
}
/** How every run of ours forecasts: hourly, H ahead, a 95 % interval, on 2 workers. */
const ourOptions = (name: string) => ({
  algorithm: name,
  season: M,
  stepMs: 3_600_000,
  h: H,
  levels: [95],
  workers: 2,
});
/** Forecasts `list` with one of our models on 2 workers and records its forecasts, time and failures. */
async function runOurs(name: string, list: typeof series, label = name): Promise<void> {
  const r = await forecastBatch(list, ourOptions(name));
  forecasts.set(name, new Map(r.forecasts.map((f) => [f.id, f.mean])));
  seconds.set(name, r.seconds);
  save(name, forecasts.get(name)!);
  failures.set(name, r.errors.length);
  const first = r.errors[0] ? ` (${r.errors[0].id}: ${r.errors[0].error})` : "";
  console.error(`${label}: ${r.seconds.toFixed(1)} s, ${r.errors.length} failed${first}`);
}
const previous = RESCORE
  ? JSON.parse(Deno.readTextFileSync(`${root}bench/results/forecast.json`)) as {
    rows: { impl: string; model: string; seconds: number | null }[];
    neuralSeries: number;
  }
  : null;
const loadSaved = (name: string) =>
  new Map(Object.entries(JSON.parse(Deno.readTextFileSync(`${SAVE}/${name}.json`)) as Record<string, number[]>));
if (previous) {
  for (const r of previous.rows) {
    if (r.impl !== "mercury" || r.model.startsWith("ensemble")) continue;
    if (!existsSync(`${SAVE}/${r.model}.json`)) continue;
    forecasts.set(r.model, loadSaved(r.model));
    seconds.set(r.model, r.seconds ?? NaN);
  }
} else for (const name of ours) await runOurs(name, series);
// Rolling-origin errors of the CV members: per series, the mean MASE over the origins n − 48k, k = 1..K.
const cvModels = (opt("cv-models") ?? "auto_arima,auto_ets,mstl,seasonal_naive").split(",").filter((m) =>
  forecasts.has(m)
);
const cvError = new Map<string, Map<string, number>>(); // model → id → mean CV MASE
const cvSeconds = new Map<string, number>();
if (CV_WINDOWS > 0) {
  for (const name of cvModels) {
    const errs = new Map<string, number[]>();
    let secs = 0;
    for (let k = 1; k <= CV_WINDOWS; k++) {
      if (previous) {
        if (!existsSync(`${SAVE}/cv${k}_${name}.json`)) continue;
        for (const [id, f] of loadSaved(`cv${k}_${name}`)) {
          const y = train.get(id)!;
          const e = mase(y.slice(0, -H * k), y.slice(y.length - H * k, y.length - H * (k - 1)), f, M);
          errs.set(id, [...(errs.get(id) ?? []), e]);
        }
        continue;
      }
      const cut = series.map((s) => ({ ...s, y: s.y.slice(0, -H * k), ds: s.ds.slice(0, -H * k) }));
      const r = await forecastBatch(cut, ourOptions(name));
      secs += r.seconds;
      save(`cv${k}_${name}`, new Map(r.forecasts.map((f) => [f.id, f.mean])));
      for (const f of r.forecasts) {
        const y = train.get(f.id)!;
        const e = mase(y.slice(0, -H * k), y.slice(y.length - H * k, y.length - H * (k - 1)), f.mean, M);
        errs.set(f.id, [...(errs.get(f.id) ?? []), e]);
      }
    }
    cvError.set(name, new Map([...errs].map(([id, e]) => [id, e.reduce((a, b) => a + b, 0) / e.length])));
    cvSeconds.set(name, secs);
    if (!previous) console.error(`${name} CV (${CV_WINDOWS} origins): ${secs.toFixed(1)} s`);
  }
}
// Ensembles of the statistical members (combined from the forecasts above; time = sum of members, + their CV).
type Combination = "mean" | "median" | "weighted" | "select";
const best4 = ["auto_arima", "auto_ets", "mstl", "seasonal_naive"];
const combos: [string, string[], Combination][] = [
  ["ensemble_median(arima,ets,mstl,snaive)", best4, "median"],
  ["ensemble_mean(arima,ets,mstl,snaive)", best4, "mean"],
  ["ensemble_weighted(arima,ets,mstl,snaive)", best4, "weighted"],
  ["ensemble_select(arima,ets,mstl,snaive)", best4, "select"],
  ["ensemble_median(arima,ets,mstl)", ["auto_arima", "auto_ets", "mstl"], "median"],
  ["ensemble_median(ets,arima,otheta,mstl)", ["auto_ets", "auto_arima", "optimized_theta", "mstl"], "median"],
];
const medianOf = (col: number[]) => {
  const s = col.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
};
for (const [name, members, how] of combos) {
  if (!members.every((m) => forecasts.has(m))) continue;
  if ((how === "weighted" || how === "select") && !members.every((m) => cvError.has(m))) continue;
  const out = new Map<string, number[]>();
  for (const id of ids) {
    const have = members.filter((m) => forecasts.get(m)!.has(id));
    const fs = have.map((m) => forecasts.get(m)!.get(id)!);
    if (!fs.length) continue;
    let w = have.map(() => 1 / have.length);
    if (how === "weighted" || how === "select") {
      const e = have.map((m) => cvError.get(m)!.get(id) ?? Infinity);
      const inv = e.map((v) => (Number.isFinite(v) && v > 0 ? 1 / v : 0));
      const sum = inv.reduce((a, b) => a + b, 0);
      if (how === "select") w = e.map((_, i) => (i === e.indexOf(Math.min(...e)) ? 1 : 0));
      else if (sum > 0) w = inv.map((v) => v / sum);
    }
    out.set(
      id,
      fs[0]!.map((_, k) =>
        how === "median" ? medianOf(fs.map((f) => f[k]!)) : fs.reduce((acc, f, i) => acc + w[i]! * f[k]!, 0)
      ),
    );
  }
  forecasts.set(name, out);
  seconds.set(
    name,
    members.reduce((s, m) => s + seconds.get(m)! + (how === "weighted" || how === "select" ? cvSeconds.get(m)! : 0), 0),
  );
}
if (previous) {
  for (const r of previous.rows) if (r.model.startsWith("ensemble")) seconds.set(r.model, r.seconds ?? NaN);
}
const neuralIds = ids.slice(0, previous ? previous.neuralSeries : NEURAL);
if (NEURAL > 0 && !previous) {
  for (const name of ["lstm", "transformer"]) {
    await runOurs(name, series.slice(0, NEURAL), `${name} (${NEURAL} series)`);
  }
}

const peer = new Map<string, { seconds: number; forecasts: Map<string, number[]> }>();
if (previous) {
  for (const r of previous.rows) {
    if (r.impl === "mercury" || r.impl.includes("[")) continue;
    const name = r.model.replace(" (partial)", "");
    if (!existsSync(`${SAVE}/peer_${name}.json`)) continue;
    const fc = loadSaved(`peer_${name}`);
    peer.set(fc.size < ids.length ? `${name} (partial)` : name, { seconds: r.seconds ?? NaN, forecasts: fc });
  }
} else if (PEERS) {
  const python = await ensureVenv(
    `${root}.mercury/peers/forecast/venv`,
    `${root}bench/peers/forecast/requirements.txt`,
    "statsforecast + prophet",
  );
  const out = await Deno.makeTempFile({ suffix: ".json" });
  const child = new Deno.Command(python, {
    args: [
      `${root}bench/peers/forecast/peer.py`,
      `${root}data/m4/Hourly-train.csv`,
      `${root}data/m4/Hourly-test.csv`,
      out,
      String(LIMIT),
      opt("prophet-limit") ?? "0",
      opt("peer-models") ?? "",
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // --peer-timeout S stops the peers after S seconds (what finished is still scored).
  const limit = Number(opt("peer-timeout") ?? 0);
  const timer = limit > 0 ? setTimeout(() => child.kill("SIGTERM"), limit * 1000) : undefined;
  const p = await child.status;
  clearTimeout(timer);
  // peer.py rewrites OUT after every model: a peer that fails or is stopped keeps what finished.
  if (p.code !== 0) console.error(`peer.py exited ${p.code}; scoring the peer models that finished`);
  const text = await Deno.readTextFile(out).catch(() => "");
  const doc = (text ? JSON.parse(text) : {}) as Record<
    string,
    { seconds: number; forecasts: Record<string, number[]>; partial?: boolean }
  >;
  for (const [k, v] of Object.entries(doc)) {
    peer.set(v.partial ? `${k} (partial)` : k, { seconds: v.seconds, forecasts: new Map(Object.entries(v.forecasts)) });
    save(`peer_${k}`, new Map(Object.entries(v.forecasts)));
  }
  await Deno.remove(out);
}

const naive2 = score(forecasts.get("naive2")!);
const rows: Record<string, unknown>[] = [];
const add = (impl: string, name: string, fc: Map<string, number[]>, secs: number, subset = ids) => {
  const have = subset.filter((id) => fc.has(id));
  const s = score(fc, have);
  const base = score(forecasts.get("naive2")!, have); // OWA against Naive2 on the same series
  rows.push({
    impl,
    model: name,
    series: s.n,
    smape: +s.smape.toFixed(3),
    mase: +s.mase.toFixed(3),
    owa: +owa(s.smape, s.mase, base.smape, base.mase).toFixed(3),
    seconds: +secs.toFixed(1),
  });
};
for (const [name, fc] of forecasts) {
  add("mercury", name, fc, seconds.get(name) ?? NaN, name === "lstm" || name === "transformer" ? neuralIds : ids);
}
for (const [name, p] of peer) {
  add(name.startsWith("Prophet") ? "prophet (python)" : "statsforecast", name, p.forecasts, p.seconds);
}
// A peer stopped part-way: our main models on the same series, for a like-for-like comparison.
for (const [name, p] of peer) {
  if (!name.endsWith("(partial)")) continue;
  const sub = ids.filter((id) => p.forecasts.has(id));
  for (const m of ["auto_arima", "auto_ets", "ensemble_median(arima,ets,mstl,snaive)", "seasonal_naive"]) {
    if (forecasts.has(m)) add(`mercury [${name} subset]`, m, forecasts.get(m)!, NaN, sub);
  }
}
if (neuralIds.length > 0 && peer.size) {
  for (const [name, p] of peer) {
    add(
      `${name.startsWith("Prophet") ? "prophet (python)" : "statsforecast"} [neural subset]`,
      name,
      p.forecasts,
      NaN,
      neuralIds,
    );
  }
}

console.log(
  `M4 Hourly: ${ids.length} series, h=${H}, m=${M}. Naive2 sMAPE ${naive2.smape.toFixed(3)} MASE ${
    naive2.mase.toFixed(3)
  } (M4 published: 18.383 / 2.395)`,
);
const cols = Object.keys(rows[0]!);
console.log(cols.join("\t"));
for (const r of rows) console.log(cols.map((c) => r[c]).join("\t"));
await Deno.mkdir(`${root}bench/results`, { recursive: true });
const resultsFile = `${root}bench/results/forecast.json`;
await Deno.writeTextFile(
  `${resultsFile}.tmp`,
  JSON.stringify(
    {
      date: previous ? (previous as { date?: string }).date : new Date().toISOString(),
      series: ids.length,
      horizon: H,
      season: M,
      naive2,
      published: { naive2: { smape: 18.383, mase: 2.395 } },
      neuralSeries: neuralIds.length,
      ...(previous ? { rescoredFrom: (previous as { date?: string }).date } : {}),
      rows,
    },
    null,
    2,
  ),
);
await Deno.rename(`${resultsFile}.tmp`, resultsFile);
