/**
 * Alert rules on any monitored value, evaluated in the server and mirrored as
 * Prometheus alerting rules. A rule fires when its condition has held for
 * `forMs` (Prometheus' `for:`), is sent once to its webhooks, and cannot fire
 * again until `cooldownMs` after it resolved; every transition (pending,
 * firing, resolved) is recorded.
 *
 * Kinds and the value each one watches (per model; `model: "*"` for all):
 *
 * | kind          | value                                                 | PromQL mirror                                  |
 * | ------------- | ----------------------------------------------------- | ---------------------------------------------- |
 * | `threshold`   | the current window's metric (`roc_auc`, `mae`, …)     | `mercury_observe_performance{window="current"}` |
 * | `change`      | reference − current of the window metric (mae: cur − ref) | the difference of the two series            |
 * | `drift`       | share of drifted features                             | `mercury_observe_drift_share`                  |
 * | `latency_slo` | p99 scoring latency in ms over the last requests      | `histogram_quantile(0.99, …)`                  |
 * | `error_rate`  | failed / all requests over the last requests          | `rate(errors) / rate(requests)`                |
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";

/** What a rule watches. */
export type AlertKind = "threshold" | "change" | "drift" | "latency_slo" | "error_rate";

/** One alert rule. */
export interface AlertRule {
  name: string;
  kind: AlertKind;
  /** Model name, or "*" for every model. */
  model: string;
  /** `threshold`: the metric (default: the window's main metric). */
  metric?: string;
  /** Fires when value `op` `value` (default ">"; `threshold` on a higher-is-better metric usually "<"). */
  op?: ">" | "<";
  value: number;
  forMs?: number;
  cooldownMs?: number;
  webhooks?: string[];
  severity?: "page" | "ticket" | "info";
  /** Start a retraining of the model when the rule fires. */
  retrain?: boolean;
}

/** The values a rule can look at, for one model. */
export interface AlertInputs {
  model: string;
  version: string;
  /** Current window metric by name. */
  metrics: Record<string, number>;
  /** Reference − current of the main metric (positive = worse), when both windows exist. */
  change?: number;
  driftShare?: number;
  latencyP99Ms?: number;
  errorRate?: number;
}

/** One recorded alert transition. */
export interface AlertEvent {
  rule: string;
  model: string;
  version: string;
  state: "pending" | "firing" | "resolved";
  value: number;
  at: number;
  detail: string;
}

interface RuleState {
  since?: number;
  firing: boolean;
  resolvedAt?: number;
}

/** Validates rules once, at the edge (a config file, the API). */
export function checkRules(rules: unknown[]): AlertRule[] {
  const kinds = ["threshold", "change", "drift", "latency_slo", "error_rate"];
  return rules.map((r, i) => {
    const rule = r as AlertRule;
    const where = `alert rule ${i}${rule && typeof rule.name === "string" ? ` (${rule.name})` : ""}`;
    if (!rule || typeof rule.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(rule.name)) {
      throw new MercuryError("input", `${where}: name must be an identifier`, { where, hint: "e.g. ChurnAucDrop" });
    }
    if (!kinds.includes(rule.kind)) {
      throw new MercuryError("input", `${where}: kind "${rule.kind}" is unknown`, {
        where,
        hint: `kinds: ${kinds.join(", ")}`,
      });
    }
    if (typeof rule.value !== "number" || !Number.isFinite(rule.value)) {
      throw new MercuryError("input", `${where}: value must be a finite number`, { where });
    }
    if (typeof rule.model !== "string" || rule.model === "") {
      throw new MercuryError("input", `${where}: model must be a name or "*"`, { where });
    }
    return rule;
  });
}

/** The value a rule watches, or undefined when there is none yet. */
export function ruleValue(rule: AlertRule, x: AlertInputs): number | undefined {
  switch (rule.kind) {
    case "threshold": {
      const m = rule.metric ?? Object.keys(x.metrics)[0];
      return m === undefined ? undefined : x.metrics[m];
    }
    case "change":
      return x.change;
    case "drift":
      return x.driftShare;
    case "latency_slo":
      return x.latencyP99Ms;
    case "error_rate":
      return x.errorRate;
  }
}

/** Evaluates rules over time; `now` and `send` are injected so tests need no sleeping or real webhooks. */
export class AlertEngine {
  readonly rules: AlertRule[];
  readonly events: AlertEvent[] = [];
  readonly #state = new Map<string, RuleState>();
  readonly #send: (url: string, payload: unknown) => Promise<void>;
  readonly #record?: (e: AlertEvent) => Promise<void> | void;
  readonly #now: () => number;
  readonly #onFiring?: (rule: AlertRule, e: AlertEvent) => Promise<void> | void;
  /** Webhook deliveries that failed (each is retried on the next evaluation while firing). */
  failedDeliveries = 0;

  constructor(
    rules: AlertRule[],
    options: {
      now?: () => number;
      send?: (url: string, payload: unknown) => Promise<void>;
      record?: (e: AlertEvent) => Promise<void> | void;
      /** Called once each time a rule starts firing (after its webhooks), e.g. to start a retraining. */
      onFiring?: (rule: AlertRule, e: AlertEvent) => Promise<void> | void;
    } = {},
  ) {
    this.rules = checkRules(rules);
    this.#now = options.now ?? Date.now;
    this.#send = options.send ?? postWebhook;
    this.#record = options.record;
    this.#onFiring = options.onFiring;
  }

  /** Evaluates every rule on the inputs of each model; returns the events of this round. */
  async evaluate(inputs: AlertInputs[]): Promise<AlertEvent[]> {
    const now = this.#now();
    const out: AlertEvent[] = [];
    for (const rule of this.rules) {
      for (const x of inputs) {
        if (rule.model !== "*" && rule.model !== x.model) continue;
        const key = `${rule.name}/${x.model}`;
        const st = this.#state.get(key) ?? { firing: false };
        this.#state.set(key, st);
        const v = ruleValue(rule, x);
        const holds = v !== undefined && Number.isFinite(v) &&
          ((rule.op ?? ">") === ">" ? v > rule.value : v < rule.value);
        const ev = (state: AlertEvent["state"]): AlertEvent => ({
          rule: rule.name,
          model: x.model,
          version: x.version,
          state,
          value: v ?? NaN,
          at: now,
          detail: `${rule.kind}${rule.metric ? ` ${rule.metric}` : ""} ${rule.op ?? ">"} ${rule.value}: ${v}`,
        });
        if (holds) {
          if (st.firing) continue;
          if (st.resolvedAt !== undefined && now - st.resolvedAt < (rule.cooldownMs ?? 0)) continue;
          if (st.since === undefined) {
            st.since = now;
            out.push(ev("pending"));
          }
          if (now - st.since >= (rule.forMs ?? 0)) {
            st.firing = true;
            const e = ev("firing");
            out.push(e);
            await this.#deliver(rule, e);
            await this.#onFiring?.(rule, e);
          }
        } else {
          if (st.firing) {
            st.firing = false;
            st.resolvedAt = now;
            const e = ev("resolved");
            out.push(e);
            await this.#deliver(rule, e);
          }
          st.since = undefined;
        }
      }
    }
    for (const e of out) {
      this.events.push(e);
      await this.#record?.(e);
    }
    return out;
  }

  /** Rules firing now, as `rule/model`. */
  firing(): string[] {
    return [...this.#state].filter(([, s]) => s.firing).map(([k]) => k);
  }

  async #deliver(rule: AlertRule, e: AlertEvent): Promise<void> {
    for (const url of rule.webhooks ?? []) {
      try {
        await this.#send(url, { ...e, severity: rule.severity ?? "ticket", kind: rule.kind, threshold: rule.value });
      } catch {
        this.failedDeliveries++;
      }
    }
  }
}

/** POSTs `payload` as JSON to `url` within 5 s; a non-2xx answer is an error. The engine's default delivery. */
export async function postWebhook(url: string, payload: unknown): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(5000),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`webhook ${url} answered ${res.status}`);
}

function sel(rule: AlertRule, extra: Record<string, string> = {}): string {
  const labels: Record<string, string> = { ...extra };
  if (rule.model !== "*") labels.model = rule.model;
  const inner = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",");
  return `{${inner}}`;
}

/** The PromQL expression mirroring a rule. */
export function promqlOf(rule: AlertRule): string {
  const op = rule.op ?? ">";
  switch (rule.kind) {
    case "threshold":
      return `mercury_observe_performance${
        sel(rule, { window: "current", ...(rule.metric ? { metric: rule.metric } : {}) })
      } ${op} ${rule.value}`;
    case "change":
      return `(mercury_observe_performance${sel(rule, { window: "reference" })} - ignoring(window) ` +
        `mercury_observe_performance${sel(rule, { window: "current" })}) ${op} ${rule.value}`;
    case "drift":
      return `mercury_observe_drift_share${sel(rule)} ${op} ${rule.value}`;
    case "latency_slo":
      return `histogram_quantile(0.99, sum by (le, model) (rate(mercury_observe_latency_seconds_bucket${
        sel(rule)
      }[1m]))) * 1000 ${op} ${rule.value}`;
    case "error_rate":
      return `sum by (model) (rate(mercury_observe_errors_total${sel(rule)}[1m])) / ` +
        `clamp_min(sum by (model) (rate(mercury_observe_requests_total${sel(rule)}[1m])), 1e-9) ${op} ${rule.value}`;
  }
}

function duration(ms: number | undefined): string {
  return `${Math.max(0, Math.round((ms ?? 0) / 1000))}s`;
}

/** The rules as a Prometheus rule file (YAML; JSON strings are valid YAML scalars). */
export function prometheusRules(rules: AlertRule[], group = "mercury-observe"): string {
  const lines = ["# Written by `observe setup` from the observe alert rules; checked by promtool.", "groups:"];
  lines.push(`  - name: ${JSON.stringify(group)}`, "    rules:");
  for (const r of checkRules(rules)) {
    lines.push(
      `      - alert: ${r.name}`,
      `        expr: ${JSON.stringify(promqlOf(r))}`,
      `        for: ${duration(r.forMs)}`,
      "        labels:",
      `          severity: ${JSON.stringify(r.severity ?? "ticket")}`,
      `          kind: ${JSON.stringify(r.kind)}`,
      "        annotations:",
      `          summary: ${
        JSON.stringify(`${r.kind} on ${r.model === "*" ? "any model" : r.model}: ${r.op ?? ">"} ${r.value}`)
      }`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The rules `observe setup` installs when none are given. */
export const DEFAULT_RULES: AlertRule[] = [
  { name: "ObservePerformanceDrop", kind: "change", model: "*", value: 0.05, forMs: 30_000, cooldownMs: 300_000 },
  { name: "ObserveFeatureDrift", kind: "drift", model: "*", op: ">", value: 0.499, forMs: 30_000, cooldownMs: 300_000 },
  { name: "ObserveLatencySlo", kind: "latency_slo", model: "*", value: 50, forMs: 60_000, cooldownMs: 300_000 },
  { name: "ObserveErrorRate", kind: "error_rate", model: "*", value: 0.05, forMs: 60_000, cooldownMs: 300_000 },
];
