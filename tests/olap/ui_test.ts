/**
 * The web UI end to end in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): table browser, editor run/cancel, paging, cache pill,
 * explain analyze, chart builder, export download, error display. Saves
 * reports/olap-ui.png.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { serve } from "@mercury/olap";
import { ROOT } from "../_helpers.ts";
import { salesEngine } from "./_fixtures.ts";
import { CHROMIUM, getSql, setSql } from "./_ui.ts";

Deno.test({
  name: "web UI: browse, run, page, cancel, explain, chart, export in headless Chromium",
  async fn(t) {
    const env = await salesEngine();
    await env.olap.declareRollup({
      name: "by_region",
      table: "sales",
      dimensions: ["region", "product"],
      measures: [{ agg: "sum", column: "qty" }],
    });
    const server = serve(env.olap, { port: 0 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, acceptDownloads: true });
      await page.goto(server.url);
      await t.step("table browser lists tables with their schema", async () => {
        await page.waitForSelector(".table-item[data-table=sales]");
        await page.click(".table-item[data-table=sales] .name");
        const schema = await page.textContent(".schema:not([hidden])");
        assert.match(schema!, /qty\s*BIGINT/);
        assert.equal(await getSql(page), "select * from sales limit 100");
      });
      await t.step("run: a paginated grid; next page; status shows rows", async () => {
        await setSql(page, "select ts, region, product, qty, amount from sales order by ts");
        await page.click("#run");
        await page.waitForSelector("#result-grid");
        assert.equal(await page.locator("#result-grid tbody tr").count(), 100);
        assert.match((await page.textContent("#page-info"))!, /rows 1–100\+/);
        await page.click("#next");
        await page.waitForFunction(`document.getElementById("page-info").textContent.startsWith("rows 101")`);
        assert.equal(await page.locator("#result-grid tbody tr").count(), 100);
      });
      await t.step("a syntax error shows kind, message and position; the next query runs", async () => {
        await setSql(page, "select region,\n  count(*) from sales grop by 1");
        await page.click("#run");
        await page.waitForSelector("#error:not([hidden])");
        const err = await page.textContent("#error");
        assert.match(err!, /syntax_error/);
        assert.match(err!, /line 2, column/);
      });
      await t.step("the same aggregate twice: answered by the rollup, then by the cache", async () => {
        await setSql(page, "select region, sum(qty) as total_qty from sales group by region order by region");
        await page.click("#run");
        await page.waitForSelector("#status .pill");
        assert.match((await page.textContent("#status"))!, /rollup by_region/);
        await page.click("#run");
        await page.waitForSelector("#status .pill.hit");
        assert.equal(await page.locator("#result-grid tbody tr").count(), 3);
      });
      await t.step("chart builder draws an SVG bar chart", async () => {
        await page.click(".tab[data-view=chart-view]");
        await page.selectOption("#cx", "region");
        await page.selectOption("#cy", "total_qty");
        await page.click("#draw");
        await page.waitForSelector("#chart svg");
        assert.ok((await page.locator("#chart svg .mark-rect path").count()) >= 3);
      });
      await t.step("export CSV downloads the query's answer", async () => {
        await page.click(".tab[data-view=results]");
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#exports a[data-format=csv]"),
        ]);
        const path = await download.path();
        const text = await Deno.readTextFile(path!);
        assert.equal(text.trim().split("\n")[0], "region,total_qty");
        assert.equal(text.trim().split("\n").length, 4);
      });
      await t.step("explain analyze shows the operator tree", async () => {
        await setSql(page, "select product, count(*) from sales where day = date '2024-01-05' group by product");
        await page.click("#analyze");
        // READ_PARQUET over Parquet storage, SEQ_SCAN over DuckDB storage: either way a scan and what was pruned.
        await page.waitForFunction(
          `/READ_PARQUET|SEQ_SCAN|TABLE_SCAN/.test(document.getElementById("plan").textContent)`,
        );
        assert.match((await page.textContent("#plan"))!, /pruned/);
      });
      await t.step("cancel stops a long query", async () => {
        await setSql(page, "select count(*) from range(1000000000000) a");
        await page.click("#run");
        await page.waitForFunction(`!document.getElementById("cancel").disabled`);
        await page.click("#cancel");
        await page.waitForFunction(`/cancelled|499/.test(document.getElementById("status").textContent)`);
      });
      await t.step("screenshot of a result with a chart", async () => {
        await setSql(
          page,
          "select day, region, sum(qty) as qty, round(avg(amount), 2) as avg_amount from sales group by all order by day, region",
        );
        await page.click("#run");
        await page.waitForSelector("#result-grid");
        await page.click(".tab[data-view=chart-view]");
        await page.selectOption("#mark", "line");
        await page.selectOption("#cx", "day");
        await page.selectOption("#cy", "qty");
        await page.selectOption("#cc", "region");
        await page.click("#draw");
        await page.waitForSelector("#chart svg .mark-line path");
        await Deno.mkdir(`${ROOT}/reports`, { recursive: true });
        const png = await page.screenshot({ path: `${ROOT}/reports/olap-ui.png`, fullPage: true });
        assert.ok(png.byteLength > 10_000);
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await env.close();
    }
  },
});
