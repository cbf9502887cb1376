/**
 * `deno task bench:quality [--rows N] [--runs R]`: one suite of 48 GX Core
 * expectations over the same Parquet file through Great Expectations 1.24.1
 * (pandas datasource, its documented default set-up: ephemeral context,
 * `add_pandas`, whole-dataframe batch, `batch.validate(suite)`, SUMMARY
 * results) and through `dq-validate check` (one DuckDB scan). Prints the
 * per-expectation comparison of success, observed_value and
 * unexpected_count (a mismatch fails the bench), then wall time and peak
 * RSS (GNU time) of both processes, medians over the runs, and the ratio,
 * with the load average at each run. The two run interleaved (ours, GX, ours,
 * GX, …). Writes bench/results/quality.json after every round, so a long run
 * stopped early still leaves the rounds it finished (`runs_completed`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  compareRuns,
  gxPython,
  makeParityData,
  paritySuite,
  parityTable,
  runGx,
} from "./peers/great_expectations/parity.ts";
import type { ExpectationResult } from "../plugins/quality/types.ts";
import { compareSoda, runSoda, SODA_CHECKS, sodaPython } from "./peers/soda/soda.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "10000000" },
    runs: { type: "string", default: "3" },
    peers: { type: "string", default: "gx,soda" },
  },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
const peers = new Set(String(values.peers).split(","));
const TIME = "/usr/bin/time";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function ensureTime(): Promise<void> {
  try {
    await Deno.stat(TIME);
  } catch {
    const { aptInstall } = await import("../tasks/services/_process.ts");
    await aptInstall(["time"], "GNU time (peak memory)");
  }
}

async function runOurs(
  path: string,
  suitePath: string,
): Promise<{ results: ExpectationResult[]; wallS: number; maxRssKb: number; cpuS: number }> {
  const rss = await Deno.makeTempFile();
  const out = await Deno.makeTempFile({ suffix: ".json" });
  const t0 = performance.now();
  const r = await new Deno.Command(TIME, {
    args: [
      "-f",
      "%M %U %S",
      "-o",
      rss,
      Deno.execPath(),
      "run",
      "-A",
      "plugins/quality/cli.ts",
      "check",
      "--config",
      suitePath,
      "--source",
      path,
      "--output",
      out,
      "--no-failing-rows",
      "--no-store",
      "--format",
      "json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallS = (performance.now() - t0) / 1000;
  if (r.code !== 0 && r.code !== 1) throw new Error(`dq-validate failed: ${new TextDecoder().decode(r.stderr)}`);
  const run = JSON.parse(await Deno.readTextFile(out));
  const [m, u, sy] = (await Deno.readTextFile(rss)).trim().split("\n").pop()!.split(" ").map(Number);
  await Deno.remove(rss);
  await Deno.remove(out);
  return { results: run.results, wallS, maxRssKb: m!, cpuS: u! + sy! };
}

await ensureTime();
const dir = ".mercury/bench/quality";
await Deno.mkdir(dir, { recursive: true });
const path = `${Deno.cwd()}/${dir}/parity_${rows}.parquet`;
try {
  await Deno.stat(path);
} catch {
  console.error(`writing ${rows} rows to ${path}…`);
  await makeParityData(path, rows);
}
const suite = paritySuite(rows);
const suitePath = `${dir}/parity_suite.json`;
await Deno.writeTextFile(suitePath, JSON.stringify(suite, null, 2));
let summary: Record<string, unknown> = {
  rows,
  command: `deno task bench:quality --rows ${rows} --runs ${runs} --peers ${values.peers}`,
};
let mismatchCount = 0;
if (peers.has("gx")) {
  const { python, installSeconds } = await gxPython();
  if (installSeconds > 1) console.error(`Great Expectations venv installed in ${installSeconds.toFixed(0)} s`);

  const ours: { wallS: number; maxRssKb: number; cpuS: number; load: string }[] = [];
  const gxs: { wallS: number; validateS: number; maxRssKb: number; cpuS: number; load: string }[] = [];
  let lastOurs: ExpectationResult[] = [], lastGx: ExpectationResult[] = [];
  const loadavg = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  let gxSummary: Record<string, unknown> = {};
  for (let i = 0; i < runs; i++) {
    const o = await runOurs(path, suitePath);
    ours.push({ wallS: o.wallS, maxRssKb: o.maxRssKb, cpuS: o.cpuS, load: await loadavg() });
    lastOurs = o.results;
    const g = await runGx(python, path, suite, TIME);
    gxs.push({
      wallS: g.wallS,
      validateS: g.timing.validate_s,
      maxRssKb: g.maxRssKb ?? 0,
      cpuS: g.cpuS ?? 0,
      load: await loadavg(),
    });
    lastGx = g.results;
    console.error(
      `run ${i + 1}: dq-validate ${o.wallS.toFixed(2)} s wall / ${o.cpuS.toFixed(1)} s CPU (load ${
        ours.at(-1)!.load
      }), GX ${g.wallS.toFixed(2)} s wall / ${(g.cpuS ?? 0).toFixed(1)} s CPU (validate ${
        g.timing.validate_s.toFixed(2)
      } s; load ${gxs.at(-1)!.load})`,
    );
    const table = compareRuns(lastOurs, lastGx);
    const mismatches = table.filter((r) => !r.equal);
    mismatchCount = mismatches.length;
    const oursS = median(ours.map((o) => o.wallS));
    const gxS = median(gxs.map((g) => g.wallS));
    const gxValidateS = median(gxs.map((g) => g.validateS));
    const oursCpu = median(ours.map((o) => o.cpuS));
    const gxCpu = median(gxs.map((g) => g.cpuS));
    const load = await loadavg();
    gxSummary = {
      rows,
      expectations: suite.expectations.length,
      runs,
      runs_completed: i + 1,
      machine: `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
      command: `deno task bench:quality --rows ${rows} --runs ${runs}`,
      mismatches: mismatches.length,
      load_average_at_end: load,
      dq_validate: {
        median_wall_s: oursS,
        median_cpu_s: oursCpu,
        median_peak_rss_mb: median(ours.map((o) => o.maxRssKb)) / 1024,
        per_run: ours,
      },
      great_expectations: {
        version: "1.24.1 (pandas)",
        median_wall_s: gxS,
        median_cpu_s: gxCpu,
        median_validate_s: gxValidateS,
        median_peak_rss_mb: median(gxs.map((g) => g.maxRssKb)) / 1024,
        per_run: gxs,
      },
      speedup_wall: gxS / oursS,
      speedup_cpu: gxCpu / oursCpu,
      speedup_vs_gx_validate_only: gxValidateS / oursS,
    };
    await Deno.mkdir("bench/results", { recursive: true });
    await Deno.writeTextFile("bench/results/quality.json", JSON.stringify(gxSummary, null, 2) + "\n");
    if (i < runs - 1) continue;
    console.log(parityTable(table));
    const ratio = (x: unknown) => (x as number).toFixed(1);
    console.log(
      `\n${rows} rows, ${suite.expectations.length} expectations, median of ${runs}:` +
        `\n  dq-validate          ${oursS.toFixed(2)} s wall (process start to exit), peak RSS ${
          (median(ours.map((o) => o.maxRssKb)) / 1024).toFixed(0)
        } MB` +
        `\n  Great Expectations   ${gxS.toFixed(2)} s wall (${gxValidateS.toFixed(2)} s in batch.validate), peak RSS ${
          (median(gxs.map((g) => g.maxRssKb)) / 1024).toFixed(0)
        } MB` +
        `\n  CPU (user+sys)       dq-validate ${oursCpu.toFixed(1)} s, GX ${
          gxCpu.toFixed(1)
        } s (load average ${load})` +
        `\n  ratio                ${ratio(gxSummary.speedup_wall)}× (wall), ${ratio(gxSummary.speedup_cpu)}× (CPU), ${
          ratio(gxSummary.speedup_vs_gx_validate_only)
        }× (GX validate only vs dq-validate wall)` +
        `\n  parity               ${table.length - mismatches.length}/${table.length} expectations equal`,
    );
  }
  summary = gxSummary;
}
// Soda Core, if it installs and runs here: the same SodaCL lines through Soda's DuckDB source and our shorthand.
let soda: Record<string, unknown> = { ran: false };
if (peers.has("soda")) {
  try {
    const sodaPy = await sodaPython();
    const sodaSuite = `${dir}/soda_suite.yaml`;
    await Deno.writeTextFile(
      sodaSuite,
      `name: soda_parity\nchecks:\n${SODA_CHECKS.map((c) => `  - ${c}`).join("\n")}\n`,
    );
    const o = await runOurs(path, sodaSuite);
    const sres = await runSoda(sodaPy, path, TIME);
    const cmp = compareSoda(o.results, sres.checks);
    for (const c of cmp) {
      console.log(
        `${c.equal ? "=" : "≠"} ${c.check.padEnd(36)} ours ${JSON.stringify(c.ours)}  soda ${JSON.stringify(c.soda)}`,
      );
    }
    soda = {
      ran: true,
      checks: cmp.length,
      equal: cmp.filter((c) => c.equal).length,
      dq_validate: { wall_s: o.wallS, cpu_s: o.cpuS, peak_rss_mb: o.maxRssKb / 1024 },
      soda_core: {
        version: "soda-core-duckdb 3.5.6",
        wall_s: sres.wallS,
        cpu_s: sres.cpuS,
        peak_rss_mb: sres.maxRssKb / 1024,
      },
    };
    console.log(
      `Soda Core (${cmp.length} checks, one run): dq-validate ${o.cpuS.toFixed(1)} s CPU / ${
        o.wallS.toFixed(1)
      } s wall, Soda ${sres.cpuS.toFixed(1)} s CPU / ${sres.wallS.toFixed(1)} s wall`,
    );
  } catch (err) {
    soda = { ran: false, reason: (err as Error).message.split("\n")[0] };
    console.log(`Soda Core not run: ${soda.reason}`);
  }
}
summary.soda = soda;
await Deno.mkdir("bench/results", { recursive: true });
await Deno.writeTextFile(
  `bench/results/${peers.has("gx") ? "quality" : "quality_soda"}.json`,
  JSON.stringify(summary, null, 2) + "\n",
);
if (mismatchCount) {
  console.error(`${mismatchCount} expectation(s) differ from Great Expectations`);
  Deno.exit(1);
}
