/**
 * The observe dashboard, served by the observe server itself: `/dashboard`
 * compares every served model side by side (window metric, reference,
 * drift share, p99 latency, error rate, and their history), and
 * `/dashboard/<model>` shows one model: metrics over time, drift per feature,
 * latency, and SHAP (mean |SHAP| bar and a waterfall of the latest
 * prediction, from the stats library's KernelSHAP over the reference rows).
 * Charts are vega-lite rendered to SVG on the server, so the page needs no
 * script or network; it reloads itself every 5 s.
 *
 * @module
 */
import { chartSvg, escapeHtml } from "@mercury/core/display";
import type { TopLevelSpec } from "vega-lite";
import { type LoadedModel, predictRows } from "./model.ts";
import type { ObserveServer } from "./server.ts";
import {
  kernelShap,
  permutationImportance,
  regressionReport,
  rocAuc,
  shapBarSpec,
  shapWaterfallSpec,
} from "./stats/mod.ts";

interface Sample {
  t: number;
  model: string;
  version: string;
  metric?: string;
  value?: number;
  reference?: number;
  driftShare?: number;
  latencyP99Ms?: number;
  errorRate?: number;
}

/** Samples the server's monitors every `everyMs` and serves the pages. */
export class Dashboard {
  readonly history: Sample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Attaches its pages to `server` (`/dashboard`, `/dashboard/<model>`). */
  constructor(readonly server: ObserveServer, readonly everyMs = 2000) {
    server.extraRoutes = (req, url) => this.route(req, url);
  }

  /** Takes one sample of every served model now. */
  sample(): void {
    const snaps = this.server.snapshots();
    const t = Date.now();
    for (const x of this.server.alertInputs()) {
      const s = snaps[`${x.model}@${x.version}`];
      this.history.push({
        t,
        model: x.model,
        version: x.version,
        metric: s?.current?.metric,
        value: s?.current?.value,
        reference: s?.reference?.value,
        driftShare: x.driftShare,
        latencyP99Ms: x.latencyP99Ms,
        errorRate: x.errorRate,
      });
    }
    if (this.history.length > 20_000) this.history.splice(0, this.history.length - 20_000);
  }

  start(): void {
    this.#timer ??= setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The server's `extraRoutes`. */
  route = async (req: Request, url: URL): Promise<Response | undefined> => {
    if (req.method !== "GET") return undefined;
    if (url.pathname === "/dashboard" || url.pathname === "/dashboard/") return page(await this.overview());
    if (url.pathname.startsWith("/dashboard/")) {
      const name = decodeURIComponent(url.pathname.slice(11));
      if (!this.server.registry.get(name)) {
        return page(`<h1>unknown model ${escapeHtml(name)}</h1><p><a href="/dashboard">all models</a></p>`, 404);
      }
      return page(await this.modelPage(name));
    }
    return undefined;
  };

  async overview(): Promise<string> {
    if (this.history.length === 0) this.sample();
    const latest = new Map<string, Sample>();
    for (const s of this.history) latest.set(s.model, s);
    const rows = [...latest.values()].map((s) =>
      `<tr><td><a href="/dashboard/${encodeURIComponent(s.model)}">${escapeHtml(s.model)}</a></td><td>v${
        escapeHtml(s.version)
      }</td><td>${escapeHtml(s.metric ?? "–")}</td><td>${fmt(s.value)}</td><td>${fmt(s.reference)}</td><td>${
        fmt(s.driftShare)
      }</td><td>${fmt(s.latencyP99Ms)}</td><td>${fmt(s.errorRate)}</td></tr>`
    ).join("");
    const charts = await Promise.all([
      this.#line("value", "Window metric by model", "metric"),
      this.#line("driftShare", "Share of drifted features", "share"),
      this.#line("latencyP99Ms", "p99 scoring latency (ms)", "ms"),
    ]);
    return `<h1>Models compared</h1>
<table><tr><th>model</th><th>version</th><th>metric</th><th>current</th><th>reference</th><th>drift share</th><th>p99 ms</th><th>error rate</th></tr>${rows}</table>
<div class="charts">${charts.join("")}</div>`;
  }

  async modelPage(name: string): Promise<string> {
    if (this.history.length === 0) this.sample();
    const m = this.server.registry.get(name)!;
    const mon = this.server.monitor(m);
    const s = mon.snapshot();
    const parts: string[] = [
      `<p><a href="/dashboard">all models</a></p><h1>${escapeHtml(name)} <small>v${escapeHtml(m.version)} · ${
        escapeHtml(m.meta.kind)
      }</small></h1>`,
      `<p>${s.predictions} predictions, ${s.labelled} labelled · current ${escapeHtml(s.current?.metric ?? "–")} ${
        fmt(s.current?.value)
      } vs reference ${fmt(s.reference?.value)}${s.degraded ? ' · <b class="bad">degraded</b>' : ""}${
        s.estimated
          ? ` · estimated without labels (CBPE) over the latest ${s.estimated.n}: ROC AUC ${
            fmt(s.estimated.rocAuc)
          }, accuracy ${fmt(s.estimated.accuracy)}`
          : ""
      }</p>`,
    ];
    const charts: string[] = [
      await this.#line("value", `${name}: window metric`, "metric", name),
      await this.#line("latencyP99Ms", `${name}: p99 latency (ms)`, "ms", name),
    ];
    if (s.drift) {
      parts.push(
        `<p>drift: ${(s.drift.share * 100).toFixed(0)}% of features${s.drift.drifted ? " — dataset drift" : ""}</p>`,
      );
      charts.push(
        await svg({
          title: `${name}: drift per feature (${s.drift.features[0]?.method ?? ""})`,
          width: 360,
          height: { step: 22 },
          data: { values: s.drift.features.map((f) => ({ ...f, p: f.pValue ?? f.statistic })) },
          mark: "bar",
          encoding: {
            y: { field: "name", type: "nominal", title: null },
            x: { field: "statistic", type: "quantitative", title: "statistic" },
            color: {
              field: "drifted",
              type: "nominal",
              scale: { domain: [false, true], range: ["#2f7fd8", "#e3445c"] },
            },
          },
        }),
      );
    }
    const ref = mon.referenceRows();
    if (ref.length >= 10) {
      const background = ref.slice(0, 30).map((r) => [...r]);
      const explain = ref.slice(-20).map((r) => [...r]);
      const shap = kernelShap((rows) => predictRows(m.net, rows), background, explain, { nsamples: 200, seed: 1 });
      charts.push(await svg(shapBarSpec(shap, m.meta.features, `${name}: mean |SHAP|`)));
      charts.push(await svg(shapWaterfallSpec(shap, m.meta.features, explain.length - 1)));
    }
    const importance = await this.#importance(name, m);
    if (importance) charts.push(importance);
    return parts.join("\n") + `<div class="charts">${charts.join("")}</div>`;
  }

  /**
   * Permutation importance on the newest labelled predictions in PostgreSQL (the drop of ROC AUC, or the rise of
   * MAE, when one feature's column is shuffled); nothing while fewer than 50 are labelled or PostgreSQL is slow.
   */
  async #importance(name: string, m: LoadedModel): Promise<string | undefined> {
    let data: { x: number[][]; y: number[] };
    try {
      data = await this.server.labelledRows(name, m.version, m.meta.features);
    } catch {
      return `<div class="empty">${escapeHtml(name)}: permutation importance — PostgreSQL did not answer</div>`;
    }
    const classifier = m.meta.kind === "classifier";
    if (data.y.length < 50 || (classifier && (!data.y.includes(0) || !data.y.includes(1)))) return undefined;
    const score = classifier
      ? (y: ArrayLike<number>, p: ArrayLike<number>) => rocAuc(y, p)
      : (y: ArrayLike<number>, p: ArrayLike<number>) => -regressionReport(y, p).mae;
    const imp = permutationImportance((rows) => predictRows(m.net, rows), data.x, data.y, score, {
      repeats: 5,
      seed: 1,
    });
    return await svg({
      title: `${name}: permutation importance (${classifier ? "ROC AUC drop" : "MAE rise"}, ${data.y.length} labelled)`,
      width: 360,
      height: { step: 22 },
      data: {
        values: imp.map((f) => ({
          feature: m.meta.features[f.feature] ?? `f${f.feature}`,
          mean: f.mean,
          lo: f.mean - f.std,
          hi: f.mean + f.std,
        })),
      },
      layer: [
        {
          mark: "bar",
          encoding: {
            y: { field: "feature", type: "nominal", title: null, sort: "-x" },
            x: { field: "mean", type: "quantitative", title: "mean score drop (± sd over 5 shuffles)" },
          },
        },
        {
          mark: { type: "rule", color: "#222" },
          encoding: {
            y: { field: "feature", type: "nominal", sort: "-x" },
            x: { field: "lo", type: "quantitative" },
            x2: { field: "hi" },
          },
        },
      ],
    });
  }

  async #line(field: keyof Sample, title: string, axis: string, model?: string): Promise<string> {
    const values = this.history.filter((h) => (model === undefined || h.model === model) && h[field] !== undefined)
      .map((h) => ({ t: new Date(h.t).toISOString(), model: h.model, y: h[field] as number }));
    if (values.length === 0) return `<div class="empty">${escapeHtml(title)}: no data yet</div>`;
    return await svg({
      title,
      width: 360,
      height: 180,
      data: { values },
      mark: { type: "line", point: values.length < 30 },
      encoding: {
        x: { field: "t", type: "temporal", title: null, axis: { format: "%H:%M:%S", labelAngle: 0 } },
        y: { field: "y", type: "quantitative", title: axis },
        color: { field: "model", type: "nominal" },
      },
    });
  }
}

async function svg(spec: TopLevelSpec | Record<string, unknown>): Promise<string> {
  return `<figure>${await chartSvg(
    { $schema: "https://vega.github.io/schema/vega-lite/v5.json", ...spec } as TopLevelSpec,
  )}</figure>`;
}

function fmt(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "–" : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3);
}

function page(body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Mercury observe</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px;margin-top:16px}figure{margin:0}.bad{color:#c62828}.empty{color:#888;padding:20px}small{color:#666;font-weight:normal}</style>
</head><body>${body}</body></html>`,
    { status, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}
