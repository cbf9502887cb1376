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
 *   [--prophet-limit N]
 *
 * @module
 */
import { forecastBatch, mase, owa, smape } from "@mercury/forecast";
import { ensureVenv } from "../tasks/python.ts";

const args = Deno.args;
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const LIMIT = Number(opt("limit") ?? 0);
const NEURAL = Number(opt("neural") ?? 24);
const PEERS = !args.includes("--no-peers");
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
/** Forecasts `list` with one of our models on 2 workers and records its forecasts, time and failures. */
async function runOurs(name: string, list: typeof series, label = name): Promise<void> {
  const r = await forecastBatch(list, {
    algorithm: name,
    season: M,
    stepMs: 3_600_000,
    h: H,
    levels: [95],
    workers: 2,
  });
  forecasts.set(name, new Map(r.forecasts.map((f) => [f.id, f.mean])));
  seconds.set(name, r.seconds);
  failures.set(name, r.errors.length);
  const first = r.errors[0] ? ` (${r.errors[0].id}: ${r.errors[0].error})` : "";
  console.error(`${label}: ${r.seconds.toFixed(1)} s, ${r.errors.length} failed${first}`);
}
for (const name of ours) await runOurs(name, series);
// Ensembles of the statistical members (combined from the forecasts above; time = sum of members).
const combos: [string, string[], "mean" | "median"][] = [
  ["ensemble_median(ets,arima,otheta,mstl)", ["auto_ets", "auto_arima", "optimized_theta", "mstl"], "median"],
  ["ensemble_mean(ets,arima,otheta,mstl)", ["auto_ets", "auto_arima", "optimized_theta", "mstl"], "mean"],
  ["ensemble_mean(ets,arima,mstl)", ["auto_ets", "auto_arima", "mstl"], "mean"],
];
for (const [name, members, how] of combos) {
  if (!members.every((m) => forecasts.has(m))) continue;
  const out = new Map<string, number[]>();
  for (const id of ids) {
    const fs = members.map((m) => forecasts.get(m)!.get(id)).filter((f): f is number[] => !!f);
    if (!fs.length) continue;
    out.set(
      id,
      fs[0]!.map((_, k) => {
        const col = fs.map((f) => f[k]!).sort((a, b) => a - b);
        return how === "mean"
          ? col.reduce((a, b) => a + b, 0) / col.length
          : col.length % 2
          ? col[col.length >> 1]!
          : (col[(col.length >> 1) - 1]! + col[col.length >> 1]!) / 2;
      }),
    );
  }
  forecasts.set(name, out);
  seconds.set(name, members.reduce((s, m) => s + seconds.get(m)!, 0));
}
const neuralIds = ids.slice(0, NEURAL);
if (NEURAL > 0) {
  for (const name of ["lstm", "transformer"]) {
    await runOurs(name, series.slice(0, NEURAL), `${name} (${NEURAL} series)`);
  }
}

const peer = new Map<string, { seconds: number; forecasts: Map<string, number[]> }>();
if (PEERS) {
  const python = await ensureVenv(
    `${root}.mercury/peers/forecast/venv`,
    `${root}bench/peers/forecast/requirements.txt`,
    "statsforecast + prophet",
  );
  const out = await Deno.makeTempFile({ suffix: ".json" });
  const p = await new Deno.Command(python, {
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
  }).output();
  if (p.code !== 0) throw new Error(`peer.py exited ${p.code}`);
  const doc = JSON.parse(await Deno.readTextFile(out)) as Record<
    string,
    { seconds: number; forecasts: Record<string, number[]> }
  >;
  for (const [k, v] of Object.entries(doc)) {
    peer.set(k, { seconds: v.seconds, forecasts: new Map(Object.entries(v.forecasts)) });
  }
  await Deno.remove(out);
}

const naive2 = score(forecasts.get("naive2")!);
const naive2Sub = score(forecasts.get("naive2")!, neuralIds);
const rows: Record<string, unknown>[] = [];
const add = (impl: string, name: string, fc: Map<string, number[]>, secs: number, subset = ids) => {
  const s = score(fc, subset);
  const base = subset === ids ? naive2 : naive2Sub;
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
  add("mercury", name, fc, seconds.get(name)!, name === "lstm" || name === "transformer" ? neuralIds : ids);
}
for (const [name, p] of peer) {
  add(name === "Prophet" ? "prophet (python)" : "statsforecast", name, p.forecasts, p.seconds);
}
if (NEURAL > 0 && peer.size) {
  for (const [name, p] of peer) {
    add(
      `${name === "Prophet" ? "prophet (python)" : "statsforecast"} [neural subset]`,
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
await Deno.writeTextFile(
  `${root}bench/results/forecast.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      series: ids.length,
      horizon: H,
      season: M,
      naive2,
      published: { naive2: { smape: 18.383, mase: 2.395 } },
      neuralSeries: NEURAL,
      rows,
    },
    null,
    2,
  ),
);
