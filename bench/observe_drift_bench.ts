/**
 * `deno task bench:observe-drift`: a drift report over `--rows` rows × 50
 * features (40 numerical, 10 categorical; reference and current windows of
 * `--rows` rows each, a third of the columns shifted) with
 * `@mercury/observe/stats` `dataDrift` against Evidently 0.7.23's
 * `DataDriftPreset` (`Report.run`, in the venv of
 * bench/peers/evidently/requirements.txt) on the same data in the same run.
 * Both sides get the data already in memory (the timing excludes loading);
 * medians of `--reps` runs, wall-clock and process CPU time (user + system:
 * the fairer figure on a shared, loaded machine; both are single-threaded
 * here). Checks every column's test, value (to 1e-6) and
 * decision and the dataset decision are the same, then prints and records
 * the ratio in bench/results/observe_drift.json.
 *
 * usage: deno task bench:observe-drift [--rows 1000000] [--reps 3]
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import { normal, seededRandom } from "@mercury/core/random";
import { type ColumnKind, dataDrift } from "@mercury/observe/stats";
import { ensureVenv } from "../tasks/python.ts";
import { cpuUsage } from "node:process";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const ROWS = arg("rows", 1_000_000);
const REPS = arg("reps", 3);
const NUMERICAL = 40, CATEGORICAL = 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const dir = `${ROOT}/.mercury/bench/observe_drift`;
await Deno.mkdir(dir, { recursive: true });
const columns: { name: string; kind: ColumnKind }[] = [
  ...Array.from({ length: NUMERICAL }, (_, i) => ({ name: `num_${i}`, kind: "numerical" as const })),
  ...Array.from({ length: CATEGORICAL }, (_, i) => ({ name: `cat_${i}`, kind: "categorical" as const })),
];

console.error(`generating ${ROWS.toLocaleString()} × ${columns.length} reference and current rows…`);
const data: Record<"reference" | "current", Record<string, Float64Array>> = { reference: {}, current: {} };
for (const side of ["reference", "current"] as const) {
  const r = seededRandom(side === "reference" ? 1 : 2);
  columns.forEach((c, k) => {
    const shift = side === "current" && k % 3 === 0 ? 0.15 : 0;
    const xs = new Float64Array(ROWS);
    if (c.kind === "numerical") {
      for (let i = 0; i < ROWS; i++) xs[i] = normal(r, shift * (1 + (k % 4)), 1 + (k % 5) / 4);
    } else {
      const card = 3 + (k % 6);
      for (let i = 0; i < ROWS; i++) {
        const u = r();
        xs[i] = u < shift ? 0 : Math.floor(r() * card);
      }
    }
    data[side][c.name] = xs;
  });
}
for (const side of ["reference", "current"] as const) {
  for (const c of columns) {
    const arr = data[side][c.name]!;
    await Deno.writeFile(`${dir}/${side}_${c.name}.f64`, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  }
}
await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify({ dir, columns }));

const kinds = Object.fromEntries(columns.map((c) => [c.name, c.kind]));
const mercurySeconds: number[] = [], mercuryCpu: number[] = [];
let report = dataDrift(data.reference, data.current, { kinds });
for (let i = 0; i < REPS; i++) {
  const t0 = performance.now(), c0 = cpuUsage();
  report = dataDrift(data.reference, data.current, { kinds });
  const c = cpuUsage(c0);
  mercurySeconds.push((performance.now() - t0) / 1000);
  mercuryCpu.push((c.user + c.system) / 1e6);
  console.error(
    `mercury run ${i + 1}: ${mercurySeconds.at(-1)!.toFixed(2)} s wall, ${mercuryCpu.at(-1)!.toFixed(2)} s CPU`,
  );
}

console.error(`Evidently DataDriftPreset, ${REPS} runs…`);
const python = await ensureVenv(
  `${ROOT}/.mercury/peers/evidently/venv`,
  `${ROOT}/bench/peers/evidently/requirements.txt`,
  "Evidently",
);
const out = await new Deno.Command(python, {
  args: [`${ROOT}/bench/peers/evidently/drift_peer.py`, `${dir}/meta.json`, String(REPS)],
  stderr: "inherit",
}).output();
if (!out.success) throw new Error("the Evidently peer failed");
const peer = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!) as {
  seconds: number[];
  cpu_seconds: number[];
  columns: Record<string, { value: number; method: string }>;
  share: number;
};

// same tests, values and decisions
const METHOD: Record<string, string> = {
  ks: "K-S p_value",
  chisquare: "chi-square p_value",
  z: "Z-test p_value",
  wasserstein: "Wasserstein distance (normed)",
  jensenshannon: "Jensen-Shannon distance",
};
let worst = 0;
for (const c of report.columns) {
  const p = peer.columns[c.column]!;
  if (METHOD[c.test] !== p.method) throw new Error(`${c.column}: test ${c.test} vs Evidently's ${p.method}`);
  worst = Math.max(worst, Math.abs(c.score - p.value));
}
if (worst > 1e-6) throw new Error(`values differ from Evidently's by up to ${worst}`);
if (Math.abs(report.shareDrifted - peer.share) > 1e-12) {
  throw new Error(`share ${report.shareDrifted} vs ${peer.share}`);
}

const m = median(mercurySeconds), e = median(peer.seconds);
const mc = median(mercuryCpu), ec = median(peer.cpu_seconds);
const result = {
  command: `deno task bench:observe-drift --rows ${ROWS} --reps ${REPS}`,
  rows: ROWS,
  features: columns.length,
  mercury_seconds: mercurySeconds,
  evidently_seconds: peer.seconds,
  mercury_cpu_seconds: mercuryCpu,
  evidently_cpu_seconds: peer.cpu_seconds,
  mercury_median_s: m,
  evidently_median_s: e,
  speedup: e / m,
  mercury_median_cpu_s: mc,
  evidently_median_cpu_s: ec,
  speedup_cpu: ec / mc,
  load_average: Deno.loadavg(),
  drifted_columns: report.driftedColumns,
  dataset_drift: report.datasetDrift,
  max_value_difference: worst,
  tests: [...new Set(report.columns.map((c) => c.test))],
};
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
await writeFileAtomic(`${ROOT}/bench/results/observe_drift.json`, JSON.stringify(result, null, 2) + "\n");
console.log(
  `drift report ${ROWS.toLocaleString()} rows × ${columns.length} features (reference and current each): ` +
    `mercury ${m.toFixed(2)} s, Evidently ${e.toFixed(2)} s wall (medians of ${REPS}) → ${
      (e / m).toFixed(1)
    }× faster; ` +
    `CPU ${mc.toFixed(2)} s vs ${ec.toFixed(2)} s → ${(ec / mc).toFixed(1)}×; ` +
    `same tests, values within ${
      worst.toExponential(1)
    }, ${report.driftedColumns}/${columns.length} drifted, dataset drift ${report.datasetDrift} (both)`,
);
