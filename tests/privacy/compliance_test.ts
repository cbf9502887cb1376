import assert from "node:assert/strict";
import { analyzeDataset, buildReport, writeSensitiveCsv } from "@mercury/privacy/compliance";
import { cli } from "./_setup.ts";

Deno.test("analyzeDataset finds direct identifiers, quasi-identifiers and special categories, by name and by value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/patients.csv`;
    await writeSensitiveCsv(path, 300, 3);
    // Columns whose names say nothing: found by their values.
    await Deno.writeTextFile(
      `${dir}/anon.csv`,
      "contact,c2,visits\n" +
        Array.from({ length: 20 }, (_, i) => `p${i}@example.org,123-45-${String(1000 + i)},${i}`).join("\n") + "\n",
    );
    const a = await analyzeDataset(path);
    const role = (r: string) => a.columns.filter((c) => c.role === r).map((c) => c.name).sort();
    assert.deepEqual(role("direct identifier"), ["email", "full_name", "patient_id", "phone", "ssn"]);
    assert.deepEqual(role("quasi-identifier"), ["age", "date_of_birth", "gender", "marital_status", "zip"]);
    assert.deepEqual(role("sensitive attribute"), ["annual_income", "diagnosis"]);
    assert.match(a.columns.find((c) => c.name === "ssn")!.rule!.hipaa!, /§164\.514\(b\)\(2\)\(i\)\(G\)/);
    assert.match(a.columns.find((c) => c.name === "diagnosis")!.rule!.gdpr, /Art\. 9\(1\)/);
    const b = await analyzeDataset(`${dir}/anon.csv`);
    const by = Object.fromEntries(b.columns.map((c) => [c.name, [c.rule?.id, c.by]]));
    assert.deepEqual(by, { contact: ["email", "values"], c2: ["ssn", "values"], visits: [undefined, undefined] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("k-anonymity and l-diversity are exact on a hand-counted table, before and after generalisation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.csv`;
    await Deno.writeTextFile(
      path,
      [
        "zip,age,diagnosis",
        "02139,34,flu",
        "02139,34,asthma",
        "02141,37,flu",
        "10001,52,flu",
        "10002,55,flu",
        "10002,58,diabetes",
      ].join("\n") + "\n",
    );
    const a = await analyzeDataset(path, { k: 2 });
    // As stored: classes {02139,34}×2, {02141,37}, {10001,52}, {10002,55}, {10002,58} → k = 1, 4 rows below k = 2.
    assert.deepEqual([a.raw.classes, a.raw.k, a.raw.rowsBelowK, a.raw.l], [5, 1, 4, 1]);
    // ZIP→3 digits, age→decade: {021,30}×3 (flu, asthma), {100,50}×3 (flu, diabetes) → k = 3, l = 2.
    assert.deepEqual([a.generalised.classes, a.generalised.k, a.generalised.rowsBelowK, a.generalised.l], [2, 3, 0, 2]);
    const r = buildReport(a, undefined, { retentionDays: 30 });
    const kFinding = r.findings.find((f) => f.title.startsWith("k-anonymity"))!;
    assert.equal(kFinding.severity, "high");
    assert.ok(kFinding.regulations.some((x) => /Recital 26/.test(x)));
    assert.ok(r.findings.every((f) => f.regulations.length > 0), "every finding names a rule");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("privacy report writes PDF, HTML and JSON with the ledger; bad input writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/patients.csv`;
    await writeSensitiveCsv(data, 200, 5);
    const ledger = {
      dataset: "patients",
      budget: { epsilon: 2, delta: 1e-6 },
      spent: { epsilon: 1.75, delta: 1e-7 },
      entries: [{
        analyst: "ana",
        query: "select count(*) from patients",
        mechanism: "Laplace",
        epsilon: 1.75,
        delta: 0,
        at: "2026-12-01",
      }],
    };
    await Deno.writeTextFile(`${dir}/ledger.json`, JSON.stringify(ledger));
    const out = `${dir}/compliance_report.pdf`;
    const ok = await cli(["report", "--output", out, "--data", data, "--ledger", `${dir}/ledger.json`]);
    assert.equal(ok.code, 0);
    const pdf = await Deno.readFile(out);
    assert.equal(new TextDecoder().decode(pdf.slice(0, 5)), "%PDF-");
    assert.ok(pdf.length > 20_000);
    const html = await Deno.readTextFile(`${dir}/compliance_report.html`);
    assert.match(html, /§164\.514\(b\)\(2\)\(i\)\(F\)/);
    assert.match(html, /ε spent \/ budget/);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/compliance_report.json`));
    assert.equal(json.ledger.spent.epsilon, 1.75);
    assert.ok(
      json.findings.some((f: { area: string; severity: string }) =>
        f.area === "privacy budget" && f.severity === "medium"
      ),
    );

    const before = [...Deno.readDirSync(dir)].length;
    await assert.rejects(cli(["report", "--output", `${dir}/x.pdf`, "--data", `${dir}/missing.csv`]), /no data file/);
    await assert.rejects(cli(["report", "--output", `${dir}/x.docx`, "--data", data]), /must end in \.pdf/);
    assert.equal([...Deno.readDirSync(dir)].length, before, "nothing half-written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("privacy report --dataset reads budget and queries from the PostgreSQL ledger", async () => {
  const { Ledger } = await import("@mercury/privacy/ledger");
  const schema = "privacy_compliance_test";
  const dir = await Deno.makeTempDir();
  await using ledger = await Ledger.open({ schema });
  try {
    await ledger.dropSchema();
    await using fresh = await Ledger.open({ schema });
    await fresh.setBudget("patients", { epsilon: 1, delta: 1e-6 });
    const charge = { dataset: "patients", analyst: "ana", mechanism: "laplace", delta: 0 };
    await fresh.spend({ ...charge, query: "select count(*) from patients", epsilon: 0.25 }, () => Promise.resolve(1));
    await fresh.spend({ ...charge, query: "select avg(bmi) from patients", epsilon: 0.5 }, () => Promise.resolve(2));
    const data = `${dir}/patients.csv`;
    await writeSensitiveCsv(data, 100, 2);
    const out = `${dir}/r.html`;
    const { code } = await cli([
      "report",
      "--output",
      out,
      "--data",
      data,
      "--dataset",
      "patients",
      "--ledger-schema",
      schema,
    ]);
    assert.equal(code, 0);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(json.ledger.entries.length, 2);
    assert.equal(json.ledger.spent.epsilon, 0.75);
    assert.match(await Deno.readTextFile(out), /select avg\(bmi\) from patients/);
    await assert.rejects(
      cli(["report", "--output", `${dir}/x.pdf`, "--data", data, "--dataset", "nobody", "--ledger-schema", schema]),
      /no budget for data set "nobody"/,
    );
  } finally {
    await ledger.dropSchema();
    await Deno.remove(dir, { recursive: true });
  }
});
