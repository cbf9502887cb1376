import assert from "node:assert/strict";
import { tableFromArrays } from "apache-arrow";
import { chart, chartSvg, escapeHtml, inJupyter, markdown, table, tableHtml, tableText } from "@mercury/core/display";
import { withDuckDB } from "@mercury/core/services/duckdb";

Deno.test("chartSvg() renders the marks of the spec", async (t) => {
  await t.step("one bar per row", async () => {
    const svg = await chartSvg({
      data: { values: [{ k: "a", v: 1 }, { k: "b", v: 4 }, { k: "c", v: 2 }] },
      mark: "bar",
      encoding: { x: { field: "k", type: "nominal" }, y: { field: "v", type: "quantitative" } },
    });
    assert.match(svg, /^<svg[^>]+width="\d+" height="\d+"/);
    const group = /<g class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg);
    assert.ok(group, "no rect mark group");
    assert.equal(group[1]!.match(/<path/g)?.length, 3);
    for (const label of ["a", "b", "c"]) assert.match(svg, new RegExp(`>${label}</text>`));
  });
  await t.step("a line and points layer, with a title", async () => {
    const svg = await chartSvg({
      title: "Trend <1>",
      data: { values: Array.from({ length: 10 }, (_, i) => ({ x: i, y: i * i })) },
      layer: [{ mark: "line" }, { mark: "point" }],
      encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
    });
    assert.match(svg, /mark-line role-mark/);
    assert.match(svg, /mark-symbol role-mark/);
    assert.match(svg, /Trend &lt;1&gt;/);
  });
  await t.step("an invalid spec is a TypeError that says so", async () => {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      chartSvg({ mark: "nonsense" } as any),
      /Cannot compile the vega-lite spec/,
    );
  });
});

Deno.test("tableHtml() escapes values, shows types, counts and truncation", async (t) => {
  const rows = [
    { name: "<script>alert('x')</script>", n: 1, when: new Date("2026-01-01T00:00:00Z"), note: null },
    { name: "a & b", n: 2.5, when: null, note: "ok" },
    { name: "c", n: 3, when: null, note: "ok" },
  ];
  const html = tableHtml(rows, { maxRows: 2, title: "T<itle>" });
  await t.step("no raw markup from values survives", () => {
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;alert\(&#39;x&#39;\)&lt;\/script&gt;/);
    assert.match(html, /a &amp; b/);
    assert.match(html, /T&lt;itle&gt;/);
  });
  await t.step("column types are shown", () => {
    assert.match(html, /name<br><span[^>]*>string/);
    assert.match(html, /n<br><span[^>]*>number/);
    assert.match(html, /when<br><span[^>]*>date/);
  });
  await t.step("row count and truncation note", () => {
    assert.match(html, /3 rows × 4 columns \(showing the first 2\)/);
    assert.equal(html.match(/<tr style/g)?.length, 2);
  });
  await t.step("nulls are marked", () => assert.match(html, /font-style:italic[^>]*>null</));
});

Deno.test("tableText() aligns columns: text left, numbers right", () => {
  const text = tableText([{ city: "Oslo", temp: 4.5 }, { city: "Kinshasa", temp: 31 }, {
    city: "Reykjavík",
    temp: -2,
  }]);
  assert.equal(
    text,
    [
      "city       temp",
      "Oslo        4.5",
      "Kinshasa     31",
      "Reykjavík    -2",
      "3 rows × 2 columns",
    ].join("\n"),
  );
});

Deno.test("table() takes Arrow tables and DuckDB results with their column types", async () => {
  const arrow = tableFromArrays({ id: Int32Array.from([1, 2]), score: Float64Array.from([0.5, 1.25]) });
  const a = tableText(arrow);
  assert.match(a, /^id {2}score$/m);
  assert.match(tableHtml(arrow), /Int32/);
  assert.match(a, /^ 2 {3}1\.25$/m);
  const html = await withDuckDB(async (c) => {
    const r = await c.runAndReadAll("select 42::bigint as answer, 'x' as label");
    return tableHtml(r) + "\n" + tableText(r);
  });
  assert.match(html, /answer<br><span[^>]*>BIGINT/);
  assert.match(html, /^answer {2}label$/m);
});

Deno.test({
  name: "outside Jupyter, table() and markdown() print text and chart() writes its file",
  async fn() {
    assert.equal(inJupyter(), false);
    const printed: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => printed.push(args.join(" "));
    const file = `${Deno.makeTempDirSync()}/c.svg`;
    try {
      await table([{ a: 1 }]);
      await markdown("**bold**");
      await chart({
        title: "t",
        data: { values: [{ x: 1 }] },
        mark: "point",
        encoding: { x: { field: "x", type: "quantitative" } },
      }, { file });
    } finally {
      console.log = original;
    }
    assert.equal(printed[0], "a\n1\n1 row × 1 column");
    assert.equal(printed[1], "**bold**");
    assert.match(printed[2]!, /^\[t: \d+×\d+ SVG, written to .*c\.svg\]$/);
    assert.match(Deno.readTextFileSync(file), /^<svg/);
  },
});

Deno.test("escapeHtml() escapes the five special characters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});
