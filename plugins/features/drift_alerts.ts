/**
 * Drift flags from materialisation raise alerts. Each materialisation run
 * compares its features' statistics with the previous run's (`quality.ts`);
 * {@linkcode DriftAlerts} turns a view's drifted share into an alert through
 * the observe plugin's {@linkcode AlertEngine} (one `drift` rule per view:
 * pending/firing/resolved, `forMs`, cooldown, webhooks), so a feature view's
 * drift reaches the same webhooks, with the same payload shape, as a model's.
 * The payload carries, besides observe's fields (`rule`, `model` = the view,
 * `version` = the run id, `state`, `value` = the drifted share, `detail`,
 * `severity`, `kind`, `threshold`), `source: "features"`, the project,
 * environment and view, and every drifted feature with its reason.
 *
 * `@mercury/observe` is imported when the first alerts are set up, not when
 * `@mercury/features` loads.
 *
 * @module
 */
import type { StatsRow } from "./registry.ts";

/** What the alerts look at of one materialisation run (a `MaterializeReport` is one). */
export interface DriftRun {
  view: string;
  runId: number;
  /** Features whose statistics were compared (0: the run says nothing about drift). */
  featuresChecked: number;
  drift: { feature: string; reason: string }[];
}

/**
 * The latest run of each view, from the registry's latest statistics (`FeatureRegistry.latestStats`): what
 * the server watches, whichever process materialised.
 *
 * @example
 * ```ts
 * import { driftRunsFromStats } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const s = { count: 1, nullRate: 0, min: 0, max: 1, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0, distinct: 1 };
 * const row = (runId: number, feature: string, drift: boolean) =>
 *   ({ runId, view: "v", feature, stats: s, drift, driftReason: drift ? "mean moved" : null, createdAt: new Date() });
 * const [run] = driftRunsFromStats([row(2, "a", true), row(2, "b", false), row(1, "c", true)]);
 * assert.deepEqual(run, { view: "v", runId: 2, featuresChecked: 2, drift: [{ feature: "a", reason: "mean moved" }] });
 * ```
 */
export function driftRunsFromStats(rows: StatsRow[]): DriftRun[] {
  const latest = new Map<string, number>();
  for (const r of rows) latest.set(r.view, Math.max(latest.get(r.view) ?? 0, r.runId));
  const runs = new Map<string, DriftRun>();
  for (const r of rows) {
    if (r.runId !== latest.get(r.view)) continue;
    const run = runs.get(r.view) ?? { view: r.view, runId: r.runId, featuresChecked: 0, drift: [] };
    runs.set(r.view, run);
    run.featuresChecked++;
    if (r.drift) run.drift.push({ feature: r.feature, reason: r.driftReason ?? "drift" });
  }
  return [...runs.values()];
}

/** Options of {@linkcode DriftAlerts.create}. */
export interface DriftAlertOptions {
  /** Webhook URLs each firing (and resolved) alert is POSTed to as JSON. */
  webhooks: string[];
  /** Fires when the share of a view's features flagged exceeds this (default 0: any drifted feature). */
  minShare?: number;
  /** The drift must hold this long before firing (default 0: at once). */
  forMs?: number;
  severity?: "page" | "ticket" | "info";
  /** How a payload is sent (default: POST JSON with a 5 s timeout). */
  send?: (url: string, payload: unknown) => Promise<void>;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** One alert transition for a view, as recorded. */
export interface DriftAlertEvent {
  view: string;
  state: "pending" | "firing" | "resolved";
  share: number;
  runId: number;
  drift: { feature: string; reason: string }[];
}

type Engine = {
  evaluate(
    inputs: { model: string; version: string; metrics: Record<string, number>; driftShare?: number }[],
  ): Promise<{ rule: string; model: string; state: "pending" | "firing" | "resolved"; value: number }[]>;
  failedDeliveries: number;
  firing(): string[];
};

/**
 * Alerts on the drift flags of materialisation runs, kept across runs (a long-running server, or one CLI run over
 * several views): a view fires once while it drifts and resolves when a later run finds no drift.
 *
 * @example
 * ```ts ignore
 * const alerts = await DriftAlerts.create("fraud", "prod", { webhooks: ["http://alerts.example/hook"] });
 * await alerts.report(await fs.materialize());
 * ```
 */
export class DriftAlerts {
  readonly events: DriftAlertEvent[] = [];
  #engine: Engine;
  #pending: Map<string, DriftRun>;

  private constructor(engine: Engine, pending: Map<string, DriftRun>) {
    this.#engine = engine;
    this.#pending = pending;
  }

  /** Sets up the alerts (loads `@mercury/observe`). */
  static async create(project: string, env: string, options: DriftAlertOptions): Promise<DriftAlerts> {
    const { AlertEngine, postWebhook } = await import("@mercury/observe");
    const pending = new Map<string, DriftRun>();
    const send = options.send ?? postWebhook;
    const engine = new AlertEngine([{
      name: "feature_drift",
      kind: "drift",
      model: "*",
      op: ">",
      value: options.minShare ?? 0,
      forMs: options.forMs ?? 0,
      webhooks: options.webhooks,
      severity: options.severity ?? "ticket",
    }], {
      now: options.now,
      // observe's payload plus what a feature store reader needs: where, and which features drifted why.
      send: (url, payload) => {
        const p = payload as { model: string };
        const r = pending.get(p.model);
        return send(url, {
          ...p,
          source: "features",
          project,
          env,
          view: p.model,
          runId: r?.runId,
          drift: r?.drift ?? [],
        });
      },
    });
    return new DriftAlerts(engine as unknown as Engine, pending);
  }

  /** Evaluates the runs' drift (one input per view); returns this round's transitions. */
  async report(reports: DriftRun[]): Promise<DriftAlertEvent[]> {
    const inputs = [];
    for (const r of reports) {
      if (r.featuresChecked === 0) continue; // an empty window says nothing about drift
      this.#pending.set(r.view, r);
      inputs.push({
        model: r.view,
        version: String(r.runId),
        metrics: {},
        driftShare: r.drift.length / r.featuresChecked,
      });
    }
    const out: DriftAlertEvent[] = [];
    for (const e of await this.#engine.evaluate(inputs)) {
      const r = this.#pending.get(e.model)!;
      const ev = { view: e.model, state: e.state, share: e.value, runId: r.runId, drift: r.drift };
      out.push(ev);
      this.events.push(ev);
    }
    return out;
  }

  /** Views whose drift alert is firing now. */
  firing(): string[] {
    return this.#engine.firing().map((k) => k.slice(k.indexOf("/") + 1));
  }

  /** Webhook deliveries that failed. */
  get failedDeliveries(): number {
    return this.#engine.failedDeliveries;
  }
}
