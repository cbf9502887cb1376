import { loadSeries, parseFrequency } from "@mercury/forecast";
import assert from "node:assert/strict";

const dir = new URL("./testdata/", import.meta.url).pathname;

async function csvFile(text: string, suffix = ".csv"): Promise<string> {
  const f = await Deno.makeTempFile({ suffix });
  await Deno.writeTextFile(f, text);
  return f;
}

Deno.test("loadSeries()", async (t) => {
  await t.step("reads one hourly series and infers the frequency", async () => {
    const d = await loadSeries(`${dir}hourly.csv`);
    assert.equal(d.series.length, 1);
    assert.equal(d.series[0]!.y.length, 240);
    assert.deepEqual(d.freq, { unit: "ms", step: 3_600_000 });
    assert.equal(d.season, 24);
  });
  await t.step("reads a file whose name holds a quote (the path is one SQL literal)", async () => {
    const f = await csvFile("ds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n", "it's.csv");
    assert.deepEqual((await loadSeries(f)).series[0]!.y, [1, 2, 3]);
  });
  await t.step("reads long format with several series", async () => {
    const d = await loadSeries(`${dir}long.csv`);
    assert.deepEqual(d.series.map((s) => s.id), ["H2", "H3", "H4"]);
  });
  await t.step("fills a gap by the chosen rule", async () => {
    const f = await csvFile("ds,y\n2024-01-01,1\n2024-01-02,\n2024-01-04,4\n2024-01-05,5\n");
    assert.deepEqual((await loadSeries(f)).series[0]!.y, [1, 2, 3, 4, 5]);
    assert.deepEqual((await loadSeries(f, { fill: "previous" })).series[0]!.y, [1, 1, 1, 4, 5]);
    await assert.rejects(() => loadSeries(f, { fill: "error" }), /no value at 2024-01-03/);
  });
  await t.step("rejects a non-numeric value naming the line and series", async () => {
    const f = await csvFile("unique_id,ds,y\na,1,1\na,2,oops\n");
    await assert.rejects(
      () => loadSeries(f),
      (e: Error) => /line 3 \(series a\): "oops" in column y is not a number/.test(e.message),
    );
  });
  await t.step("rejects duplicate and unsorted timestamps", async () => {
    await assert.rejects(() => csvFile("ds,y\n1,1\n1,2\n").then((f) => loadSeries(f)), /duplicate timestamp/);
    const f = await csvFile("ds,y\n2,1\n1,2\n3,3\n");
    await assert.rejects(() => loadSeries(f), /earlier than the row before.*/);
    assert.deepEqual((await loadSeries(f, { sort: true })).series[0]!.y, [2, 1, 3]);
  });
  await t.step("names a missing column and a missing file", async () => {
    await assert.rejects(() => csvFile("date,value\n1,2\n").then((f) => loadSeries(f)), /has no column "ds"/);
    await assert.rejects(() => loadSeries("/nonexistent.csv"), /does not exist/);
  });
  await t.step("reads Parquet through DuckDB", async () => {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const p = await Deno.makeTempFile({ suffix: ".parquet" });
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    await c.run(
      `copy (select 'x' as unique_id, range as ds, range * 2.0 as y from range(10)) to '${p}' (format parquet)`,
    );
    c.closeSync();
    db.closeSync();
    const d = await loadSeries(p);
    assert.equal(d.series[0]!.y[9], 18);
    assert.equal(d.freq.unit, "index");
  });
  await t.step("bounds the grid a gap may create, before building it", async () => {
    const far = await csvFile("ds,y\n1,1\n2,2\n3,3\n100000000000,4\n");
    const t0 = performance.now();
    await assert.rejects(
      () => loadSeries(far),
      /series series spans 1\.00e\+11 index steps from 1 to 100000000000 \(line 5\); the limit is 1000000 points/,
    );
    assert.ok(performance.now() - t0 < 5000);
    const monthly = await csvFile("ds,y\n2024-01-01,1\n2024-02-01,2\n2024-03-01,3\n2025-03-01,4\n");
    await assert.rejects(
      () => loadSeries(monthly, { freq: "1M", maxPoints: 14 }),
      /spans 1\.50e\+1 1M steps.*limit is 14 points/,
    );
    assert.equal((await loadSeries(monthly, { freq: "1M", maxPoints: 15 })).series[0]!.y.length, 15);
  });
  await t.step("a zero frequency is a usage error", async () => {
    const f = await csvFile("ds,y\n2024-01-01,1\n2024-01-02,2\n");
    await assert.rejects(() => loadSeries(f, { freq: "0d" }), /frequency "0d" is not a positive step/);
    assert.throws(() => parseFrequency("0M"), (e: Error & { exitCode?: number }) => e.exitCode === 64);
  });
  await t.step("quotes a cell with control bytes escaped", async () => {
    const f = await csvFile("ds,y\n1,1\n2,\u001b[31mx\n");
    await assert.rejects(() => loadSeries(f), (e: Error) => e.message.includes('"\\x1b[31mx" in column y'));
  });
});
