/**
 * Development-data evaluation of the forecasters: mean MASE (M4 definition) of each algorithm on a seeded synthetic
 * set (plugins/forecast/synthetic.ts), the last horizon of each series held out. Rules and defaults of the models are
 * chosen with this, never on a test horizon.
 *
 *   deno run -A data/forecast_dev_eval.ts weekly 40 auto_ets,naive,seasonal_naive
 *
 * Prints one row per algorithm: mean MASE, median MASE, and the share of series whose first forecast step lies outside
 * the last season's range widened by half of it.
 */
import { createForecaster, mase, syntheticSet } from "@mercury/forecast";
import type { SyntheticKind } from "@mercury/forecast";

const [kind = "weekly", count = "40", algos = "auto_ets,naive,seasonal_naive", paramsJson = "{}"] = Deno.args;
const set = syntheticSet(kind as SyntheticKind, Number(count));
const params = JSON.parse(paramsJson) as Record<string, Record<string, unknown>>;
for (const name of algos.split(",")) {
  const scores: number[] = [];
  let far = 0;
  const models = new Map<string, number>();
  const t0 = performance.now();
  for (const s of set) {
    const train = s.y.slice(0, s.y.length - s.h), test = s.y.slice(s.y.length - s.h);
    const model = createForecaster(name, params[name] ?? {});
    await model.fit(train, { season: s.m });
    const f = model.predict(s.h, []).mean;
    scores.push(mase(train, test, f, s.m));
    const last = train.slice(-Math.max(s.m, 8));
    const lo = Math.min(...last), hi = Math.max(...last), w = 0.5 * (hi - lo);
    if (f[0]! < lo - w || f[0]! > hi + w) far++;
    const d = model.describe().replace(/\(θ.*|×.*/, "");
    models.set(d, (models.get(d) ?? 0) + 1);
  }
  const sorted = scores.slice().sort((a, b) => a - b);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  console.log(
    `${kind} ${name.padEnd(16)} mean MASE ${mean.toFixed(3)}  median ${sorted[sorted.length >> 1]!.toFixed(3)}  ` +
      `far first step ${far}/${set.length}  ${((performance.now() - t0) / 1000).toFixed(1)} s  ` +
      [...models].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k}:${v}`).join(" "),
  );
}
