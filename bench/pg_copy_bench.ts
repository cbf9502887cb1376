/**
 * postgres.js COPY hazards: what the safe replacements cost.
 *
 * 1. Reading a table out to CSV: postgres.js's `COPY … TO STDOUT` readable
 *    (the old way; reader never behind, chunks written straight to a file)
 *    vs `copyQueryToCsv` (a cursor, the same CSV bytes), interleaved.
 * 2. The stream sink's window results: the old `COPY … FROM STDIN` writable
 *    vs the new one-statement `insert … select from unnest(…)` (`insertResults`), each in a
 *    transaction that is rolled back, interleaved.
 *
 * Median of `--runs` (default 3); prints the load average with each figure.
 *
 *   deno run -A bench/pg_copy_bench.ts [--rows 500000] [--results 2000,20000] [--runs 3]
 *
 * Measured 2026-12-03 18:34 UTC, `--rows 500000 --runs 3`, load average 1.01 / 1.35 / 3.39 (2 shared cores):
 * copy out of 500,000 rows: COPY readable 993 ms, copyQueryToCsv 984 ms (0.99×, medians of 3, interleaved);
 * sink write of 2,000 results: COPY writable 72.1 ms, unnest insert 21.6 ms (0.30×, median of 5);
 * 20,000 results: 234.6 ms vs 235.5 ms (1.00×). An earlier run at load ~4.7 (100,000 rows, 1 run) gave 648 vs
 * 802 ms out (1.24×) and 101.7 / 363.2 ms COPY vs 73.7 / 468.6 ms for a JSON-recordset insert (since replaced by
 * unnest). One run at 18:32 died with an uncaught error from a timer callback (not investigated; the rerun passed).
 */
import { parseArgs } from "node:util";
import { connectPostgres, copyQueryToCsv, type Sql, type Tx } from "@mercury/core/services/postgres";
import { insertResults } from "../plugins/stream/postgres_sink.ts";
import type { WindowResult } from "../plugins/stream/aggregator.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "500000" },
    results: { type: "string", default: "2000,20000" },
    runs: { type: "string", default: "3" },
  },
});
const ROWS = Number(values.rows), RUNS = Number(values.runs);
const SIZES = values.results!.split(",").map(Number);
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function copyOutOld(sql: Sql, query: string, path: string): Promise<void> {
  const readable = await sql.unsafe(`copy (${query}) to stdout with (format csv, header true)`).readable();
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const w = file.writable.getWriter();
  for await (const chunk of readable as AsyncIterable<Uint8Array>) await w.write(chunk);
  await w.close();
}

function copyText(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

const ROLLBACK = new Error("rollback");

async function rolledBack(sql: Sql, fn: (tx: postgresTx) => Promise<unknown>): Promise<void> {
  try {
    await sql.begin(async (tx) => {
      await fn(tx);
      throw ROLLBACK;
    });
  } catch (err) {
    if (err !== ROLLBACK) throw err;
  }
}
type postgresTx = Tx;

/** The sink's write before the change: COPY FROM STDIN through postgres.js's writable. */
async function writeCopy(tx: postgresTx, pipeline: string, results: WindowResult[]): Promise<void> {
  const lines: string[] = [];
  const p = copyText(pipeline);
  for (const w of results) {
    lines.push(
      [
        p,
        copyText(w.key),
        new Date(w.start).toISOString(),
        new Date(w.end).toISOString(),
        w.count,
        w.sum,
        w.min,
        w.max,
        w.mean,
        w.distinct,
        w.p50,
        w.p95,
        w.p99,
        w.attrs ? copyText(JSON.stringify(w.attrs)) : "\\N",
      ]
        .join("\t"),
    );
  }
  const sink = await tx`copy stream_windows (pipeline, key, window_start, window_end, count, sum, min, max, mean,
    distinct_count, p50, p95, p99, attrs) from stdin`.writable();
  await new Promise<void>((resolve, reject) => {
    sink.on("error", reject);
    sink.on("finish", () => resolve());
    sink.end(lines.join("\n") + "\n");
  });
}

async function writeUnnest(tx: postgresTx, pipeline: string, results: WindowResult[]): Promise<void> {
  await insertResults(tx, pipeline, results);
}

await using pg = await connectPostgres({ max: 2 });
const sql = pg.sql;
console.log(`postgres.js COPY hazards bench: ${ROWS} rows out, results ${SIZES.join("/")}, ${RUNS} runs`);

// 1. Copy out.
await sql.unsafe(`create schema if not exists bench_pg_copy`);
await sql.unsafe(`drop table if exists bench_pg_copy.t`);
await sql.unsafe(`create table bench_pg_copy.t as select g::bigint as id, 'user_' || (g % 5000) as user_id,
    timestamptz '2026-01-01' + g * interval '1 second' as ts, random() * 100 as amount, (g % 7)::int as category,
    case when g % 10 = 0 then null else md5(g::text) end as note
  from generate_series(1, ${ROWS}) g`);
const query = `select * from bench_pg_copy.t`;
const dir = await Deno.makeTempDir();
const old: number[] = [], neu: number[] = [];
for (let r = 0; r < RUNS; r++) {
  let t0 = performance.now();
  await copyOutOld(sql, query, `${dir}/old.csv`);
  old.push(performance.now() - t0);
  t0 = performance.now();
  await copyQueryToCsv(sql, query, `${dir}/new.csv`);
  neu.push(performance.now() - t0);
  const same = (await Deno.readFile(`${dir}/old.csv`)).length === (await Deno.readFile(`${dir}/new.csv`)).length;
  if (!same) throw new Error("the two CSVs differ in size");
}
console.log(
  `copy out ${ROWS} rows to CSV: COPY readable ${median(old).toFixed(0)} ms, copyQueryToCsv ${
    median(neu).toFixed(0)
  } ms ` +
    `(ratio new/old ${(median(neu) / median(old)).toFixed(2)}); runs old ${old.map((x) => x.toFixed(0)).join("/")}, ` +
    `new ${neu.map((x) => x.toFixed(0)).join("/")}; load ${load()}`,
);
await Deno.remove(dir, { recursive: true });
await sql.unsafe(`drop schema bench_pg_copy cascade`);

// 2. The sink's results write (stream_windows must exist: PostgresSink.open creates it).
const { PostgresSink } = await import("../plugins/stream/postgres_sink.ts");
await PostgresSink.open(sql, "pg_copy_bench");
const T0 = Date.UTC(2026, 0, 1);
for (const n of SIZES) {
  const results: WindowResult[] = Array.from({ length: n }, (_, i) => ({
    key: `user_${i % 5000}`,
    start: T0 + Math.floor(i / 5000) * 60_000,
    end: T0 + Math.floor(i / 5000) * 60_000 + 60_000,
    count: 10 + (i % 17),
    sum: i * 1.5,
    min: 0.25,
    max: i + 0.75,
    mean: i / 3,
    distinct: i % 11,
    p50: i / 2,
    p95: i * 0.95,
    p99: i * 0.99,
    attrs: i % 4 === 0 ? { region: `r${i % 3}` } : undefined,
  }));
  const copy: number[] = [], unnest: number[] = [];
  for (let r = 0; r < Math.max(RUNS, 5); r++) {
    let t0 = performance.now();
    await rolledBack(sql, (tx) => writeCopy(tx, "pg_copy_bench", results));
    copy.push(performance.now() - t0);
    t0 = performance.now();
    await rolledBack(sql, (tx) => writeUnnest(tx, "pg_copy_bench", results));
    unnest.push(performance.now() - t0);
  }
  console.log(
    `sink write of ${n} results (transaction, rolled back): COPY writable ${median(copy).toFixed(1)} ms, ` +
      `unnest insert ${median(unnest).toFixed(1)} ms (ratio new/old ${(median(unnest) / median(copy)).toFixed(2)}); ` +
      `runs ${Math.max(RUNS, 5)}; load ${load()}`,
  );
}
