import assert from "node:assert/strict";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { analyzeTable, privateBounds } from "@mercury/privacy/analyze";
import { resolveEndpoints } from "@mercury/core";
import { Ledger } from "@mercury/privacy/ledger";
import { runCli } from "./_setup.ts";

async function sensitiveCsv(dir: string, n = 4000): Promise<string> {
  const path = `${dir}/sensitive_data.csv`;
  const diag = ["flu", "diabetes", "asthma", "hypertension"];
  const lines = ["patient_id,age,sex,diagnosis,income"];
  for (let i = 0; i < n; i++) {
    lines.push(`${i},${20 + (i * 7) % 60},${i % 2 ? "F" : "M"},${diag[i % 4]},${30000 + (i * 37) % 50000}`);
  }
  lines.push(`${n},45,F,one-of-a-kind,40000`);
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** `privacy analyze …argv`, an error as one line and its exit code. */
const run = (argv: string[]) => runCli(["analyze", ...argv]);

Deno.test("analyzeTable() summarises every column near the truth and within its bounds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const csv = await sensitiveCsv(dir);
    using db = await openDuckDB();
    await db.connection.run(`create table s as select * from read_csv_auto('${csv}')`);
    const s = await analyzeTable(db.connection, "s", { epsilon: 5, bounds: { age: [0, 100] } });
    assert.deepEqual(s.columns.map((c) => c.column), ["patient_id", "age", "sex", "diagnosis", "income"]);
    const age = s.columns.find((c) => c.column === "age")!;
    assert.equal(age.bounds!.source, "user");
    assert.ok(Math.abs(age.mean!.value - 49.5) < 2, `mean age ${age.mean!.value}`);
    assert.ok(Math.abs(age.count.value - 4001) < 60);
    assert.equal(age.histogram.length, 10);
    const diag = s.columns.find((c) => c.column === "diagnosis")!;
    assert.deepEqual(diag.histogram.map((h) => h.bin).sort(), ["asthma", "diabetes", "flu", "hypertension"]);
    const income = s.columns.find((c) => c.column === "income")!;
    assert.equal(income.bounds!.source, "dp");
    assert.ok(income.bounds!.lower <= 30000 && income.bounds!.upper >= 79999, JSON.stringify(income.bounds));
    const sum = s.columns.reduce((a, c) => a + c.epsilon, 0);
    assert.ok(Math.abs(sum - 5) < 1e-9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("privateBounds() covers the data with power-of-two bounds", async () => {
  using db = await openDuckDB();
  await db.connection.run("create table t as select (i % 1000) - 300 as x from range(20000) r(i)");
  const [lo, hi] = await privateBounds(db.connection, "t", "x", 1);
  assert.deepEqual([lo, hi], [-512, 1024]);
});

Deno.test("privacy analyze prints a table, writes JSON and charges the ledger; bad input fails cleanly", async () => {
  const dir = await Deno.makeTempDir();
  const dataset = `analyze_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    const csv = await sensitiveCsv(dir);
    const out = `${dir}/summary.json`;
    const ok = await run(["--epsilon", "1.0", "--data", csv, "--dataset", dataset, "--budget", "1.5", "--output", out]);
    assert.equal(ok.code, 0, ok.lines.join("\n"));
    assert.ok(ok.lines.some((l) => /^diagnosis\s+categorical/m.test(l) || /\ndiagnosis\s+categorical/.test(l)));
    assert.ok(ok.lines.some((l) => /charged to/.test(l)));
    const json = JSON.parse(await Deno.readTextFile(out));
    assert.equal(json.epsilon, 1);
    assert.equal(json.columns.length, 5);
    // A second run would pass the budget of 1.5: refused, nothing written, no new entry.
    await Deno.remove(out);
    const refused = await run(["--epsilon", "1.0", "--data", csv, "--dataset", dataset, "--output", out]);
    assert.equal(refused.code, 73, refused.lines.join("\n"));
    assert.match(refused.lines.at(-1)!, /budget exhausted for dataset/);
    await assert.rejects(Deno.stat(out));
    await using ledger = await Ledger.open({ url: resolveEndpoints().postgres.url });
    const entries = await ledger.entries(dataset);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.epsilon, 1);
    // ε ≤ 0 and a missing file.
    assert.equal((await run(["--epsilon", "0", "--data", csv, "--no-ledger"])).code, 64);
    assert.equal((await run(["--epsilon", "-1", "--data", csv, "--no-ledger"])).code, 64);
    assert.equal((await run(["--epsilon", "1", "--data", `${dir}/nope.csv`, "--no-ledger"])).code, 66);
    assert.equal((await run(["--epsilon", "1", "--data", csv, "--bounds", "age=5", "--no-ledger"])).code, 64);
    assert.equal((await run(["--epsilon", "1", "--data", csv, "--delta", "1", "--no-ledger"])).code, 64);
  } finally {
    await using ledger = await Ledger.open({ url: resolveEndpoints().postgres.url });
    await ledger.forget(dataset);
    await Deno.remove(dir, { recursive: true });
  }
});
