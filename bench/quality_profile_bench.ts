/**
 * `deno task bench:quality-profile [--rows N] [--peer-rows M] [--runs R]`: the
 * profiler on the 20-column orders table (plugins/quality/profile/sample_data.ts,
 * Parquet written once under .mercury/bench/quality/) against two peers in the
 * same run on the same files:
 *
 * - DuckDB's `SUMMARIZE` (min, max, approx_unique, avg, std, q25/q50/q75,
 *   count, null %) on the N-row file (default 10,000,000 rows, the goal size);
 * - whylogs 1.6 (pip, venv under .mercury/peers/whylogs) on the M-row file
 *   (default 1,000,000: whylogs profiles 1M rows in minutes here, 10M would
 *   take half an hour), with Mercury's profile of the same M-row file, and a
 *   check that row, null and (within 2 %) distinct counts agree.
 *
 * Prints medians and ratios; writes bench/results/quality_profile.json
 * (`--peer-rows 0` skips whylogs).
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { profileRelation } from "../plugins/quality/profile/profile.ts";
import { writeOrdersParquet } from "../plugins/quality/profile/sample_data.ts";
import { ensureVenv } from "../tasks/python.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "10000000" },
    "peer-rows": { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
  },
});
const rows = Number(values.rows);
const peerRows = Number(values["peer-rows"]);
const runs = Number(values.runs);
const dir = `${ROOT}/.mercury/bench/quality`;
await Deno.mkdir(dir, { recursive: true });

using db = await openDuckDB();
async function dataFile(n: number): Promise<string> {
  const path = `${dir}/orders_${n}.parquet`;
  try {
    await Deno.stat(path);
  } catch {
    console.error(`writing ${n} rows to ${path}…`);
    await writeOrdersParquet(db.connection, `${path}.tmp`, n);
    await Deno.rename(`${path}.tmp`, path);
  }
  return path;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
/** Wall and CPU seconds (this process: DuckDB runs in it) of one call. */
async function timeOnce(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number; load: string }> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t) / 1000, cpu: (c.user + c.system) / 1e6, load: load() };
}

// Mercury vs SUMMARIZE on the goal size, interleaved.
const big = await dataFile(rows);
const rel = `read_parquet('${big}')`;
const mercuryRuns: { wall: number; cpu: number; load: string }[] = [];
const summarizeRuns: { wall: number; cpu: number; load: string }[] = [];
for (let i = 0; i < runs; i++) {
  const m = await timeOnce(() => profileRelation(db.connection, rel));
  mercuryRuns.push(m);
  const s = await timeOnce(() => db.connection.runAndReadAll(`summarize select * from ${rel}`));
  summarizeRuns.push(s);
  console.log(
    `run ${i + 1}: Mercury ${m.wall.toFixed(2)} s wall / ${m.cpu.toFixed(1)} s CPU (load ${m.load}); SUMMARIZE ${
      s.wall.toFixed(2)
    } s wall / ${s.cpu.toFixed(1)} s CPU (load ${s.load})`,
  );
}
const mercury = mercuryRuns.map((r) => r.wall);
const summarize = summarizeRuns.map((r) => r.wall);
const mercuryCpu = median(mercuryRuns.map((r) => r.cpu));
const summarizeCpu = median(summarizeRuns.map((r) => r.cpu));
console.log(
  `${rows} rows × 20 columns, median of ${runs}: Mercury profile ${median(mercury).toFixed(2)} s wall / ${
    mercuryCpu.toFixed(1)
  } s CPU, DuckDB SUMMARIZE ${median(summarize).toFixed(2)} s wall / ${summarizeCpu.toFixed(1)} s CPU, ratio ${
    (median(summarize) / median(mercury)).toFixed(2)
  }× wall, ${(summarizeCpu / mercuryCpu).toFixed(2)}× CPU (goal: profile under 10 s; load ${load()})`,
);

// Mercury vs whylogs on the peer size (`--peer-rows 0` skips it).
const result = {
  date: new Date().toISOString(),
  command: `deno task bench:quality-profile --rows ${rows} --peer-rows ${peerRows} --runs ${runs}`,
  load_average: Deno.loadavg(),
  goal: {
    rows,
    columns: 20,
    mercury_s: mercury,
    mercury_median_s: median(mercury),
    mercury_median_cpu_s: mercuryCpu,
    summarize_s: summarize,
    summarize_median_s: median(summarize),
    summarize_median_cpu_s: summarizeCpu,
    ratio: median(summarize) / median(mercury),
    ratio_cpu: summarizeCpu / mercuryCpu,
    per_run: { mercury: mercuryRuns, summarize: summarizeRuns },
  },
  whylogs: peerRows > 0 ? await whylogs() : null,
};
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
await Deno.writeTextFile(`${ROOT}/bench/results/quality_profile.json.tmp`, JSON.stringify(result, null, 2) + "\n");
await Deno.rename(`${ROOT}/bench/results/quality_profile.json.tmp`, `${ROOT}/bench/results/quality_profile.json`);

async function whylogs() {
  const small = await dataFile(peerRows);
  const python = await ensureVenv(
    `${ROOT}/.mercury/peers/whylogs/venv`,
    `${ROOT}/bench/peers/whylogs/requirements.txt`,
    "whylogs",
  );
  const out = await new Deno.Command(python, {
    args: [`${ROOT}/bench/peers/whylogs/profile_peer.py`, small],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`whylogs peer failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`);
  }
  const peer = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    read_s: number;
    profile_s: number;
    total_s: number;
    rows: number;
    columns: Record<string, { count: number; nulls: number; distinct: number | null }>;
  };
  const t0 = performance.now();
  const mine = await profileRelation(db.connection, `read_parquet('${small}')`);
  const mercurySmall = (performance.now() - t0) / 1000;
  const whylogsLoad = load();
  const disagreements: string[] = [];
  if (peer.rows !== mine.rows) disagreements.push(`rows ${mine.rows} vs ${peer.rows}`);
  for (const c of mine.columns) {
    const w = peer.columns[c.name];
    if (!w) continue;
    if (Number(w.nulls) !== c.nullCount) disagreements.push(`${c.name} nulls ${c.nullCount} vs ${w.nulls}`);
    if (w.distinct && Number(w.distinct) > 0 && Math.abs(Number(w.distinct) - c.distinct) / c.distinct > 0.02) {
      disagreements.push(`${c.name} distinct ${c.distinct} vs ${Math.round(Number(w.distinct))}`);
    }
  }
  console.log(
    `${peerRows} rows: Mercury ${mercurySmall.toFixed(2)} s, whylogs ${peer.total_s.toFixed(2)} s (read ${
      peer.read_s.toFixed(2)
    } + profile ${peer.profile_s.toFixed(2)}), ratio ${
      (peer.total_s / mercurySmall).toFixed(1)
    }×; agreement on rows, nulls, distincts (±2 %): ${
      disagreements.length ? disagreements.join("; ") : "all columns"
    } (load ${whylogsLoad})`,
  );

  return {
    rows: peerRows,
    mercury_s: mercurySmall,
    whylogs_total_s: peer.total_s,
    whylogs_profile_s: peer.profile_s,
    ratio: peer.total_s / mercurySmall,
    load_average: whylogsLoad,
    disagreements,
  };
}
