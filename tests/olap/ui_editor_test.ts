/**
 * The web UI's editor and result views in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a real server over a real catalog: CodeMirror highlighting and completion of tables and columns,
 * keyboard shortcuts, expandable schemas, example queries, column types and null counts, charts picked from the
 * result's types, history with re-run across a reload, shareable links, and the page loading with every request
 * off this server refused (the bundles are served, nothing comes from a CDN). Screenshots go to
 * `reports/olap-ui/` (gitignored).
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { serve } from "@mercury/olap";
import { salesEngine, until } from "./_fixtures.ts";
import { CHROMIUM, getSql, offlinePage, setSql, SHOTS, type Ui } from "./_ui.ts";

Deno.test({
  name:
    "web UI editor: highlighting, completion, shortcuts, schemas, examples, types and nulls, charts, history, links",
  async fn(t) {
    const env = await salesEngine();
    const server = serve(env.olap, { port: 0 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
    await Deno.mkdir(SHOTS, { recursive: true });
    try {
      const { page, outside, errors } = await offlinePage(browser, server.url);
      await page.waitForSelector(".table-item[data-table=sales]");

      await t.step("the page and its bundles load with nothing fetched from outside this server", async () => {
        await page.waitForSelector("#editor .cm-content");
        assert.deepEqual(outside, []);
        assert.deepEqual(errors, []);
      });

      await t.step("typed SQL is highlighted: keywords, numbers and strings get their own colours", async () => {
        await page.click("#editor .cm-content");
        await page.keyboard.type("select 42 as answer, 'eu' as region");
        assert.equal(await getSql(page), "select 42 as answer, 'eu' as region");
        // A string, not a function: the test is type-checked without the DOM's types.
        const colour = (text: string) =>
          page.evaluate<string>(`(() => {
            const span = [...document.querySelectorAll("#editor .cm-line span")].find((s) => s.textContent === ${
            JSON.stringify(text)
          });
            return span ? getComputedStyle(span).color : "none";
          })()`);
        assert.equal(await colour("select"), "rgb(59, 91, 219)");
        assert.equal(await colour("42"), "rgb(217, 72, 15)");
        assert.equal(await colour("'eu'"), "rgb(43, 138, 62)");
      });

      await t.step("Ctrl+Enter runs the query", async () => {
        await page.keyboard.press("Control+Enter");
        await page.waitForSelector("#result-grid");
        assert.equal(await page.textContent("#result-grid tbody td"), "42");
      });

      await t.step("completion offers the catalog's tables, then a table's columns with their types", async () => {
        await setSql(page, "");
        await page.click("#editor .cm-content");
        await page.keyboard.type("select * from sa");
        await page.keyboard.press("Control+Space");
        // The list opened while typing may still show an earlier prefix's keywords: wait for this prefix's list.
        await page.waitForSelector(".cm-tooltip-autocomplete li .cm-completionLabel >> text=sales");
        const tables = await page.locator(".cm-tooltip-autocomplete li .cm-completionLabel").allTextContents();
        assert.ok(tables.includes("sales"), `completions: ${tables}`);
        // CodeMirror ignores Enter in the first 75 ms of a completion list (its interactionDelay).
        await page.waitForTimeout(150);
        await page.keyboard.press("Enter");
        assert.equal(await getSql(page), "select * from sales");
        await setSql(page, "select sales.");
        await page.click("#editor .cm-content");
        await page.keyboard.press("End");
        await page.keyboard.type("q");
        await page.keyboard.press("Control+Space");
        await page.waitForSelector(".cm-tooltip-autocomplete li .cm-completionLabel >> text=qty");
        const option = page.locator(".cm-tooltip-autocomplete li", { hasText: "qty" });
        assert.equal(await option.locator(".cm-completionDetail").textContent(), "BIGINT");
        await page.screenshot({ path: `${SHOTS}/completion.png` });
        await page.waitForTimeout(150);
        await page.keyboard.press("Enter");
        assert.equal(await getSql(page), "select sales.qty");
      });

      await t.step("the schema expands and folds; a column click inserts its name", async () => {
        const schema = page.locator(".schema[data-schema=sales]");
        assert.equal(await schema.isVisible(), false);
        await page.click(".table-item[data-table=sales] .name");
        assert.equal(await schema.isVisible(), true);
        assert.deepEqual(
          await schema.locator(".col").evaluateAll((cs) => cs.map((c) => c.textContent)),
          ["tsTIMESTAMP", "regionVARCHAR", "productVARCHAR", "qtyBIGINT", "amountDOUBLE", "dayDATE"],
        );
        await setSql(page, "select  from sales");
        await page.click("#editor .cm-content");
        await page.keyboard.press("Home");
        for (let i = 0; i < 7; i++) await page.keyboard.press("ArrowRight");
        await page.click(".schema[data-schema=sales] .col[data-column=region]");
        assert.equal(await getSql(page), "select region from sales");
        await page.click(".table-item[data-table=sales] .name");
        assert.equal(await schema.isVisible(), false);
      });

      await t.step("an example query runs from the sidebar", async () => {
        await page.locator(".example", { hasText: "sales: top region" }).click();
        await page.waitForFunction(`document.querySelector("#result-grid th")?.textContent.startsWith("region")`);
        assert.equal(await page.locator("#result-grid tbody tr").count(), 3);
        assert.match(await getSql(page), /group by region/);
      });

      await t.step("result headers show each column's type and its null count over the whole result", async () => {
        // 250 rows, 84 nulls (every third), 100 on the first page (34 of them null).
        await setSql(page, "select i, case when i % 3 = 0 then null else i end as maybe from range(250) t(i)");
        await page.click("#run");
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("250 rows in all")`);
        const th = page.locator("#result-grid th");
        assert.equal(await th.nth(0).locator(".ty").textContent(), "BIGINT");
        assert.equal(await th.nth(0).locator(".nulls").textContent(), "no nulls");
        assert.equal(await th.nth(1).locator(".nulls").textContent(), "84 nulls");
        assert.equal(await page.locator("#result-grid td .null").count(), 34);
      });

      await t.step(
        "a header click sorts the whole answer on the server; a second click reverses; paging keeps it",
        async () => {
          await setSql(page, "select ts, region, qty from sales");
          await page.click("#run");
          await page.waitForSelector("#result-grid");
          await page.click("#result-grid th >> nth=2");
          await page.waitForFunction(
            `document.querySelector("#result-grid th:nth-child(3) .arrow")?.textContent === " ▼"`,
          );
          const firstQty = () => page.textContent("#result-grid tbody tr:first-child td:nth-child(3)");
          assert.equal(await firstQty(), "96");
          await page.click("#result-grid th >> nth=2");
          await page.waitForFunction(
            `document.querySelector("#result-grid th:nth-child(3) .arrow")?.textContent === " ▲"`,
          );
          assert.equal(await firstQty(), "0");
          await page.click("#next");
          await page.waitForFunction(`document.getElementById("page-info").textContent.startsWith("rows 101")`);
          // 2,000 rows of i % 97: values 0–59 occur 21 times each, so row 101 of the ascending order is a 4.
          assert.equal(await firstQty(), "4");
          // A double click copies a cell's value.
          await page.dblclick("#result-grid tbody tr:first-child td:nth-child(2)");
          await page.waitForFunction(`document.getElementById("toast").textContent.startsWith("Copied ")`);
          const region = await page.textContent("#result-grid tbody tr:first-child td:nth-child(2)");
          assert.equal(await page.evaluate("navigator.clipboard.readText()"), region);
          assert.equal(await getSql(page), "select ts, region, qty from sales");
        },
      );

      await t.step("a time and a measure are drawn as a line; a category and a measure as bars", async () => {
        await setSql(
          page,
          "select ts_bucket(interval 6 hour, ts) as bucket, region, sum(qty) as qty from sales group by all order by 1",
        );
        await page.click("#run");
        await page.waitForSelector("#result-grid");
        await page.click(".tab[data-view=chart-view]");
        await page.waitForSelector("#chart svg .mark-line path");
        assert.match(
          (await page.textContent("#chart-reason"))!,
          /bucket is TIMESTAMP and qty is (HUGEINT|BIGINT): a line over time/,
        );
        assert.equal(await page.inputValue("#cc"), "region");
        await page.screenshot({ path: `${SHOTS}/chart-line.png` });
        await setSql(page, "select product, sum(amount) as amount from sales group by 1 order by 1");
        await page.click("#editor .cm-content");
        await page.keyboard.press("Control+Enter");
        await page.waitForSelector("#chart svg .mark-rect path");
        assert.match((await page.textContent("#chart-reason"))!, /product is a category and amount a measure: bars/);
        assert.equal(await page.locator("#chart svg .mark-rect path").count(), 4);
      });

      await t.step("Ctrl+S puts a link to the query in the address bar; the link opens and runs it", async () => {
        const sql = "select region, count(*) as n from sales\n-- 100% of rows #1\ngroup by region order by n desc";
        await setSql(page, sql);
        await page.click("#editor .cm-content");
        await page.keyboard.press("Control+s");
        await until(
          "the hash holds the query",
          async () => (await page.evaluate(() => location.hash)).startsWith("#sql="),
        );
        const link = page.url();
        const { page: other } = await offlinePage(browser, link);
        await other.waitForSelector("#result-grid");
        assert.equal(await getSql(other), sql);
        assert.equal(await other.locator("#result-grid tbody tr").count(), 3);
        await other.close();
      });

      await t.step("history survives a reload and re-runs a query", async () => {
        await page.reload();
        // The address bar still holds Ctrl+S's link, so the reloaded page runs that query and puts it on top of the
        // history when it answers; until then the list shows the history as it was.
        await page.waitForSelector(".history-item");
        await page.waitForFunction(
          `/^select region, count\\(\\*\\) as n from sales/.test(document.querySelector(".history-item .q")?.textContent ?? "")`,
          undefined,
          { timeout: 15_000 },
        ).catch(() => {});
        const first = await page.locator(".history-item .q").first().textContent();
        assert.match(first!, /select region, count\(\*\) as n from sales/);
        const entries = await page.evaluate(() => (globalThis as unknown as Ui).olapUi.history());
        const older = entries.findIndex((e) => e.sql.startsWith("select i, case when"));
        assert.ok(older > 0, `history: ${entries.map((e) => e.sql).join(" | ")}`);
        await page.locator(".history-item .rerun").nth(older).click();
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("250 rows in all")`);
        assert.match(await getSql(page), /^select i, case when/);
        assert.match((await page.locator(".history-item .q").first().textContent())!, /^select i, case when/);
        await page.screenshot({ path: `${SHOTS}/results.png` });
      });

      await t.step("a syntax error is shown with its position and the cursor is put there", async () => {
        await setSql(page, "select region,\n  count(*) from sales grop by 1");
        await page.click("#run");
        await page.waitForSelector("#error:not([hidden])");
        const m = /at line (\d+), column (\d+)/.exec((await page.textContent("#error"))!);
        assert.ok(m, "the error names a position");
        const cursor = await page.evaluate<[number, number]>(`(() => {
          const v = globalThis.olapUi.editor.view, head = v.state.selection.main.head, line = v.state.doc.lineAt(head);
          return [line.number, head - line.from + 1];
        })()`);
        assert.deepEqual(cursor, [Number(m[1]), Number(m[2])]);
        assert.equal(cursor[0], 2);
        await page.screenshot({ path: `${SHOTS}/error.png` });
      });

      await t.step("Esc in the editor cancels a running query", async () => {
        await setSql(page, "select count(*) from range(1000000000000) a");
        await page.click("#editor .cm-content");
        await page.keyboard.press("Control+Enter");
        await page.waitForFunction(`!document.getElementById("cancel").disabled`);
        await page.keyboard.press("Escape");
        await page.waitForFunction(`/cancelled|499/.test(document.getElementById("status").textContent)`);
      });
      await t.step("tour: a schema open, a grouped result with nulls, its chart (README screenshots)", async () => {
        await page.click(".table-item[data-table=sales] .name");
        await setSql(
          page,
          "select day, region,\n  count(*) as orders,\n  sum(qty) as qty,\n  round(avg(amount), 2) as avg_amount,\n" +
            "  max(case when qty > 95 then amount end) as big_amount\nfrom sales\ngroup by all\norder by day, region",
        );
        await page.click("#run");
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("72 rows in all")`);
        assert.match((await page.locator("#result-grid th").nth(5).textContent())!, /big_amountDOUBLE\d+ nulls/);
        await page.screenshot({ path: `${SHOTS}/tour.png` });
        await page.click(".tab[data-view=chart-view]");
        await page.waitForSelector("#chart svg .mark-line path");
        await page.screenshot({ path: `${SHOTS}/tour-chart.png` });
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await env.close();
    }
  },
});
