/**
 * `deno task bench:spark-scale`: the scale model of `@mercury/spark/analyze`
 * fitted to the TPC-H runs of `bench:spark` at two or more scale factors
 * (`bench/results/spark.json` for SF1, `spark-sf10.json` for SF10, …: wall
 * time of the Deno client, the cluster's task core-seconds and shuffle per
 * pass), then extrapolated to 1 TB, 10 TB and 1 PB of Parquet on clusters of
 * 4-core, 16 GB executors. Prints the table the spark README shows and writes
 * `bench/results/spark-scale.json`.
 *
 * @module
 */
import {
  DEFAULT_PRICES,
  executorsFor,
  extrapolate,
  fitScale,
  fitSingleNode,
  type ScaleSample,
  singleNodeCapacityGB,
} from "@mercury/spark/analyze";
import { ROOT } from "./_tpch.ts";

interface Result {
  command: string;
  summary: {
    sf: number;
    denoTotalMs: number;
    duckdbTotalMs?: number;
    perPass?: { inputGB: number; executorCores: number; taskCoreS: number; shuffleWriteGB: number };
  };
}

const samples: ScaleSample[] = [];
const duckSamples: { inputGB: number; wallS: number }[] = [];
for (const entry of Deno.readDirSync(`${ROOT}/bench/results`)) {
  if (!/^spark(-sf\d+)?\.json$/.test(entry.name)) continue;
  const r = JSON.parse(Deno.readTextFileSync(`${ROOT}/bench/results/${entry.name}`)) as Result;
  const p = r.summary.perPass;
  if (!p) continue; // a run from before the bench recorded the cluster's totals
  if (r.summary.duckdbTotalMs) duckSamples.push({ inputGB: p.inputGB, wallS: r.summary.duckdbTotalMs / 1000 });
  samples.push({
    label: `SF${r.summary.sf}`,
    inputGB: p.inputGB,
    cores: p.executorCores,
    wallS: r.summary.denoTotalMs / 1000,
    taskCoreS: p.taskCoreS,
    shuffleGB: p.shuffleWriteGB,
  });
}
samples.sort((a, b) => a.inputGB - b.inputGB);
const model = fitScale(samples);
const fmtS = (
  s: number,
) => (s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);
console.log(
  `fitted on ${samples.map((s) => `${s.label} (${s.inputGB.toFixed(2)} GB, ${s.wallS.toFixed(0)} s)`).join(", ")}: ` +
    `fixed ${model.fixedS.toFixed(1)} s, ${model.coreSPerGB.toFixed(0)} task core-s per GB (local efficiency ${
      model.localEfficiency.toFixed(2)
    }), ` +
    `${model.shufflePerInputGB.toFixed(2)} GB shuffled per GB`,
);
for (const f of model.fit) {
  console.log(`  ${f.label}: measured ${f.measuredS.toFixed(1)} s, model ${f.modelS.toFixed(1)} s`);
}
const rows = [];
for (const inputGB of [1_000, 10_000, 1_000_000]) {
  for (const executors of [50, 200, 1_000]) {
    const e = extrapolate(model, { inputGB, executors, coresPerExecutor: 4, memoryGbPerExecutor: 16 });
    rows.push(e);
    console.log(
      `| ${inputGB >= 1e6 ? `${inputGB / 1e6} PB` : `${inputGB / 1e3} TB`} | ${executors} × 4 cores | ${
        fmtS(e.wallS)
      } | ${fmtS(e.computeS)} | ${fmtS(e.shuffleS)} | ${e.shuffleGB.toFixed(0)} GB | ${e.coreHours.toFixed(0)} | ${
        e.money.toFixed(0)
      } ${e.currency} |`,
    );
  }
}
// The crossover as a data size: the most one machine running DuckDB (same queries, same Parquet, in the same bench
// runs) finishes within a time budget, and the Spark cluster the model needs for that size in the same budget.
const duck = fitSingleNode(duckSamples, navigator.hardwareConcurrency);
console.log(
  `\nDuckDB on this machine (${duck.cores} cores), fitted on ${duckSamples.length} sizes: fixed ${
    duck.fixedS.toFixed(1)
  } s, ${duck.sPerGB.toFixed(1)} s per GB`,
);
console.log(
  "| budget per pass | DuckDB, this machine | DuckDB, 16 cores (e 0.7) | Spark for that size in that budget |",
);
const crossover = [];
for (const budgetS of [60, 600, 3600, 8 * 3600]) {
  const here = singleNodeCapacityGB(duck, budgetS);
  const big = singleNodeCapacityGB(duck, budgetS, 16, 0.7);
  const n = executorsFor(model, big, budgetS, 4);
  crossover.push({ budgetS, duckdbHereGB: here, duckdb16CoresGB: big, sparkExecutors4Cores: n });
  console.log(
    `| ${fmtS(budgetS)} | ${here.toFixed(1)} GB | ${big.toFixed(0)} GB | ${
      Number.isFinite(n) ? `${n} × 4 cores (${n * 4} cores)` : "not within the budget"
    } |`,
  );
}

await Deno.writeTextFile(
  `${ROOT}/bench/results/spark-scale.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      command: "deno task bench:spark-scale",
      samples,
      model,
      duckdb: { samples: duckSamples, model: duck },
      crossover,
      assumptions: { efficiency: 0.7, networkGBpsPerExecutor: 1.25, prices: DEFAULT_PRICES },
      rows,
    },
    null,
    2,
  ) + "\n",
);
