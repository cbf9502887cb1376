import assert from "node:assert/strict";
import { validate } from "../../plugins/quality/validate.ts";
import { scoreRun } from "../../plugins/quality/score.ts";
import { buildReport, writeReport } from "../../plugins/quality/report/build.ts";
import { renderJunit } from "../../plugins/quality/report/formats.ts";
import type { ExpectationSuite } from "../../plugins/quality/types.ts";
import { testStore } from "./_store_fixture.ts";

const suite: ExpectationSuite = {
  name: "report_orders",
  expectations: [
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "email" } },
    { type: "expect_column_values_to_be_between", kwargs: { column: "age", min_value: 0, max_value: 120 } },
    { type: "expect_table_row_count_to_be_between", kwargs: { min_value: 1, max_value: 100 } },
  ],
};

async function fixture() {
  const dir = await Deno.makeTempDir();
  const csv = `${dir}/o.csv`;
  await Deno.writeTextFile(csv, "email,age\na@b.io,30\n,40\nc@d.io,150\nd@e.io,<script>\n".replace("<script>", "50"));
  const run = await validate(csv, suite, { failing_rows_path: `${dir}/failing.parquet` });
  return { dir, run };
}

Deno.test("the HTML report shows the run, score with formula, each expectation, failing rows and charts, offline", async () => {
  await using t = await testStore();
  const { dir, run } = await fixture();
  for (let i = 0; i < 3; i++) {
    const r = await validate(`${dir}/o.csv`, suite);
    r.started_at = new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
    await t.store.recordRun(r, scoreRun(r));
  }
  await t.store.recordRun(run, scoreRun(run));
  const input = await buildReport(run, { store: t.store, suite });
  const path = `${dir}/quality_report.html`;
  assert.equal(await writeReport(input, path), "html");
  const html = await Deno.readTextFile(path);
  assert.match(html, /<h1>report_orders<\/h1>/);
  assert.match(html, /overall = Σ W_d·D_d/, "the formula is shown");
  for (const e of suite.expectations) assert.ok(html.includes(e.type), e.type);
  assert.equal((html.match(/class="pill bad">fail</g) ?? []).length, 2);
  assert.match(html, /Failing rows \(first 2\)/);
  assert.match(html, /__failed_expectations/);
  assert.match(html, /Metric history/);
  assert.match(html, /Distributions/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 3, "history and distribution charts as inline SVG");
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, "no script and no network reference");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".tmp")), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the PDF report is the same page printed by headless Chromium", async () => {
  const { dir, run } = await fixture();
  const input = await buildReport(run, { suite, profile: null });
  assert.equal(await writeReport(input, `${dir}/r.pdf`), "pdf");
  const bytes = await Deno.readFile(`${dir}/r.pdf`);
  assert.equal(new TextDecoder().decode(bytes.slice(0, 5)), "%PDF-");
  assert.ok(bytes.length > 10_000);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("JSON and JUnit XML carry every result; CI sees the failures", async () => {
  const { dir, run } = await fixture();
  const input = await buildReport(run, { profile: null });
  await writeReport(input, `${dir}/r.json`);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
  assert.equal(json.results.length, 3);
  assert.equal(json.score.overall, input.score.overall);
  const xml = renderJunit(run);
  assert.match(xml, /<testsuite name="report_orders" tests="3" failures="2" errors="0"/);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 3);
  assert.match(xml, /name="expect_column_values_to_be_between\(age\)"><failure message="1 unexpected/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a report that cannot be written leaves nothing behind and says where", async () => {
  const { dir, run } = await fixture();
  const input = await buildReport(run, { profile: null });
  await Deno.mkdir(`${dir}/taken.html`);
  await assert.rejects(() => writeReport(input, `${dir}/taken.html`), /cannot write .*taken\.html/);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".tmp")), []);
  await Deno.remove(dir, { recursive: true });
});
