/**
 * The report site: plugin pages (notebook link, README figures, bench ratios)
 * and the index, opened from the file system in headless Chromium (Debian's
 * `chromium`, driven by playwright-core) with every network request refused.
 * Saves reports/site-index.png and reports/site-plugin.png.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { markdownToHtml, numbersSection, ratiosOf } from "../tasks/notebooks/site.ts";
import { ROOT, runScript } from "./_helpers.ts";

const CHROMIUM = Deno.env.get("MERCURY_CHROMIUM") ?? "/usr/bin/chromium";

Deno.test("markdownToHtml() renders the README subset, escaped; only web links stay links", () => {
  const html = markdownToHtml(
    "### Run <1>\n\nText with `code` and **bold** [web](https://x.org) [file](../a.md).\n\n" +
      "| a | b |\n| --- | ---: |\n| 1 | <script> |\n\n- one\n  more\n- two\n\n```\nx < y\n```",
  );
  assert.match(html, /<h4>Run &lt;1&gt;<\/h4>/);
  assert.match(html, /<code>code<\/code> and <b>bold<\/b> <a href="https:\/\/x.org">web<\/a> file\./);
  assert.match(html, /<table><thead><tr><th>a<\/th><th>b<\/th><\/tr><\/thead><tbody><tr><td>1<\/td><td>&lt;script&gt;/);
  assert.match(html, /<ul><li>one more<\/li><li>two<\/li><\/ul>/);
  assert.match(html, /<pre>x &lt; y<\/pre>/);
  assert.doesNotMatch(html, /<script>/);
});

Deno.test("numbersSection() and ratiosOf() find a README's figures and a bench file's ratios", () => {
  assert.equal(numbersSection("# X\n## API\na\n## Numbers\n| a |\n## Tests\nt"), "| a |");
  assert.equal(numbersSection("# X\n## API\n"), undefined);
  assert.deepEqual(ratiosOf({ when: "t", q: [{ ratio: 1.5, ms: 3 }], nested: { speedupVsPeer: 2 } }), [
    ["q[0].ratio", 1.5],
    ["nested.speedupVsPeer", 2],
  ]);
});

Deno.test({
  name: "report site: index and plugin pages open offline in headless Chromium",
  async fn(t) {
    const reports = Deno.makeTempDirSync({ prefix: "mercury-site-" });
    const r = await runScript("tasks/nb.ts", [
      "4-good",
      "--notebooks-dir",
      `${ROOT}/tests/testdata/bad_notebooks`,
      "--reports-dir",
      reports,
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const p of ["olap", "stream", "features", "forecast", "quality", "observe", "privacy", "spark"]) {
      assert.ok(Deno.statSync(`${reports}/plugins/${p}.html`).size > 500, `${p}.html`);
    }

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
    const network: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        network.push(url);
        return route.abort();
      });
      await t.step("the index lists the notebook and links every plugin page", async () => {
        await page.goto(`file://${reports}/index.html`);
        assert.equal(await page.textContent("h1"), "Mercury notebook reports");
        assert.match((await page.textContent("tbody"))!, /4-good\s*passed/);
        assert.equal(await page.locator('a[href^="plugins/"]').count(), 8);
        await Deno.mkdir(`${ROOT}/reports`, { recursive: true });
        await page.screenshot({ path: `${ROOT}/reports/site-index.png`, fullPage: true });
      });
      await t.step("a plugin page: its notebook, README figures and bench ratios", async () => {
        await page.click('a[href="plugins/olap.html"]');
        await page.waitForSelector("h1");
        assert.match((await page.textContent("h1"))!, /@mercury\/olap/);
        assert.match((await page.textContent("body"))!, /notebooks\/05-olap\.ipynb \(no report yet/);
        // The README's numbers section rendered: at least one table of figures.
        assert.ok(await page.locator("h2:has-text('Numbers from the README') ~ table").count() >= 1);
        assert.ok(await page.locator('a[href="../../bench/results/olap.json"]').count() === 1);
        await page.screenshot({ path: `${ROOT}/reports/site-plugin.png`, fullPage: false });
        await page.click('a[href="../index.html"]');
        assert.equal(await page.textContent("h1"), "Mercury notebook reports");
      });
      assert.deepEqual(network, [], "the site asked the network");
    } finally {
      await browser.close();
    }
  },
});
