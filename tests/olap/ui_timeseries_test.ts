/**
 * The web UI's time-series actions in headless Chromium against a real server: each form posts to its
 * `POST /timeseries/<route>` and shows the route's answer (compared with the same body sent by the test), a bad
 * field shows the server's 400 naming it, "Open as SQL" puts the route's SQL in the editor, and the curl line the
 * form shows sends a body the route accepts with the same answer. Screenshot: `reports/olap-ui/timeseries.png`.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { serve } from "@mercury/olap";
import { duck, salesEngine } from "./_fixtures.ts";
import { CHROMIUM, getSql, offlinePage, SHOTS } from "./_ui.ts";

/** The JSON body inside the curl line the form shows. */
async function curlBody(page: Page): Promise<Record<string, unknown>> {
  const line = (await page.textContent("#ts-curl"))!;
  const m = /-d '(.*)'$/.exec(line);
  assert.ok(m, `not a curl line: ${line}`);
  return JSON.parse(m[1]!.replace(/'\\''/g, "'"));
}

/** The grid's rows as text. */
const gridRows = (page: Page) =>
  page.locator("#result-grid tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.getAttribute("title") ?? ""))
  );

Deno.test({
  name: "web UI time-series actions: forms post to the routes, show their answers, errors and SQL",
  async fn(t) {
    const env = await salesEngine();
    const prices = `${env.dir}/prices.csv`;
    await duck(`copy (
      select timestamp '2024-01-01' + to_hours(i * 6) as ts, ['a', 'b', 'c', 'd'][1 + i % 4] as product,
        cast(10 + i as double) as price
      from range(120) t(i)) to '${prices}' (format csv, header true)`);
    await env.olap.ingest("prices", { file: prices });
    const server = serve(env.olap, { port: 0 });
    const route = async (op: string, body: Record<string, unknown>) => {
      const res = await fetch(`${server.url}timeseries/${op}`, {
        method: "POST",
        body: JSON.stringify({ ...body, format: "json" }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { columns: { name: string }[]; rows: unknown[][] };
    };
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
    try {
      const { page, outside } = await offlinePage(browser, server.url);
      await page.waitForSelector(".table-item[data-table=prices]");
      await page.click(".tab[data-view=ts-view]");
      await page.selectOption("#ts-table", "sales");

      await t.step("gap fill: the form's defaults run the route; the grid shows its answer", async () => {
        await page.click(".ts-op[data-op=gap-fill]");
        assert.equal(await page.inputValue("#ts-f-time"), "ts");
        assert.equal(await page.inputValue("#ts-f-every"), "1 hour");
        await page.selectOption("#ts-f-method", "linear");
        const body = await curlBody(page);
        assert.deepEqual(body, { table: "sales", time: "ts", every: "1 hour", values: ["qty"], method: "linear" });
        await page.click("#ts-run");
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("gap-fill")`);
        const answer = await route("gap-fill", body);
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("rows in all")`);
        assert.match((await page.textContent("#result-meta"))!, new RegExp(`${answer.rows.length} rows in all`));
        const shown = await gridRows(page);
        assert.equal(shown.length, 100);
        assert.deepEqual(shown[5], answer.rows[5]!.map((v) => String(v)));
      });

      await t.step("the curl line's body is what the route takes", async () => {
        await page.click(".tab[data-view=ts-view]");
        await page.click(".ts-op[data-op=moving]");
        await page.fill("#ts-f-window", "3 hours");
        await page.selectOption("#ts-f-agg", "sum");
        await page.click(".chip:has(input[value=region]) >> nth=0");
        const body = await curlBody(page);
        assert.deepEqual(body, {
          table: "sales",
          time: "ts",
          value: "qty",
          window: "3 hours",
          agg: "sum",
          by: ["region"],
        });
        await page.click("#ts-run");
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("moving")`);
        const answer = await route("moving", { ...body, limit: 100 });
        assert.deepEqual(answer.columns.map((c) => c.name).at(-1), "sum_qty");
        // The chart picked for it plots what the builder added.
        assert.equal(await page.inputValue("#cy"), "sum_qty");
        assert.deepEqual(await gridRows(page), answer.rows.map((r) => r.map((v) => String(v))));
      });

      await t.step("a bad field shows the server's 400 naming it, and nothing runs", async () => {
        await page.click(".tab[data-view=ts-view]");
        await page.click(".ts-op[data-op=sessionize]");
        await page.fill("#ts-f-gap", "soon");
        await page.click("#ts-run");
        await page.waitForSelector("#error:not([hidden])");
        const err = (await page.textContent("#error"))!;
        assert.match(err, /bad_request/);
        assert.match(err, /field: gap/);
        assert.match((await page.textContent("#status"))!, /failed \(400\)/);
      });

      await t.step("ASOF join over a second table: its columns are offered, the answer matches", async () => {
        await page.click(".ts-op[data-op=asof-join]");
        assert.equal(await page.inputValue("#ts-f-right"), "prices");
        const offered = await page.locator("#ts-f-columns input").evaluateAll((i) =>
          i.map((x) => (x as unknown as { value: string }).value)
        );
        assert.deepEqual(offered, ["ts", "product", "price"]);
        await page.click("#ts-f-by .chip:has(input[value=product])");
        const body = await curlBody(page);
        assert.deepEqual(body, { table: "sales", right: "prices", time: "ts", columns: ["price"], by: ["product"] });
        await page.click("#ts-run");
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("asof-join")`);
        const answer = await route("asof-join", { ...body, limit: 100 });
        assert.equal(answer.columns.at(-1)!.name, "price");
        assert.equal((await gridRows(page)).length, Math.min(100, answer.rows.length));
      });

      await t.step("funnel with steps; Open as SQL puts the route's SQL in the editor", async () => {
        await page.click(".tab[data-view=ts-view]");
        await page.click(".ts-op[data-op=funnel]");
        await page.selectOption("#ts-f-user", "product");
        await page.selectOption("#ts-f-event", "region");
        // The event column's values are offered as chips; each click appends a step.
        await page.waitForSelector("#ts-step-values .chip[data-step=apac]");
        assert.deepEqual(
          await page.locator("#ts-step-values .chip").evaluateAll((c) => c.map((x) => x.getAttribute("data-step"))),
          ["apac", "eu", "us"],
        );
        for (const step of ["eu", "us", "apac"]) await page.click(`#ts-step-values .chip[data-step=${step}]`);
        assert.equal(await page.inputValue("#ts-f-steps"), "eu, us, apac");
        await page.screenshot({ path: `${SHOTS}/timeseries.png` });
        const body = await curlBody(page);
        await page.click("#ts-run");
        await page.waitForFunction(`document.getElementById("result-meta").textContent.includes("funnel")`);
        const answer = await route("funnel", body);
        assert.deepEqual(await gridRows(page), answer.rows.map((r) => r.map((v) => String(v))));
        assert.deepEqual([await page.inputValue("#cx"), await page.inputValue("#cy")], ["event", "users"]);
        await page.click(".tab[data-view=ts-view]");
        await page.click("#ts-sql");
        await page.waitForFunction(`globalThis.olapUi.editor.get().startsWith("with s1 as")`);
        const res = await fetch(`${server.url}timeseries/funnel/sql`, { method: "POST", body: JSON.stringify(body) });
        assert.equal(await getSql(page), (await res.json()).sql);
        assert.deepEqual(outside, []);
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await env.close();
    }
  },
});
