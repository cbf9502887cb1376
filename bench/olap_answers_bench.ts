/**
 * `deno task bench:olap-answers`: large answers written by DuckDB against the same answers built from a JS value
 * per cell, in rows per second, in one run.
 *
 * A table of `--rows` rows (8 columns: BIGINT, INTEGER, DECIMAL, DOUBLE, DATE, TIMESTAMP, two VARCHAR), made with
 * SQL `range()` in the olap executor's DuckDB, is answered in full as
 *
 * - JSON: the JS encoder (`encode("json")`, a JS value per cell: the API's JSON path before) against rows written
 *   as JSON text by DuckDB into a pipe (`jsonCopyStream`: the API's JSON path now);
 * - CSV and NDJSON: the JS encoders (`encode("csv" | "ndjson")`, still in formats.ts) against DuckDB's `COPY` into
 *   a pipe (`copyStream`, what the API serves — it already did before this bench).
 *
 * The two sides of each format alternate (order rotated) `--reps` times; the 1-minute load average is recorded
 * before each round and a round above `--max-load` (default: the cores) is flagged. The JSON answers of both
 * sides are checked equal (parsed) on the first 20,000 rows. Writes bench/results/olap-answers.json.
 *
 * usage: deno task bench:olap-answers [--rows 1000000] [--reps 3] [--max-load N]
 *
 * @module
 */
import { closePipes, copyStream, DuckDBExecutor, encode, jsonCopyStream } from "@mercury/olap";
import { CORES, load1, log, median, ROOT } from "./_tpch.ts";

const arg = (name: string, d: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : d;
};
const ROWS = arg("rows", 1_000_000);
const REPS = arg("reps", 3);
const MAX_LOAD = arg("max-load", CORES);

const ex = await DuckDBExecutor.create({ concurrency: 2 });
const pipes = await Deno.makeTempDir({ prefix: "olap-answers-" });
await ex.exec(`create table answer as select range as id, (range % 1000)::integer as k,
  (range * 0.37)::decimal(12,2) as price, (hash(range) % 1000000) / 1e6 as x,
  date '2020-01-01' + (range % 3650)::integer as day, timestamp '2020-01-01' + to_seconds(range) as ts,
  'item ' || (range % 5000) as name, case when range % 7 = 0 then null else 'note "' || range || '"' end as note
  from range(${ROWS})`);
const SQL = "select * from answer order by id";

const drain = async (body: ReadableStream<Uint8Array>) => {
  let bytes = 0;
  for await (const c of body) bytes += c.byteLength;
  return bytes;
};
const columnsOf = async (sql: string) => {
  const s = await ex.stream(sql);
  s.close();
  return s.columns;
};
const cols = await columnsOf(SQL);
const duckJson = async (sql: string, columns: typeof cols) => {
  const body = await jsonCopyStream(ex, sql, columns, { dir: pipes });
  if (!body) throw new Error("the bench's column types should all have DuckDB JSON expressions");
  return body;
};

const sides: Record<string, Record<"js" | "duckdb", () => Promise<number>>> = {
  json: {
    js: async () => await drain(encode("json", await ex.stream(SQL))),
    duckdb: async () => await drain(await duckJson(SQL, cols)),
  },
  csv: {
    js: async () => await drain(encode("csv", await ex.stream(SQL))),
    duckdb: async () => await drain(await copyStream(ex, SQL, "csv", { dir: pipes })),
  },
  ndjson: {
    js: async () => await drain(encode("ndjson", await ex.stream(SQL))),
    duckdb: async () => await drain(await copyStream(ex, SQL, "ndjson", { dir: pipes })),
  },
};

// The JSON of both sides, parsed, must be the same (first 20,000 rows).
{
  const head = `${SQL} limit 20000`;
  const headCols = await columnsOf(head);
  const a = JSON.parse(await new Response(encode("json", await ex.stream(head))).text());
  const b = JSON.parse(await new Response(await duckJson(head, headCols)).text());
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("JSON answers differ between the JS and DuckDB paths");
  log("JSON answers equal on 20,000 rows (JS encoder vs DuckDB-written rows)");
}

const results: Record<string, unknown> = {};
const loads: number[] = [];
for (const [format, s] of Object.entries(sides)) {
  const ms: Record<"js" | "duckdb", number[]> = { js: [], duckdb: [] };
  const bytes: Record<string, number> = {};
  const load: number[] = [];
  for (let r = 0; r < REPS; r++) {
    load.push(load1());
    for (const side of (r % 2 ? ["duckdb", "js"] : ["js", "duckdb"]) as ("js" | "duckdb")[]) {
      const t0 = performance.now();
      bytes[side] = await s[side]();
      ms[side].push(performance.now() - t0);
    }
  }
  loads.push(...load);
  const js = median(ms.js), duck = median(ms.duckdb);
  results[format] = {
    jsMs: js,
    duckdbMs: duck,
    jsRowsPerSec: ROWS / (js / 1000),
    duckdbRowsPerSec: ROWS / (duck / 1000),
    speedup: js / duck,
    bytes,
    load,
    heavyLoad: Math.max(...load) > MAX_LOAD,
  };
  log(
    `${format}: JS ${(ROWS / js).toFixed(0)}k rows/s (${js.toFixed(0)} ms), DuckDB ${
      (ROWS / duck).toFixed(0)
    }k rows/s (${duck.toFixed(0)} ms): ${(js / duck).toFixed(2)}x, load ${load.map((l) => l.toFixed(1)).join("/")}${
      Math.max(...load) > MAX_LOAD ? " HEAVY LOAD" : ""
    }`,
  );
}
await ex.close();
await closePipes(pipes);
await Deno.remove(pipes, { recursive: true });

const out = {
  when: new Date().toISOString(),
  machine: `${CORES} cores`,
  rows: ROWS,
  reps: REPS,
  load: { maxLoad: MAX_LOAD, min: Math.min(...loads), median: median(loads), max: Math.max(...loads) },
  flagged: Math.max(...loads) > MAX_LOAD,
  results,
  command: `deno task bench:olap-answers ${Deno.args.join(" ")}`.trim(),
};
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
const file = `${ROOT}/bench/results/olap-answers.json`;
await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(out, null, 2) + "\n");
await Deno.rename(`${file}.tmp`, file);
console.log(JSON.stringify(results, null, 2));
