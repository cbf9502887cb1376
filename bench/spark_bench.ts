/**
 * `deno task bench:spark`: TPC-H (SF from SPARK_BENCH_SF, default 1; data from
 * `tpchgen-cli`, the same Parquet files the olap bench uses) through the Deno
 * Spark Connect client and through PySpark's own Connect client, against the
 * same Spark cluster in the same run (alternating, each query warmed once),
 * and through DuckDB in-process on one machine; answers are compared (Spark vs
 * DuckDB, rounded). Then the Arrow transfer of a large result: Deno
 * `toArrow()` MB/s vs PySpark `toPandas()` (Arrow-based in Spark Connect).
 * Results go to bench/results/spark.json (spark-sf10.json for SF10, and so on).
 *
 * Env: SPARK_BENCH_SF (1), SPARK_BENCH_QUERIES ("1-22" or "1,3,6"), SPARK_BENCH_RUNS (3), SPARK_BENCH_WARM (1;
 * 0 skips the warm-up runs).
 *
 * @module
 */
import { openDuckDB } from "@mercury/core/services/duckdb";
import { resolveEndpoints } from "@mercury/core";
import { SparkSession, tableRows } from "@mercury/spark";
import { listApplications, stageTotals } from "@mercury/spark/analyze";
import { restBase } from "../plugins/spark/commands/analyze.ts";
import {
  jsonLinePeer,
  load1,
  loadNote,
  log,
  median,
  ROOT,
  TPCH_TABLES as TABLES,
  tpchParquet,
  tpchQuery,
} from "./_tpch.ts";

const SF = Number(Deno.env.get("SPARK_BENCH_SF") ?? "1");
const RUNS = Number(Deno.env.get("SPARK_BENCH_RUNS") ?? "3");
/** Warm each query once per client before timing (default 1; 0 at SF10, where one query reads gigabytes). */
const WARM = Deno.env.get("SPARK_BENCH_WARM") !== "0";

function pickQueries(spec: string): number[] {
  if (/^\d+-\d+$/.test(spec)) {
    const [a, b] = spec.split("-").map(Number) as [number, number];
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  return spec.split(",").map(Number);
}
const QUERIES = pickQueries(Deno.env.get("SPARK_BENCH_QUERIES") ?? "1-22");

// ---- data ----
const { dir: raw } = await tpchParquet(SF);
const tables = Object.fromEntries(TABLES.map((t) => [t, `${raw}/${t}.parquet`]));
const sql = await Promise.all(
  QUERIES.map((q) => tpchQuery(q, SF)),
);

// ---- Deno client ----
const remote = resolveEndpoints().spark.remote;
const spark = await SparkSession.connect({ remote });
for (const [t, p] of Object.entries(tables)) await spark.read.parquet(p).createOrReplaceTempView(t);

// ---- DuckDB ----
const duck = await openDuckDB();
for (const [t, p] of Object.entries(tables)) await duck.connection.run(`CREATE VIEW ${t} AS SELECT * FROM '${p}'`);

/** A value as compared between Spark and DuckDB: numbers to 2 decimals (integers as integers), the rest as text. */
const norm = (v: unknown): string => {
  const num = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : NaN;
  const s = String(v);
  const n = Number.isFinite(num)
    ? num
    : v !== null && typeof v === "object" && /^-?\d+(\.\d+)?$/.test(s)
    ? Number(s)
    : NaN;
  if (Number.isFinite(n)) return Number.isInteger(n) ? String(n) : n.toFixed(2);
  return s;
};

// ---- PySpark peer: one warm Connect session for the whole run, a JSON line per command ----
const python = `${ROOT}/.mercury/spark/venv/bin/python`;
const peer = jsonLinePeer(python, [`${ROOT}/bench/peers/pyspark/tpch.py`], "PySpark peer");
const ask = peer.ask;
const ready = await ask({ remote, tables });
log(`PySpark peer ready (Spark ${ready.spark_version})`);

// What the cluster did (task time, shuffle, spill) for the queries, from the driver's REST API: stage totals
// taken before and after, divided by the passes over the 22 queries (2 warm-ups and 2 × RUNS timed runs).
const rest = restBase();
const appId = (await listApplications(rest))[0]!.id;
const seenStages = new Set<string>();
await stageTotals(rest, appId, seenStages);

type Row = {
  q: number;
  denoMs: number;
  pysparkMs: number;
  duckdbMs: number;
  rows: number;
  equal: boolean | string;
  /** The 1-minute load average when the query's runs started. */
  load: number;
};
const rows: Row[] = [];
for (let i = 0; i < QUERIES.length; i++) {
  const q = QUERIES[i]!;
  const text = sql[i]!;
  const load = load1();
  try {
    // Both clients warmed once, then they take turns, run by run, in an order that alternates with the query and
    // the run, so neither always runs first (on the colder cache) or right after the other's warm-up.
    if (WARM) {
      await (await spark.sql(text)).toArrow();
      await ask({ query: text, runs: 0 });
    }
    const denoTimes: number[] = [];
    const pyTimes: number[] = [];
    let sparkRows: string[] = [];
    let nrows = 0;
    for (let r = 0; r < RUNS; r++) {
      const deno = async () => {
        const t0 = performance.now();
        const t = await (await spark.sql(text)).toArrow();
        denoTimes.push(performance.now() - t0);
        nrows = t.numRows;
        if (r === 0) sparkRows = tableRows(t).map((row) => Object.values(row).map(norm).join("|"));
      };
      const pyspark = async () => pyTimes.push(...(await ask({ query: text, runs: 1, warm: false })).ms);
      if ((i + r) % 2 === 0) {
        await deno();
        await pyspark();
      } else {
        await pyspark();
        await deno();
      }
    }
    const py = { ms: pyTimes };
    const d0 = performance.now();
    const reader = await duck.connection.runAndReadAll(text);
    const duckMs = performance.now() - d0;
    const duckRows = reader.getRows().map((r) => r.map(norm).join("|"));
    const equal = JSON.stringify([...duckRows].sort()) === JSON.stringify([...sparkRows].sort());
    rows.push({
      q,
      denoMs: median(denoTimes),
      pysparkMs: median(py.ms),
      duckdbMs: duckMs,
      rows: nrows,
      equal: equal ? true : `differs (${duckRows.length} vs ${sparkRows.length} rows)`,
      load,
    });
    if (!equal) {
      log(`Q${q} first rows: duckdb ${duckRows.slice(0, 2).join(" / ")} spark ${sparkRows.slice(0, 2).join(" / ")}`);
    }
  } catch (err) {
    rows.push({
      q,
      denoMs: NaN,
      pysparkMs: NaN,
      duckdbMs: NaN,
      rows: 0,
      equal: `error: ${(err as Error).message.slice(0, 200)}`,
      load,
    });
  }
  const r = rows[rows.length - 1]!;
  log(
    `Q${q}: deno ${r.denoMs.toFixed(0)} ms, pyspark ${r.pysparkMs.toFixed(0)} ms (×${
      (r.denoMs / r.pysparkMs).toFixed(3)
    }), duckdb ${r.duckdbMs.toFixed(0)} ms, rows ${r.rows}, equal ${r.equal}, load ${r.load.toFixed(1)}`,
  );
}

const passes = (WARM ? 2 : 0) + 2 * RUNS;
const stages = await stageTotals(rest, appId, seenStages);
const inputGB = TABLES.reduce((a, t) => a + Deno.statSync(`${raw}/${t}.parquet`).size, 0) / 1e9;
/** One pass over the queries, as the cluster saw it (averaged over every pass of both clients). */
const perPass = {
  inputGB,
  executorCores: 2,
  taskCoreS: stages.executorRunMs / 1000 / passes,
  taskCpuCoreS: stages.executorCpuMs / 1000 / passes,
  shuffleWriteGB: stages.shuffleWriteBytes / 1e9 / passes,
  diskSpillGB: stages.diskSpillBytes / 1e9 / passes,
  stages: stages.stages / passes,
};
log(
  `per pass: ${perPass.taskCoreS.toFixed(0)} task core-s, shuffle ${perPass.shuffleWriteGB.toFixed(2)} GB, spill ${
    perPass.diskSpillGB.toFixed(2)
  } GB over ${inputGB.toFixed(2)} GB of Parquet`,
);

// ---- Arrow transfer: a cached result, so the scan is not what is timed ----
log("Arrow transfer…");
const cacheSql =
  "CACHE TABLE bench_transfer AS SELECT l_orderkey, l_partkey, l_suppkey, l_quantity, l_extendedprice, l_discount, l_shipdate, l_comment FROM lineitem LIMIT 1000000";
await spark.sql(cacheSql);
const transferSql = "SELECT * FROM bench_transfer";
await (await spark.sql(transferSql)).execute(); // warm
const denoTransfer: number[] = [];
let denoBytes = 0;
let transferRows = 0;
const pyT = { pandas: [] as number[], arrow: [] as number[] };
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now();
  const res = await (await spark.sql(transferSql)).execute();
  denoTransfer.push(performance.now() - t0);
  denoBytes = res.arrowBytes;
  transferRows = res.table?.numRows ?? 0;
  const p = await ask({ transfer: transferSql, setup: r === 0 ? cacheSql : undefined, runs: 1 });
  pyT.pandas.push(...p.pandas_ms);
  pyT.arrow.push(...p.arrow_ms);
}
const transfer = {
  load: loadNote(),
  rows: transferRows,
  arrowIpcBytes: denoBytes,
  denoToArrowMs: median(denoTransfer),
  pysparkToPandasMs: median(pyT.pandas),
  pysparkToArrowMs: median(pyT.arrow),
  denoMBps: denoBytes / 1048576 / (median(denoTransfer) / 1000),
  pysparkToPandasMBps: denoBytes / 1048576 / (median(pyT.pandas) / 1000),
  pysparkToArrowMBps: denoBytes / 1048576 / (median(pyT.arrow) / 1000),
};
await spark.sql("UNCACHE TABLE bench_transfer");
await peer.stop();

await spark.close();
duck.close();

const ok = rows.filter((r) => Number.isFinite(r.denoMs) && Number.isFinite(r.pysparkMs));
const denoTotal = ok.reduce((s, r) => s + r.denoMs, 0);
const pyTotal = ok.reduce((s, r) => s + r.pysparkMs, 0);
const duckTotal = ok.reduce((s, r) => s + r.duckdbMs, 0);
const summary = {
  sf: SF,
  runs: RUNS,
  warm: WARM,
  queries: QUERIES.length,
  answered: ok.length,
  allEqualToDuckDB: rows.every((r) => r.equal === true),
  denoTotalMs: denoTotal,
  pysparkTotalMs: pyTotal,
  clientOverhead: denoTotal / pyTotal - 1,
  duckdbTotalMs: duckTotal,
  sparkVsDuckDB: denoTotal / duckTotal,
  /** 1-minute load averages at the start of each query's runs, and the load at the end. */
  load: { perQuery: rows.map((r) => r.load), end: loadNote() },
  perPass,
  transfer,
};
console.log(JSON.stringify(summary, null, 2));
console.log(
  `TPC-H SF${SF}: Deno client ${(denoTotal / 1000).toFixed(1)} s vs PySpark ${(pyTotal / 1000).toFixed(1)} s ` +
    `(overhead ${(summary.clientOverhead * 100).toFixed(1)} %), DuckDB ${(duckTotal / 1000).toFixed(1)} s ` +
    `(Spark/DuckDB ×${summary.sparkVsDuckDB.toFixed(1)}); transfer Deno ${transfer.denoMBps.toFixed(1)} MB/s vs ` +
    `PySpark toPandas ${transfer.pysparkToPandasMBps.toFixed(1)} MB/s, toArrow ${
      transfer.pysparkToArrowMBps.toFixed(1)
    } MB/s; ${summary.load.end}, max 1-minute load during the queries ${
      Math.max(...rows.map((r) => r.load)).toFixed(2)
    }`,
);
const command = `SPARK_BENCH_SF=${SF} SPARK_BENCH_RUNS=${RUNS}${
  WARM ? "" : " SPARK_BENCH_WARM=0"
} deno task bench:spark`;
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
await Deno.writeTextFile(
  `${ROOT}/bench/results/spark${SF === 1 ? "" : `-sf${SF}`}.json`,
  JSON.stringify({ date: new Date().toISOString(), command, summary, rows }, null, 2) + "\n",
);
