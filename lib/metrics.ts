/**
 * Counters, gauges and histograms with labels, exposed in the Prometheus text
 * format (version 0.0.4), so any worker can serve `/metrics`.
 *
 * @example A counter and a histogram on one registry
 * ```ts
 * import { Registry } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const reg = new Registry();
 * const events = reg.counter("events_total", "Events read", ["topic"]);
 * events.inc({ topic: "clicks" }, 3);
 * const lat = reg.histogram("latency_seconds", "Latency", [], [0.1, 1]);
 * lat.observe({}, 0.05);
 * const text = reg.expose();
 * assert.match(text, /^events_total\{topic="clicks"\} 3$/m);
 * assert.match(text, /^latency_seconds_bucket\{le="0.1"\} 1$/m);
 * ```
 *
 * @module
 */

/** Label values by label name. */
export type Labels = Record<string, string>;

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric {
  abstract readonly type: "counter" | "gauge" | "histogram";
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    if (!NAME_RE.test(name)) throw new TypeError(`Invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith("__")) throw new TypeError(`Invalid label name "${l}" on ${name}`);
    }
  }

  protected key(labels: Labels): string {
    const given = Object.keys(labels);
    for (const g of given) {
      if (!this.labelNames.includes(g)) throw new TypeError(`Unknown label "${g}" on metric ${name(this)}`);
    }
    for (const l of this.labelNames) {
      if (!(l in labels)) throw new TypeError(`Missing label "${l}" on metric ${name(this)}`);
    }
    return JSON.stringify(this.labelNames.map((l) => labels[l]));
  }

  protected labelText(key: string, extra?: [string, string]): string {
    const values = JSON.parse(key) as string[];
    const pairs = this.labelNames.map((l, i) => `${l}="${escapeLabel(values[i] ?? "")}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return pairs.length ? `{${pairs.join(",")}}` : "";
  }

  header(): string {
    return `# HELP ${this.name} ${
      this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
    }\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract samples(): string;
}

function name(m: Metric): string {
  return m.name;
}

/** A value that only goes up (resets on restart). */
export class Counter extends Metric {
  readonly type = "counter";
  #values = new Map<string, number>();

  /** Adds `value` (default 1, must be ≥ 0). */
  inc(labels: Labels = {}, value = 1): void {
    if (!(value >= 0)) throw new RangeError(`Counter ${this.name} cannot decrease (got ${value})`);
    const k = this.key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + value);
  }

  /** The current value for `labels`. */
  get(labels: Labels = {}): number {
    return this.#values.get(this.key(labels)) ?? 0;
  }

  samples(): string {
    let out = "";
    for (const [k, v] of this.#values) out += `${this.name}${this.labelText(k)} ${formatValue(v)}\n`;
    return out;
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric {
  readonly type = "gauge";
  #values = new Map<string, number>();

  /** Sets the value for `labels`. */
  set(labels: Labels, value: number): void {
    this.#values.set(this.key(labels), value);
  }

  /** Drops the series for `labels` (e.g. a partition this worker no longer reads). */
  remove(labels: Labels): void {
    this.#values.delete(this.key(labels));
  }

  /** Adds `value` (may be negative). */
  inc(labels: Labels = {}, value = 1): void {
    const k = this.key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + value);
  }

  /** The current value for `labels`. */
  get(labels: Labels = {}): number {
    return this.#values.get(this.key(labels)) ?? 0;
  }

  samples(): string {
    let out = "";
    for (const [k, v] of this.#values) out += `${this.name}${this.labelText(k)} ${formatValue(v)}\n`;
    return out;
  }
}

/** Default buckets for latencies in seconds (Prometheus client defaults). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Metric {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  #values = new Map<string, HistogramState>();

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new TypeError(`Histogram ${name} cannot use the label "le"`);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => i > 0 && b === sorted[i - 1])) {
      throw new RangeError(`Histogram ${name} needs distinct buckets`);
    }
    this.buckets = sorted;
  }

  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    const k = this.key(labels);
    let s = this.#values.get(k);
    if (!s) {
      s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#values.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) s.counts[i]!++;
    }
    s.sum += value;
    s.count++;
  }

  /** Sum and count for `labels`. */
  get(labels: Labels = {}): { sum: number; count: number } {
    const s = this.#values.get(this.key(labels));
    return { sum: s?.sum ?? 0, count: s?.count ?? 0 };
  }

  samples(): string {
    let out = "";
    for (const [k, s] of this.#values) {
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket${this.labelText(k, ["le", formatValue(b)])} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${this.labelText(k, ["le", "+Inf"])} ${s.count}\n`;
      out += `${this.name}_sum${this.labelText(k)} ${formatValue(s.sum)}\n`;
      out += `${this.name}_count${this.labelText(k)} ${s.count}\n`;
    }
    return out;
  }
}

/** A set of metrics exposed together. */
export class Registry {
  #metrics = new Map<string, Metric>();
  #sources: (() => string)[] = [];

  /**
   * Adds expositions made elsewhere (e.g. by worker threads, each with its own
   * registry): {@linkcode Registry.expose} merges them with this registry's
   * metrics by {@linkcode mergeExpositions}.
   */
  addSource(expose: () => string): void {
    this.#sources.push(expose);
  }

  /** Registers (or returns the existing) counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(name, () => new Counter(name, help, labelNames), Counter);
  }

  /** Registers (or returns the existing) gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(name, () => new Gauge(name, help, labelNames), Gauge);
  }

  /** Registers (or returns the existing) histogram. */
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.#add(name, () => new Histogram(name, help, labelNames, buckets), Histogram);
  }

  #add<T extends Metric>(name: string, make: () => T, kind: abstract new (...a: never[]) => T): T {
    const existing = this.#metrics.get(name);
    if (existing) {
      if (!(existing instanceof kind)) {
        throw new TypeError(`Metric ${name} is already registered as a ${existing.type}`);
      }
      return existing;
    }
    const m = make();
    this.#metrics.set(name, m);
    return m;
  }

  /** The Prometheus text exposition of every metric. */
  expose(): string {
    let out = "";
    for (const m of this.#metrics.values()) out += m.header() + m.samples();
    return this.#sources.length ? mergeExpositions([out, ...this.#sources.map((s) => s())]) : out;
  }

  /** A `Response` for a `/metrics` route. */
  response(): Response {
    return new Response(this.expose(), { headers: { "content-type": CONTENT_TYPE } });
  }
}

/**
 * Merges text expositions of the same metrics from several registries (one
 * per thread or process): samples of the same series are added, each family
 * keeps its first HELP and TYPE. Adding is right for counters and histograms,
 * and for gauges whose series belong to one source each (per partition) or
 * add up (open windows).
 *
 * @example
 * ```ts
 * import { mergeExpositions } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const a = "# TYPE events_total counter\nevents_total{p=\"0\"} 3\n";
 * const b = "# TYPE events_total counter\nevents_total{p=\"0\"} 2\nevents_total{p=\"1\"} 1\n";
 * assert.equal(mergeExpositions([a, b]), "# TYPE events_total counter\nevents_total{p=\"0\"} 5\nevents_total{p=\"1\"} 1\n");
 * ```
 */
export function mergeExpositions(texts: readonly string[]): string {
  // Family name → header lines and series (name with labels → value), in order of first appearance.
  const families = new Map<string, { header: string[]; series: Map<string, number> }>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, f = { header: [], series: new Map() });
    return f;
  };
  for (const text of texts) {
    let current: string | undefined;
    for (const line of text.split("\n")) {
      if (!line) continue;
      const meta = /^# (HELP|TYPE) (\S+) /.exec(line);
      if (meta) {
        current = meta[2]!;
        const f = family(current);
        if (!f.header.some((h) => h.startsWith(`# ${meta[1]} `))) f.header.push(line);
        continue;
      }
      if (line.startsWith("#")) continue;
      const space = line.lastIndexOf(" ");
      const series = line.slice(0, space);
      const sampleName = /^[^{ ]+/.exec(series)![0];
      // A histogram's _bucket/_sum/_count samples belong to the family announced before them.
      const f = family(current && sampleName.startsWith(current) ? current : sampleName);
      const value = Number(line.slice(space + 1));
      f.series.set(series, (f.series.get(series) ?? 0) + value);
    }
  }
  let out = "";
  for (const f of families.values()) {
    for (const h of f.header) out += h + "\n";
    for (const [series, value] of f.series) out += `${series} ${formatValue(value)}\n`;
  }
  return out;
}

/** The content type of the text exposition format. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
