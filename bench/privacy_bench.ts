/**
 * `deno task bench:privacy`: throughput of the privacy plugin's exact
 * samplers and DP SQL, each against a peer in the same run.
 *
 * 1. Discrete Gaussian samples per second (σ = 3 and σ = 1000): ours (CKS20
 *    on BigInt rationals, `crypto.getRandomValues`) against OpenDP 0.16's
 *    `make_gaussian` on integers (Rust, CKS20 on `rug` rationals), run from
 *    the venv of bench/peers/dp_accounting. Sample variances are printed so
 *    both are seen to draw the same distribution.
 * 2. DP SQL overhead on 10,000,000 rows in DuckDB: `select g, count(*),
 *    sum(x), avg(x) from t group by g` plain, through `dpQuery` with each
 *    row its own privacy unit, and through `dpQuery` with per-unit
 *    contribution bounding (1,000,000 units, ≤ 10 rows per group, ≤ 5
 *    groups per unit). Median of `--reps` runs each after a warm-up (the
 *    bounded query: `--bounded-reps`, default 1, no warm-up).
 *
 * Writes bench/results/privacy.json.
 *
 * usage: deno task bench:privacy [--rows 10000000] [--reps 3] [--bounded-reps 1] [--samples 100000] [--peer-samples 20000]
 *
 * @module
 */
import { openDuckDB } from "@mercury/core/services/duckdb";
import { dpQuery } from "@mercury/privacy/dpsql";
import { sampleDiscreteGaussian } from "@mercury/privacy/mechanisms/samplers";
import { ensureVenv } from "../tasks/python.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const ROWS = arg("rows", 10_000_000);
const REPS = arg("reps", 3);
const SAMPLES = arg("samples", 100_000);
const PEER_SAMPLES = arg("peer-samples", 20_000);
// Per-unit bounding sorts every row twice (two window functions): tens of seconds at 10M rows, so one run by default.
const BOUNDED_REPS = arg("bounded-reps", 1);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// 1. Samplers.
const python = await ensureVenv(
  `${ROOT}/.mercury/peers/dp_accounting/venv`,
  `${ROOT}/bench/peers/dp_accounting/requirements.txt`,
  "dp-accounting and OpenDP",
);
const samplers = [];
for (const sigma of [3, 1000]) {
  const s2 = BigInt(sigma * sigma);
  for (let i = 0; i < 1000; i++) sampleDiscreteGaussian(s2); // warm-up
  const t0 = performance.now();
  let sum = 0, sumSq = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const z = Number(sampleDiscreteGaussian(s2));
    sum += z;
    sumSq += z * z;
  }
  const ours = SAMPLES / ((performance.now() - t0) / 1000);
  const oursVar = sumSq / SAMPLES - (sum / SAMPLES) ** 2;
  const out = await new Deno.Command(python, {
    args: [`${ROOT}/bench/peers/dp_accounting/sampler_peer.py`, String(sigma), String(PEER_SAMPLES)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("the OpenDP sampler peer failed");
  const peer = JSON.parse(new TextDecoder().decode(out.stdout));
  const opendp = peer.n / peer.seconds;
  samplers.push({ sigma, oursPerSec: ours, oursVar, opendpPerSec: opendp, opendpVar: peer.var, ratio: ours / opendp });
  console.log(
    `discrete Gaussian σ=${sigma}: ours ${Math.round(ours).toLocaleString()}/s (var ${oursVar.toFixed(1)}), ` +
      `OpenDP ${Math.round(opendp).toLocaleString()}/s (var ${peer.var.toFixed(1)}): ×${(ours / opendp).toFixed(2)}`,
  );
}

// 2. DP SQL overhead.
using db = await openDuckDB();
const c = db.connection;
await c.run(
  `create table t as select i % 1000000 as pid, (i * 7) % 50 as g, (i % 997)::double as x from range(${ROWS}) r(i)`,
);
const sql = "select g, count(*), sum(x), avg(x) from t group by g";
const time = async (f: () => Promise<unknown>, reps = REPS, warm = true) => {
  if (warm) await f();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
};
const plainMs = await time(() => c.runAndReadAll(sql));
const dpRowMs = await time(() => dpQuery(c, sql, { epsilon: 1, bounds: { x: [0, 1000] } }));
const dpUnitMs = await time(
  () =>
    dpQuery(c, sql, {
      epsilon: 1,
      bounds: { x: [0, 1000] },
      privacyUnit: "pid",
      maxRowsPerUnit: 10,
      maxGroupsPerUnit: 5,
    }),
  BOUNDED_REPS,
  false,
);
const dpsql = {
  rows: ROWS,
  query: sql,
  plainMs,
  dpRowUnitMs: dpRowMs,
  dpBoundedMs: dpUnitMs,
  overheadRowUnit: dpRowMs / plainMs,
  overheadBounded: dpUnitMs / plainMs,
};
console.log(
  `DP SQL on ${ROWS.toLocaleString()} rows: plain ${plainMs.toFixed(0)} ms, DP (row = unit) ${
    dpRowMs.toFixed(0)
  } ms (×${dpsql.overheadRowUnit.toFixed(2)}), DP with per-unit bounding ${dpUnitMs.toFixed(0)} ms (×${
    dpsql.overheadBounded.toFixed(2)
  })`,
);
const result = {
  at: new Date().toISOString(),
  command: `deno task bench:privacy ${Deno.args.join(" ")}`.trim(),
  samplers,
  dpsql,
};
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
await Deno.writeTextFile(`${ROOT}/bench/results/privacy.json`, JSON.stringify(result, null, 2) + "\n");
