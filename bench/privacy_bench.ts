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
 *    groups per unit). Plain and DP runs alternate; medians of `--reps`
 *    runs each after a warm-up (the bounded query: `--bounded-reps`,
 *    default 1, no warm-up). The samplers: ours and OpenDP's alternate,
 *    medians of `--reps`. Every figure is printed with the load average.
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
const load = () => Deno.loadavg().map((x) => +x.toFixed(2));
const samplers = [];
for (const sigma of [3, 1000]) {
  const s2 = BigInt(sigma * sigma);
  for (let i = 0; i < 1000; i++) sampleDiscreteGaussian(s2); // warm-up
  // Ours and OpenDP's one after the other, REPS times: medians of each.
  const oursRuns: number[] = [], peerRuns: number[] = [];
  let oursVar = 0, peerVar = 0;
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    let sum = 0, sumSq = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const z = Number(sampleDiscreteGaussian(s2));
      sum += z;
      sumSq += z * z;
    }
    oursRuns.push(SAMPLES / ((performance.now() - t0) / 1000));
    oursVar = sumSq / SAMPLES - (sum / SAMPLES) ** 2;
    const out = await new Deno.Command(python, {
      args: [`${ROOT}/bench/peers/dp_accounting/sampler_peer.py`, String(sigma), String(PEER_SAMPLES)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("the OpenDP sampler peer failed");
    const peer = JSON.parse(new TextDecoder().decode(out.stdout));
    peerRuns.push(peer.n / peer.seconds);
    peerVar = peer.var;
  }
  const ours = median(oursRuns), opendp = median(peerRuns);
  samplers.push({
    sigma,
    oursPerSec: ours,
    oursVar,
    opendpPerSec: opendp,
    opendpVar: peerVar,
    ratio: ours / opendp,
    reps: REPS,
    loadAverage: load(),
  });
  console.log(
    `discrete Gaussian σ=${sigma}: ours ${Math.round(ours).toLocaleString()}/s (var ${oursVar.toFixed(1)}), ` +
      `OpenDP ${Math.round(opendp).toLocaleString()}/s (var ${peerVar.toFixed(1)}): ×${(ours / opendp).toFixed(2)}` +
      ` (medians of ${REPS}; load average ${load().join(" ")})`,
  );
}

// 2. DP SQL overhead.
using db = await openDuckDB();
const c = db.connection;
await c.run(
  `create table t as select i % 1000000 as pid, (i * 7) % 50 as g, (i % 997)::double as x from range(${ROWS}) r(i)`,
);
const sql = "select g, count(*), sum(x), avg(x) from t group by g";
// Plain and DP runs alternate (after one warm-up of each), so both see the same load; medians of REPS.
const run = {
  plain: () => c.runAndReadAll(sql),
  dpRow: () => dpQuery(c, sql, { epsilon: 1, bounds: { x: [0, 1000] } }),
  dpUnit: () =>
    dpQuery(c, sql, {
      epsilon: 1,
      bounds: { x: [0, 1000] },
      privacyUnit: "pid",
      maxRowsPerUnit: 10,
      maxGroupsPerUnit: 5,
    }),
};
const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};
await run.plain();
await run.dpRow();
const plainRuns: number[] = [], dpRowRuns: number[] = [], dpUnitRuns: number[] = [];
for (let i = 0; i < REPS; i++) {
  plainRuns.push(await timed(run.plain));
  dpRowRuns.push(await timed(run.dpRow));
  // Per-unit bounding takes tens of seconds at 10M rows: BOUNDED_REPS of them, no warm-up.
  if (i < BOUNDED_REPS) dpUnitRuns.push(await timed(run.dpUnit));
}
const plainMs = median(plainRuns), dpRowMs = median(dpRowRuns), dpUnitMs = median(dpUnitRuns);
const dpsql = {
  rows: ROWS,
  query: sql,
  plainMs,
  dpRowUnitMs: dpRowMs,
  dpBoundedMs: dpUnitMs,
  overheadRowUnit: dpRowMs / plainMs,
  overheadBounded: dpUnitMs / plainMs,
  reps: REPS,
  boundedReps: BOUNDED_REPS,
  runsMs: { plain: plainRuns, dpRowUnit: dpRowRuns, dpBounded: dpUnitRuns },
  loadAverage: load(),
};
console.log(
  `DP SQL on ${ROWS.toLocaleString()} rows: plain ${plainMs.toFixed(0)} ms, DP (row = unit) ${
    dpRowMs.toFixed(0)
  } ms (×${dpsql.overheadRowUnit.toFixed(2)}), DP with per-unit bounding ${dpUnitMs.toFixed(0)} ms (×${
    dpsql.overheadBounded.toFixed(2)
  }); load average ${load().join(" ")}`,
);
const result = {
  at: new Date().toISOString(),
  command: `deno task bench:privacy ${Deno.args.join(" ")}`.trim(),
  samplers,
  dpsql,
};
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
const out = `${ROOT}/bench/results/privacy.json`;
await Deno.writeTextFile(`${out}.tmp`, JSON.stringify(result, null, 2) + "\n");
await Deno.rename(`${out}.tmp`, out);
