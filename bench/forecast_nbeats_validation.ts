/**
 * `deno run -A bench/forecast_nbeats_validation.ts ['{"lookback":[3,5]}'] [LIMIT]`: the N-BEATS tuning step on the
 * validation protocol only (M4 Hourly's training part, its last 48 points held out). Trains one global network (or
 * one per lookback) on all 414 validation series with the given parameters, then scores it — and the median
 * ensembles with it — on the first LIMIT series (default 150) against the statistical models' validation forecasts
 * saved by `deno task bench:forecast --sets validation` under `.mercury/bench/forecast/validation/`. Prints the load
 * average and the training time; writes the network's forecasts to that folder as `nbeats.json`.
 *
 * @module
 */
import { mase, owa, smape } from "@mercury/forecast";
import { fitNBeats } from "@mercury/forecast/neural";

const root = new URL("..", import.meta.url).pathname;
const params = JSON.parse(Deno.args[0] ?? "{}") as Record<string, unknown>;
const LIMIT = Number(Deno.args[1] ?? 150);
const dir = `${root}.mercury/bench/forecast/validation/`;

const rows = Deno.readTextFileSync(`${root}data/m4/Hourly-train.csv`).trim().split("\n").slice(1).map((l) => {
  const c = l.split(",").map((x) => x.replaceAll('"', ""));
  return { id: c[0]!, y: c.slice(1).filter((x) => x !== "").map(Number) };
});
const train = rows.map((r) => r.y.slice(0, -48)), actual = rows.map((r) => r.y.slice(-48));
console.log(`load average ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}; params ${JSON.stringify(params)}`);
const t0 = performance.now();
const fit = await fitNBeats(train, 24, { horizon: 48, ...params });
const seconds = (performance.now() - t0) / 1000;
const fs = fit.forecastMany(train, 48, [95]);
let covered = 0;
fs.forEach((f, i) =>
  actual[i]!.forEach((a, k) => (covered += +(a >= f.intervals[0]!.lower[k]! && a <= f.intervals[0]!.upper[k]!)))
);
console.log(
  `${fit.describe()}: trained in ${seconds.toFixed(1)} s; 95% interval coverage ${
    (covered / fs.length / 48).toFixed(3)
  }`,
);
const nbeats = new Map(rows.map((r, i) => [r.id, fs[i]!.mean]));
Deno.writeTextFileSync(`${dir}nbeats.json`, JSON.stringify(Object.fromEntries(nbeats)));

const models = new Map<string, Map<string, number[]>>([["nbeats", nbeats]]);
for (const m of ["naive2", "seasonal_naive", "auto_ets", "auto_arima", "mstl"]) {
  try {
    models.set(
      m,
      new Map(Object.entries(JSON.parse(Deno.readTextFileSync(`${dir}${m}.json`)) as Record<string, number[]>)),
    );
  } catch { /* not saved */ }
}
const median = (v: number[]) => {
  const s = v.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2;
};
for (
  const set of [["auto_arima", "mstl"], ["auto_arima", "mstl", "nbeats"], ["auto_arima", "auto_ets", "mstl", "nbeats"]]
) {
  if (!set.every((m) => models.has(m))) continue;
  const fc = new Map<string, number[]>();
  for (const r of rows.slice(0, LIMIT)) {
    fc.set(
      r.id,
      [...Array(48).keys()].map((k) => median(set.map((m) => models.get(m)!.get(r.id)![k]!))),
    );
  }
  models.set(`median(${set.join(",")})`, fc);
}
const score = (fc: Map<string, number[]>, n: number) => {
  let s = 0, q = 0;
  for (let i = 0; i < n; i++) {
    const f = fc.get(rows[i]!.id)!;
    s += smape(actual[i]!, f);
    q += mase(train[i]!, actual[i]!, f, 24);
  }
  return [s / n, q / n] as const;
};
const base = models.has("naive2") ? score(models.get("naive2")!, LIMIT) : undefined;
const [s414, m414] = score(nbeats, rows.length);
console.log(`nbeats on all ${rows.length}: sMAPE ${s414.toFixed(3)} MASE ${m414.toFixed(3)}`);
console.log(`first ${LIMIT} series\tsMAPE\tMASE\tOWA`);
for (const [name, fc] of models) {
  if (![...fc.keys()].length || !fc.has(rows[LIMIT - 1]!.id)) continue;
  const [s, m] = score(fc, LIMIT);
  console.log(`${name}\t${s.toFixed(3)}\t${m.toFixed(3)}\t${base ? owa(s, m, base[0], base[1]).toFixed(3) : ""}`);
}
console.log(`load average ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
