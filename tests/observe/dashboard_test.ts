/**
 * The observe dashboard in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): two models served from MLflow with traffic and labels,
 * the comparison page and one model's page (metrics, drift, latency, SHAP).
 * Saves reports/observe-dashboard.png and reports/observe-dashboard-model.png.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { resolveEndpoints, withTimeout } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import {
  basketData,
  churnData,
  Dashboard,
  logModel,
  MlflowClient,
  ObserveServer,
  setupSchema,
  trainModel,
} from "@mercury/observe";
import { ROOT } from "../_helpers.ts";

const CHROMIUM = Deno.env.get("MERCURY_CHROMIUM") ?? "/usr/bin/chromium";

Deno.test({
  name: "observe dashboard: models compared and one model's metrics, drift, latency and SHAP in headless Chromium",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const eps = resolveEndpoints();
    await using pg = await connectPostgres({ url: eps.postgres.url });
    await setupSchema(pg.sql);
    const mlflow = new MlflowClient(eps.mlflow.url);
    const suffix = crypto.randomUUID().slice(0, 6);
    const clf = `dash-churn-${suffix}`, reg = `dash-basket-${suffix}`;
    const c = churnData(400, { seed: 1 }), b = basketData(400, { seed: 2 });
    for (
      const [name, kind, d] of [[clf, "classifier", c], [reg, "regressor", b]] as const
    ) {
      const net = await trainModel(kind, d.x, d.y, { epochs: 10 });
      const v = await logModel(mlflow, { name, net, meta: { kind, features: d.features } });
      await mlflow.setAlias(name, "champion", v.version.version);
    }
    const server = new ObserveServer({
      sql: pg.sql,
      mlflow,
      models: [clf, reg],
      port: 0,
      windowSize: 100,
      referenceSize: 100,
    });
    const dash = new Dashboard(server);
    await server.start();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
    try {
      const send = async (model: string, rows: number[][], ids: string[]) => {
        const r = await fetch(`http://127.0.0.1:${server.port}/predict/${model}`, {
          method: "POST",
          body: JSON.stringify({ rows, ids }),
        });
        assert.equal(r.status, 200);
      };
      const drifted = churnData(200, { seed: 3, shift: 1.5, flip: 0.6 });
      for (let round = 0; round < 4; round++) {
        const src = round < 2 ? c : drifted;
        const at = round < 2 ? round * 100 : (round - 2) * 100;
        const ids = src.x.slice(at, at + 100).map((_, i) => `${suffix}-${round}-${i}`);
        await send(clf, src.x.slice(at, at + 100), ids);
        await server.addLabels(ids.map((id, i) => ({ id, label: src.y[at + i] })));
        const bids = b.x.slice(at, at + 100).map((_, i) => `${suffix}-b${round}-${i}`);
        await send(reg, b.x.slice(at, at + 100), bids);
        await server.addLabels(bids.map((id, i) => ({ id, label: b.y[at + i] })));
        dash.sample();
      }
      // Permutation importance reads the labelled predictions from PostgreSQL: store the queued ones first.
      await withTimeout(server.log.drain(), 30_000, "storing the dashboard test's predictions");
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      await page.goto(`http://127.0.0.1:${server.port}/dashboard`);
      const rows = await page.$$eval("table tr", (trs) => trs.slice(1).map((tr) => tr.textContent ?? ""));
      assert.equal(rows.length, 2);
      assert.ok(rows.some((r) => r.includes(clf) && r.includes("roc_auc")), rows.join("\n"));
      assert.ok(rows.some((r) => r.includes(reg) && r.includes("mae")), rows.join("\n"));
      assert.equal(await page.locator("figure svg").count(), 3);
      await page.screenshot({ path: `${ROOT}/reports/observe-dashboard.png`, fullPage: true });

      await page.click(`a[href="/dashboard/${clf}"]`);
      await page.waitForSelector("h1");
      assert.match((await page.textContent("h1"))!, new RegExp(clf));
      const text = (await page.textContent("body"))!;
      assert.match(text, /400 predictions, 400 labelled/);
      assert.match(text, /drift: \d+% of features/);
      assert.match(text, /estimated without labels \(CBPE\) over the latest 100: ROC AUC 0\.\d+, accuracy 0\.\d+/);
      const titles = await page.$$eval("figure svg", (svgs) => svgs.map((s) => s.textContent ?? ""));
      assert.ok(titles.some((t) => t.includes("drift per feature")), titles.join(" | "));
      assert.ok(titles.some((t) => t.includes("mean |SHAP|")), titles.join(" | "));
      assert.ok(
        titles.some((t) => t.includes("permutation importance (ROC AUC drop, 400 labelled)")),
        titles.join(" | "),
      );
      assert.equal(titles.length, 6);
      await page.screenshot({ path: `${ROOT}/reports/observe-dashboard-model.png`, fullPage: true });
      const missing = await page.goto(`http://127.0.0.1:${server.port}/dashboard/nope`);
      assert.equal(missing?.status(), 404);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
