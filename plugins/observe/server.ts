/**
 * The observe prediction server (`observe deploy`): serves the models of
 * MLflow's registry over HTTP, logs every prediction (PostgreSQL + Kafka),
 * joins labels that arrive later by id (HTTP `POST /labels` or the Kafka
 * topic `observe.labels`), keeps sliding-window performance and drift per
 * model and version, and exposes `/metrics` in Prometheus' text format.
 *
 * Routes: `POST /predict/<model>` (`{"rows": [[…], …] | [{feature: value}],
 * "ids"?: […], "segment"?: "…", "key"?: "…"}` or `{"features": …}`), `POST /labels`
 * (`{"labels": [{"id": "…", "label": 1}]}`), `GET /models`,
 * `GET /api/monitor/<model>`, `GET /metrics`, `GET /health`.
 *
 * Bad input never stops the server: an unknown model is a 404, a malformed
 * body a 400, a non-finite feature a 422 (nothing of that request is logged);
 * labels for unknown ids are refused one by one and counted
 * (`mercury_observe_rejected_total{reason}`, rows in `observe.rejections`).
 * MLflow or Prometheus being down does not stop predictions or logging.
 *
 * Experiments per model (`experiments`): an A/B split sends each request to
 * a version chosen by a sticky key (the body's `key`, else the first row's
 * id) with the given weights; a shadow version scores every request after
 * the answer is sent, its predictions logged and monitored under its own
 * version (ids suffixed `~shadow`) but never returned. Versions are loaded
 * from MLflow at start; until one is loaded its share goes to the served
 * version (the request path never waits on MLflow).
 *
 * No request waits forever: every await on PostgreSQL in a request has a
 * deadline (`ioTimeoutMs`, answered 503 with what it waited on), and each
 * request as a whole has one (`requestTimeoutMs`, answered 504 naming the
 * route). `MERCURY_DEBUG=1` traces every awaited step with its duration.
 *
 * @module
 */
import { CONTENT_TYPE, Registry, withTimeout } from "@mercury/core";
import { BodyError, readJsonObject } from "@mercury/core/http_body";
import type { Sql } from "@mercury/core/services/postgres";
import type { RecordProducer } from "@mercury/stream";
import type { MlflowClient } from "./mlflow_client.ts";
import { type LoadedModel, predictRows } from "./model.ts";
import { ModelMonitor, type MonitorSnapshot } from "./monitor.ts";
import type { AlertInputs } from "./alerts.ts";
import { PredictionLog, type PredictionLogOptions } from "./prediction_log.ts";
import { ModelRegistry } from "./registry.ts";
import { TrafficSplit } from "./stats/traffic_split.ts";
import { DEBUG, traced } from "./_debug.ts";

/** An experiment on one served model: an A/B split between versions and/or a shadow version. */
export interface Experiment {
  /** Versions and their weights; a request goes to one by its sticky key. */
  split?: { version: string; weight: number }[];
  /** A version that scores every request without answering it. */
  shadow?: string;
  /** Salt of the sticky assignment (default: the model name). */
  salt?: string;
}

/** Options of {@linkcode ObserveServer}. */
export interface ObserveServerOptions {
  sql: Sql;
  mlflow: MlflowClient;
  /** Registered model names to serve. */
  models: readonly string[];
  kafka?: RecordProducer;
  port?: number;
  hostname?: string;
  alias?: string;
  /** How often MLflow is asked for a moved alias (default 5 s). */
  refreshMs?: number;
  windowSize?: number;
  referenceSize?: number;
  log?: Partial<PredictionLogOptions>;
  /** Experiments by model name (A/B split, shadow). */
  experiments?: Record<string, Experiment>;
  /** Longest wait for one PostgreSQL step of a request (flush, lookup, insert) before a 503 (default 5,000 ms). */
  ioTimeoutMs?: number;
  /** Longest a request may take before it is answered 504 (default 15,000 ms). */
  requestTimeoutMs?: number;
  /** Largest request body (default 1 MiB, core's http_body default). */
  maxBodyBytes?: number;
  /** Extra routes (the dashboard) tried before the 404. */
  extraRoutes?: (req: Request, url: URL, server: ObserveServer) => Promise<Response | undefined> | Response | undefined;
}

interface Recent {
  model: string;
  version: string;
  output: number;
  segment: string;
}

/** A rejected request: status and one line. */
class Rejection extends Error {
  constructor(readonly status: number, readonly reason: string, message: string, readonly hint?: string) {
    super(message);
  }
}

const RECENT_LIMIT = 500_000;

/** The HTTP prediction and monitoring server. */
export class ObserveServer {
  readonly metrics = new Registry();
  readonly registry: ModelRegistry;
  readonly log: PredictionLog;
  readonly monitors = new Map<string, ModelMonitor>();
  readonly #o: ObserveServerOptions;
  readonly #recent = new Map<string, Recent>();
  /** The shadow prediction of an answered id (bounded like #recent). */
  readonly #shadowOf = new Map<string, Recent>();
  #server: Deno.HttpServer | undefined;
  #refreshTimer: ReturnType<typeof setInterval> | undefined;
  #seq = 0;
  readonly #prefix = crypto.randomUUID().slice(0, 8);
  readonly #m;
  rejected = 0;
  readonly #splits = new Map<string, TrafficSplit>();
  /** Extra routes tried before the 404 (the dashboard attaches itself here). */
  extraRoutes: ObserveServerOptions["extraRoutes"];

  constructor(options: ObserveServerOptions) {
    this.#o = options;
    this.extraRoutes = options.extraRoutes;
    const reg = this.metrics;
    this.#m = {
      requests: reg.counter("mercury_observe_requests_total", "Prediction requests", ["model", "version", "status"]),
      predictions: reg.counter("mercury_observe_predictions_total", "Rows scored", ["model", "version"]),
      latency: reg.histogram("mercury_observe_latency_seconds", "Scoring latency per request", ["model", "version"], [
        0.0005,
        0.001,
        0.002,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        1,
      ]),
      errors: reg.counter("mercury_observe_errors_total", "Failed requests per model and version", [
        "model",
        "version",
        "reason",
      ]),
      rejected: reg.counter("mercury_observe_rejected_total", "Refused input (requests and labels)", ["reason"]),
      labels: reg.counter("mercury_observe_labels_total", "Labels joined to their prediction", ["model", "version"]),
      performance: reg.gauge("mercury_observe_performance", "Window metric (roc_auc, accuracy or mae)", [
        "model",
        "version",
        "metric",
        "window",
      ]),
      degraded: reg.gauge("mercury_observe_degraded", "1 when the current window is worse than the reference", [
        "model",
        "version",
      ]),
      drift: reg.gauge("mercury_observe_drift_share", "Share of drifted features in the current window", [
        "model",
        "version",
      ]),
      estimated: reg.gauge(
        "mercury_observe_estimated_performance",
        "Performance of the latest predictions estimated without labels (CBPE; classifiers)",
        ["model", "version", "metric"],
      ),
      shadow: reg.counter("mercury_observe_shadow_predictions_total", "Rows scored by a shadow version", [
        "model",
        "version",
      ]),
      shadowDisagree: reg.counter(
        "mercury_observe_shadow_disagreements_total",
        "Rows where the shadow version's class (classifiers) differs from the answered one",
        ["model", "version"],
      ),
    };
    for (const [name, e] of Object.entries(options.experiments ?? {})) {
      if (e.split) {
        this.#splits.set(
          name,
          new TrafficSplit(e.split.map((v) => ({ name: v.version, weight: v.weight })), e.salt ?? name),
        );
      }
    }
    this.registry = new ModelRegistry({
      mlflow: options.mlflow,
      names: options.models,
      alias: options.alias,
      metrics: reg,
    });
    this.log = new PredictionLog({
      sql: options.sql,
      kafka: options.kafka,
      metrics: reg,
      featureNames: (model) => this.registry.get(model)?.meta.features,
      ...options.log,
    });
  }

  /** The port it listens on (after `start`). */
  get port(): number {
    const addr = this.#server?.addr as Deno.NetAddr | undefined;
    return addr?.port ?? 0;
  }

  /** Loads the models, starts refreshing them and listening. */
  async start(): Promise<void> {
    await this.registry.refresh();
    await this.#loadExperimentVersions();
    this.#refreshTimer = setInterval(
      () => void this.registry.refresh().then(() => this.#loadExperimentVersions()),
      this.#o.refreshMs ?? 5000,
    );
    this.#server = Deno.serve({
      port: this.#o.port ?? 9410,
      hostname: this.#o.hostname ?? "127.0.0.1",
      onListen: () => {},
    }, (req) => this.handle(req));
  }

  /** Loads the versions the experiments name; one that fails is retried at the next registry refresh. */
  async #loadExperimentVersions(): Promise<void> {
    for (const [name, e] of Object.entries(this.#o.experiments ?? {})) {
      const versions = [...(e.split ?? []).map((v) => v.version), ...(e.shadow ? [e.shadow] : [])];
      for (const v of versions) {
        if (this.registry.loaded(name, v)) continue;
        try {
          await this.registry.version(name, v);
        } catch (err) {
          this.registry.lastError = `experiment on ${name}: version ${v}: ${(err as Error).message}`;
          this.registry.refreshErrors++;
        }
      }
    }
  }

  /** The monitor of one model version, made on first use. */
  monitor(m: LoadedModel): ModelMonitor {
    const key = `${m.name}@${m.version}`;
    let mon = this.monitors.get(key);
    if (!mon) {
      mon = new ModelMonitor({
        kind: m.meta.kind,
        features: m.meta.features,
        threshold: m.meta.threshold,
        windowSize: this.#o.windowSize,
        referenceSize: this.#o.referenceSize,
      });
      this.monitors.set(key, mon);
    }
    return mon;
  }

  /** Snapshots of every monitor of `model` (all versions), also setting the gauges. */
  snapshots(model?: string): Record<string, MonitorSnapshot> {
    const out: Record<string, MonitorSnapshot> = {};
    for (const [key, mon] of this.monitors) {
      const [name, version] = key.split("@") as [string, string];
      if (model !== undefined && name !== model) continue;
      const s = mon.snapshot();
      out[key] = s;
      if (s.current) {
        this.#m.performance.set({ model: name, version, metric: s.current.metric, window: "current" }, s.current.value);
      }
      if (s.reference) {
        this.#m.performance.set(
          { model: name, version, metric: s.reference.metric, window: "reference" },
          s.reference.value,
        );
      }
      this.#m.degraded.set({ model: name, version }, s.degraded ? 1 : 0);
      if (s.drift && Number.isFinite(s.drift.share)) this.#m.drift.set({ model: name, version }, s.drift.share);
      if (s.estimated) {
        for (const metric of ["roc_auc", "accuracy", "f1"] as const) {
          const v = metric === "roc_auc" ? s.estimated.rocAuc : s.estimated[metric];
          if (Number.isFinite(v)) this.#m.estimated.set({ model: name, version, metric }, v);
        }
      }
    }
    return out;
  }

  /**
   * The newest labelled predictions of one model version from PostgreSQL
   * (features in the model's order, label), for permutation importance;
   * bounded by `ioTimeoutMs` like every PostgreSQL step of a request.
   */
  async labelledRows(
    model: string,
    version: string,
    features: readonly string[],
    limit = 500,
  ): Promise<{ x: number[][]; y: number[] }> {
    const rows = await this.#io(
      `GET /dashboard/${model}`,
      "reading labelled predictions",
      this.#o.sql<{ features: Record<string, number> | number[]; label: number }[]>`
        select p.features, l.label from observe.predictions p join observe.labels l using (id)
        where p.model = ${model} and p.version = ${version} order by p.ts desc limit ${limit}`,
    );
    return {
      x: rows.map((r) => Array.isArray(r.features) ? r.features : features.map((f) => Number(r.features[f as never]))),
      y: rows.map((r) => r.label),
    };
  }

  /** What the alert rules look at, one entry per served model (its served version). */
  alertInputs(): AlertInputs[] {
    const snaps = this.snapshots();
    const out: AlertInputs[] = [];
    for (const m of this.registry.list()) {
      const key = `${m.name}@${m.version}`;
      const s = snaps[key];
      const mon = this.monitors.get(key);
      const metrics: Record<string, number> = {};
      let change: number | undefined;
      if (s?.current) {
        metrics[s.current.metric] = s.current.value;
        const c = s.current.classification, r = s.current.regression;
        if (c) Object.assign(metrics, { accuracy: c.accuracy, f1: c.binary.f1, precision: c.binary.precision });
        if (r) Object.assign(metrics, { mae: r.mae, rmse: r.rmse, r2: r.r2 });
        if (s.reference && s.reference.metric === s.current.metric) {
          change = s.current.metric === "mae"
            ? s.current.value - s.reference.value
            : s.reference.value - s.current.value;
        }
      }
      out.push({
        model: m.name,
        version: m.version,
        metrics,
        change,
        driftShare: s?.drift?.share,
        ...mon?.requestStats(),
      });
    }
    return out;
  }

  /**
   * Handles one request (also callable without a socket, as the tests and the
   * benchmark do). Answers within `requestTimeoutMs` whatever it waits on: a
   * request that has not finished by then is answered 504 naming its route.
   */
  handle(req: Request): Promise<Response> {
    const ms = this.#o.requestTimeoutMs ?? 15_000;
    const url = new URL(req.url);
    const route = `${req.method} ${url.pathname}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<Response>((resolve) => {
      timer = setTimeout(() => {
        this.#reject("timeout", `${route} did not finish within ${ms} ms`);
        resolve(json({
          error: `${route} did not finish within ${ms} ms`,
          hint: "retry; if it persists, check PostgreSQL and Kafka (GET /health, MERCURY_DEBUG=1 traces each step)",
        }, 504));
      }, ms);
    });
    const work = DEBUG ? traced(`request ${route}`, this.#handle(req, url)) : this.#handle(req, url);
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  }

  /** Bounds one PostgreSQL step of a request: a step that does not answer becomes a 503 naming it. */
  async #io<T>(route: string, what: string, p: Promise<T>): Promise<T> {
    const ms = this.#o.ioTimeoutMs ?? 5000;
    try {
      return await traced(`${route}: ${what}`, withTimeout(p, ms, `${route}: ${what}`));
    } catch (err) {
      if ((err as { code?: string }).code === "timeout") {
        throw new Rejection(503, "timeout", (err as Error).message, "PostgreSQL is slow or down; retry later");
      }
      throw err;
    }
  }

  async #handle(req: Request, url: URL): Promise<Response> {
    try {
      const p = url.pathname;
      if (req.method === "POST" && p.startsWith("/predict/")) {
        return await this.#predict(decodeURIComponent(p.slice(9)), req);
      }
      if (req.method === "POST" && p === "/labels") return json(await this.#labelsHttp(req));
      if (p === "/metrics") {
        this.snapshots();
        return new Response(this.metrics.expose(), { headers: { "content-type": CONTENT_TYPE } });
      }
      if (p === "/health") return json({ ok: true, models: this.registry.list().length, pending: this.log.pending });
      if (p === "/models") {
        return json(this.registry.list().map((m) => ({ name: m.name, version: m.version, ...m.meta })));
      }
      if (p.startsWith("/api/monitor/")) return json(this.snapshots(decodeURIComponent(p.slice(13))));
      const extra = await this.extraRoutes?.(req, url, this);
      if (extra) return extra;
      return json(
        { error: `no route ${req.method} ${p}`, hint: "POST /predict/<model>, POST /labels, GET /metrics" },
        404,
      );
    } catch (err) {
      if (err instanceof Rejection) {
        this.#reject(err.reason, err.message);
        return json({ error: err.message, hint: err.hint }, err.status);
      }
      this.#reject("internal", (err as Error).message);
      return json({ error: `internal error: ${(err as Error).message}` }, 500);
    }
  }

  #reject(reason: string, detail: string, n = 1): void {
    this.rejected += n;
    this.#m.rejected.inc({ reason }, n);
    void this.#o.sql`insert into observe.rejections (kind, reason, detail) values ('request', ${reason}, ${
      detail.slice(0, 500)
    })`.catch(() => {});
  }

  async #predict(name: string, req: Request): Promise<Response> {
    let model = this.registry.get(name);
    if (!model) {
      this.#m.errors.inc({ model: name, version: "", reason: "unknown_model" });
      throw new Rejection(404, "unknown_model", `unknown model "${name}"`, `served: ${this.#served()}`);
    }
    const labels = { model: name, version: model.version };
    let body: unknown;
    try {
      body = await readJsonObject(req, { maxBytes: this.#o.maxBodyBytes, hint: `send {"rows": [[…]]}` });
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      this.#m.errors.inc({ ...labels, reason: "malformed" });
      this.#m.requests.inc({ ...labels, status: String(err.status) });
      this.monitor(model).addRequest(NaN);
      throw new Rejection(err.status, err.kind, `POST /predict/${name}: ${err.message}`, err.hint);
    }
    let parsed: { rows: number[][]; ids?: string[]; segment: string; key?: string };
    try {
      parsed = parseRows(body, model.meta.features, name);
    } catch (err) {
      const r = err as Rejection;
      this.#m.errors.inc({ ...labels, reason: r.reason });
      this.#m.requests.inc({ ...labels, status: String(r.status) });
      this.monitor(model).addRequest(NaN);
      throw err;
    }
    const ids = parsed.ids ?? parsed.rows.map(() => `${this.#prefix}-${(++this.#seq).toString(36)}`);
    const split = this.#splits.get(name);
    let variant: string | undefined;
    if (split) {
      variant = split.assign(parsed.key ?? ids[0]!);
      // A version not loaded (yet) serves nothing: its share goes to the served version meanwhile.
      const chosen = variant === model.version ? model : this.registry.loaded(name, variant);
      if (chosen) {
        model = chosen;
        labels.version = chosen.version;
      } else variant = undefined;
    }
    const t0 = performance.now();
    const out = predictRows(model.net, parsed.rows);
    const ms = performance.now() - t0;
    this.#m.latency.observe(labels, ms / 1000);
    this.#m.predictions.inc(labels, out.length);
    this.#m.requests.inc({ ...labels, status: "200" });
    const now = Date.now();
    const mon = this.monitor(model);
    mon.addRequest(ms);
    const predictions = new Array(out.length);
    for (let i = 0; i < out.length; i++) {
      const id = ids[i]!;
      const output = out[i]!;
      this.log.log({
        id,
        model: name,
        version: model.version,
        ts: now,
        features: parsed.rows[i]!,
        output,
        latencyMs: ms,
        segment: parsed.segment,
      });
      this.#remember(id, { model: name, version: model.version, output, segment: parsed.segment });
      mon.addPrediction(parsed.rows[i]!, output);
      predictions[i] = model.meta.kind === "classifier"
        ? { id, output, class: output >= (model.meta.threshold ?? 0.5) ? 1 : 0 }
        : { id, output };
    }
    const shadow = this.#o.experiments?.[name]?.shadow;
    if (shadow !== undefined && shadow !== model.version) {
      // After the answer: the shadow's cost never adds to the request's latency.
      const answered = model;
      setTimeout(() => this.#shadow(name, shadow, answered, parsed, ids, out, now), 0);
    }
    return json(
      variant === undefined
        ? { model: name, version: model.version, predictions }
        : { model: name, version: model.version, variant, predictions },
    );
  }

  /** Scores a request with the shadow version: logged and monitored under that version, never answered. */
  #shadow(
    name: string,
    version: string,
    answered: LoadedModel,
    parsed: { rows: number[][]; segment: string },
    ids: string[],
    answeredOut: Float32Array,
    ts: number,
  ): void {
    const m = this.registry.loaded(name, version);
    if (!m) return;
    try {
      const t0 = performance.now();
      const out = predictRows(m.net, parsed.rows);
      const ms = performance.now() - t0;
      const labels = { model: name, version };
      const mon = this.monitor(m);
      const threshold = m.meta.threshold ?? 0.5, answeredThreshold = answered.meta.threshold ?? 0.5;
      let disagree = 0;
      for (let i = 0; i < out.length; i++) {
        const id = `${ids[i]!}~shadow`;
        this.log.log({
          id,
          model: name,
          version,
          ts,
          features: parsed.rows[i]!,
          output: out[i]!,
          latencyMs: ms,
          segment: parsed.segment,
        });
        // Labels sent for the answered id reach the shadow's window too (see addLabels).
        this.#shadowOf.set(ids[i]!, { model: name, version, output: out[i]!, segment: parsed.segment });
        mon.addPrediction(parsed.rows[i]!, out[i]!);
        if (m.meta.kind === "classifier" && (out[i]! >= threshold) !== (answeredOut[i]! >= answeredThreshold)) {
          disagree++;
        }
      }
      this.#m.shadow.inc(labels, out.length);
      if (disagree) this.#m.shadowDisagree.inc(labels, disagree);
    } catch (err) {
      this.#m.errors.inc({ model: name, version, reason: "shadow" });
      this.registry.lastError = `shadow ${name}@${version}: ${(err as Error).message}`;
    }
  }

  #remember(id: string, r: Recent): void {
    this.#recent.set(id, r);
    if (this.#recent.size > RECENT_LIMIT) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    if (this.#shadowOf.size > RECENT_LIMIT) {
      const oldest = this.#shadowOf.keys().next().value;
      if (oldest !== undefined) this.#shadowOf.delete(oldest);
    }
  }

  #served(): string {
    return this.registry.list().map((m) => m.name).join(", ") || "(none loaded yet)";
  }

  async #labelsHttp(req: Request): Promise<{ accepted: number; rejected: { id: unknown; reason: string }[] }> {
    let body: unknown;
    try {
      body = await readJsonObject(req, { maxBytes: this.#o.maxBodyBytes, hint: `send {"labels": [{"id", "label"}]}` });
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      throw new Rejection(err.status, err.kind, `POST /labels: ${err.message}`, err.hint);
    }
    const list = (body as { labels?: unknown })?.labels;
    if (!Array.isArray(list)) {
      throw new Rejection(400, "malformed", "POST /labels: no labels array", `send {"labels": [{"id", "label"}]}`);
    }
    return await this.addLabels(list);
  }

  /**
   * Joins labels to their predictions: stored in `observe.labels` and added to
   * the monitors. Unknown ids and non-numeric labels are refused and counted.
   */
  async addLabels(list: unknown[]): Promise<{ accepted: number; rejected: { id: unknown; reason: string }[] }> {
    const rejected: { id: unknown; reason: string }[] = [];
    const good: { id: string; label: number }[] = [];
    for (const item of list) {
      const { id, label } = (item ?? {}) as { id?: unknown; label?: unknown };
      if (typeof id !== "string" || id === "") rejected.push({ id, reason: "malformed: id must be a string" });
      else if (typeof label !== "number" || !Number.isFinite(label)) {
        rejected.push({ id, reason: `malformed: label must be a finite number, got ${JSON.stringify(label)}` });
      } else good.push({ id, label });
    }
    // Ids not in memory (older, or logged by another server) are looked up in PostgreSQL.
    const missing = good.filter((g) => !this.#recent.has(g.id)).map((g) => g.id);
    const fromDb = new Map<string, Recent>();
    if (missing.length) {
      // Queued predictions are stored first, so their ids can be found.
      await this.#io("POST /labels", "storing the queued predictions", this.log.flush());
      const rows = await this.#io(
        "POST /labels",
        "looking up prediction ids in PostgreSQL",
        this.#o.sql<{ id: string; model: string; version: string; output: number; segment: string }[]>`
          select id, model, version, output, segment from observe.predictions where id = any(${missing})`,
      );
      for (const r of rows) fromDb.set(r.id, r);
    }
    const accepted: { id: string; label: number }[] = [];
    for (const g of good) {
      const r = this.#recent.get(g.id) ?? fromDb.get(g.id);
      if (!r) {
        rejected.push({ id: g.id, reason: "unknown_id: no prediction has this id" });
        continue;
      }
      accepted.push(g);
      this.#m.labels.inc({ model: r.model, version: r.version });
      const key = `${r.model}@${r.version}`;
      this.monitors.get(key)?.addLabel(r.output, g.label, r.segment);
      const sh = this.#shadowOf.get(g.id);
      if (sh) this.monitors.get(`${sh.model}@${sh.version}`)?.addLabel(sh.output, g.label, sh.segment);
    }
    if (accepted.length) {
      await this.#io(
        "POST /labels",
        `storing ${accepted.length} labels`,
        this.#o.sql.unsafe(
          `insert into observe.labels (id, label) select * from unnest($1::text[], $2::float8[])
           on conflict (id) do update set label = excluded.label, ts = now()`,
          [accepted.map((a) => a.id), accepted.map((a) => a.label)] as never,
        ),
      );
    }
    for (const r of rejected) this.#reject(r.reason.split(":")[0]!, `label ${JSON.stringify(r.id)}: ${r.reason}`);
    return { accepted: accepted.length, rejected };
  }

  /** Stops listening, stores the queued predictions. */
  async close(): Promise<void> {
    clearInterval(this.#refreshTimer);
    await this.#server?.shutdown();
    await this.log.close();
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Validates a predict body into rows of finite numbers in the model's feature order. */
export function parseRows(
  body: unknown,
  features: readonly string[],
  model: string,
): { rows: number[][]; ids?: string[]; segment: string; key?: string } {
  const where = `POST /predict/${model}`;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new Rejection(400, "malformed", `${where}: the body must be a JSON object`, `send {"rows": [[…]]}`);
  }
  const b = body as { rows?: unknown; features?: unknown; ids?: unknown; segment?: unknown; key?: unknown };
  const raw = b.rows !== undefined ? b.rows : b.features !== undefined ? [b.features] : undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new Rejection(400, "malformed", `${where}: "rows" must be a non-empty array`, `send {"rows": [[…]]}`);
  }
  const rows: number[][] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i];
    let row: unknown[];
    if (Array.isArray(r)) {
      if (r.length !== features.length) {
        throw new Rejection(
          400,
          "malformed",
          `${where}: row ${i} has ${r.length} values, the model takes ${features.length}`,
          `features: ${features.join(", ")}`,
        );
      }
      row = r;
    } else if (r !== null && typeof r === "object") {
      row = features.map((f) => (r as Record<string, unknown>)[f]);
    } else {
      throw new Rejection(400, "malformed", `${where}: row ${i} is neither an array nor an object`);
    }
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new Rejection(
          422,
          "non_finite",
          `${where}: row ${i} feature "${features[j]}" is not a finite number (got ${JSON.stringify(v) ?? "nothing"})`,
          "send numbers; impute missing values before scoring",
        );
      }
    }
    rows[i] = row as number[];
  }
  let ids: string[] | undefined;
  if (b.ids !== undefined) {
    if (!Array.isArray(b.ids) || b.ids.length !== rows.length || !b.ids.every((x) => typeof x === "string" && x)) {
      throw new Rejection(400, "malformed", `${where}: "ids" must hold one non-empty string per row`);
    }
    ids = b.ids as string[];
  }
  const segment = typeof b.segment === "string" ? b.segment : "";
  let key: string | undefined;
  if (b.key !== undefined) {
    if (typeof b.key !== "string" || b.key === "") {
      throw new Rejection(400, "malformed", `${where}: "key" must be a non-empty string (the sticky A/B key)`);
    }
    key = b.key;
  }
  return { rows, ids, segment, key };
}
