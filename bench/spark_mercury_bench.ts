/**
 * Mercury on Spark vs the DuckDB paths, same data, same run (`deno task bench:spark-mercury`):
 *
 * 1. olap: the SparkExecutor's TPC-H test set (Q1, Q3, Q6, Q10 at SF `SPARK_MERCURY_SF`, default 0.01) against the
 *    DuckDB executor over the same catalog (answers compared to 2 decimals);
 * 2. features: `materialize()` of one generated view (`SPARK_MERCURY_ENTITIES` entities × 10 rows, default 10,000)
 *    with the DuckDB engine and with the Spark engine, Redis cleared before each run.
 *
 * Runs alternate per item (`SPARK_MERCURY_RUNS`, default 3, after one warm-up each); medians, the ratio and the
 * 1-minute load average are printed and written to `bench/results/spark_mercury.json` (`-sf<N>` for other scale
 * factors). Needs `deno task services up`
 * (postgres, redis, spark).
 *
 * @module
 */
import { Olap } from "@mercury/olap";
import { SparkExecutor } from "@mercury/olap/spark_executor";
import { entity, type FeatureRepo, featureView, fileSource, openFeatureStore } from "@mercury/features";
import { SparkLatest } from "@mercury/features/materialize_spark";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { load1, loadNote, log, median, ROOT, TPCH_TABLES, tpchParquet } from "./_tpch.ts";

const SF = Number(Deno.env.get("SPARK_MERCURY_SF") ?? "0.01");
const RUNS = Number(Deno.env.get("SPARK_MERCURY_RUNS") ?? "3");
const ENTITIES = Number(Deno.env.get("SPARK_MERCURY_ENTITIES") ?? "10000");
const QUERIES = [1, 3, 6, 10];

const timed = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const norm = (rows: Record<string, unknown>[]) =>
  rows.map((r) => Object.values(r).map((v) => (typeof v === "number" ? v.toFixed(2) : String(v))).join("|")).sort();

// ---- 1. olap: SparkExecutor vs DuckDB executor ----
const { dir: raw } = await tpchParquet(SF);
const dataDir = await Deno.makeTempDir({ prefix: "spark-mercury-olap-" });
const olap = await Olap.open({ dataDir, restrictFiles: false });
for (const t of TPCH_TABLES) await olap.ingest(t, { file: `${raw}/${t}.parquet` });
const spark = await SparkExecutor.create({ catalog: olap.catalog });
const queries: { q: number; duckdbMs: number; sparkMs: number; equal: boolean; load: number }[] = [];
for (const q of QUERIES) {
  const sql = await Deno.readTextFile(`${ROOT}/bench/tpch/q${String(q).padStart(2, "0")}.sql`);
  const load = load1();
  const want = norm(await olap.executor.rows(sql));
  const equal = JSON.stringify(norm(await spark.rows(sql))) === JSON.stringify(want);
  const d: number[] = [], s: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    d.push(await timed(() => olap.executor.rows(sql)));
    s.push(await timed(() => spark.rows(sql)));
  }
  queries.push({ q, duckdbMs: median(d), sparkMs: median(s), equal, load });
  log(`Q${q}: duckdb ${median(d).toFixed(0)} ms, spark ${median(s).toFixed(0)} ms, equal ${equal}, load ${load}`);
}
await spark.close();
await olap.close();
await Deno.remove(dataDir, { recursive: true });

// ---- 2. features: materialize() with the DuckDB and the Spark engine ----
const dir = await Deno.makeTempDir({ prefix: "spark-mercury-features-" });
const end = Math.floor(Date.now() / 1000) * 1000;
const db = await openDuckDB();
await db.connection.run(
  `copy (select i % ${ENTITIES} as k, make_timestamp(${end * 1000} - (i * 37 % 86400) * 1000000) as ev,
    (i * 7 % 1000) / 10.0 as amount, i % 13 as n from range(${
    ENTITIES * 10
  }) t(i)) to '${dir}/src.parquet' (format parquet)`,
);
db.close();
const project = `bench_spark_${Date.now().toString(36)}`;
const repo: FeatureRepo = {
  project,
  entities: [entity({ name: "acct", joinKey: "k", valueType: "int64" })],
  views: [featureView({
    name: "acct_stats",
    entities: ["acct"],
    ttlSeconds: 7 * 86400,
    source: fileSource({ name: "src", format: "parquet", path: `${dir}/src.parquet`, timestampField: "ev" }),
    features: [{ name: "amount", type: "float64" }, { name: "n", type: "int64" }],
  })],
};
const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/offline` });
const engine = await SparkLatest.connect();
const mat: Record<"duckdb" | "spark", number[]> = { duckdb: [], spark: [] };
const matLoad = load1();
try {
  await fs.apply();
  const opts = { end: new Date(end + 1000) };
  for (let r = 0; r <= RUNS; r++) {
    for (const which of ["duckdb", "spark"] as const) {
      await fs.online.clear();
      const ms = await timed(() => fs.materialize(undefined, which === "spark" ? { ...opts, engine } : opts));
      if (r > 0) mat[which].push(ms); // the first round warms both
    }
  }
} finally {
  await engine.close();
  await fs.online.clear();
  for (const t of ["objects", "materializations", "feature_stats", "releases"]) {
    await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.${t} where project = $1`, [project]);
  }
  await fs.close();
  await Deno.remove(dir, { recursive: true });
}

const duckTotal = queries.reduce((s, r) => s + r.duckdbMs, 0);
const sparkTotal = queries.reduce((s, r) => s + r.sparkMs, 0);
const summary = {
  at: new Date().toISOString(),
  runs: RUNS,
  olap: {
    sf: SF,
    queries,
    allEqual: queries.every((r) => r.equal),
    duckdbTotalMs: duckTotal,
    sparkTotalMs: sparkTotal,
    sparkVsDuckDB: sparkTotal / duckTotal,
  },
  features: {
    entities: ENTITIES,
    rows: ENTITIES * 10,
    duckdbMs: median(mat.duckdb),
    sparkMs: median(mat.spark),
    sparkVsDuckDB: median(mat.spark) / median(mat.duckdb),
    load: matLoad,
  },
  load: loadNote(),
};
// The default scale factor writes spark_mercury.json, others spark_mercury-sf<N>.json.
const out = `${ROOT}/bench/results/spark_mercury${SF === 0.01 ? "" : `-sf${SF}`}.json`;
await Deno.writeTextFile(out, JSON.stringify(summary, null, 2) + "\n");
console.log(JSON.stringify(summary, null, 2));
console.log(
  `olap TPC-H SF${SF} Q${QUERIES.join("/Q")}: DuckDB ${duckTotal.toFixed(0)} ms, Spark ${sparkTotal.toFixed(0)} ms ` +
    `(×${summary.olap.sparkVsDuckDB.toFixed(1)}), answers equal ${summary.olap.allEqual}; materialize ` +
    `${ENTITIES} entities: DuckDB ${summary.features.duckdbMs.toFixed(0)} ms, Spark ${
      summary.features.sparkMs.toFixed(0)
    } ms (×${summary.features.sparkVsDuckDB.toFixed(1)}); medians of ${RUNS}; ${summary.load}`,
);
