/**
 * Live monitoring of one served model version over sliding windows: the
 * last `windowSize` labelled predictions give the performance metrics
 * (the stats library's classification and regression reports, per segment
 * too), compared with a reference window (the first `referenceSize` labelled
 * predictions, or one handed in) and flagged as degraded when the main metric
 * (ROC AUC, else accuracy, for classifiers; MAE for regressors) is worse by
 * more than `tolerance`. Feature drift compares the last `windowSize` scored
 * rows with the reference rows.
 *
 * @module
 */
import { Cbpe, classificationReport, DriftWindow, regressionReport } from "./stats/mod.ts";
import type { CbpeEstimate, ClassificationReport, RegressionReport } from "./stats/mod.ts";
import type { ModelKind } from "./model.ts";

/** Options of one monitor. */
export interface MonitorOptions {
  kind: ModelKind;
  features: readonly string[];
  windowSize?: number;
  referenceSize?: number;
  /** Worse than the reference by more than this (absolute) is degraded (default 0.05; MAE: relative). */
  tolerance?: number;
  threshold?: number;
}

/** Performance of one window. */
export interface WindowPerformance {
  n: number;
  /** The metric compared with the reference: `roc_auc`/`accuracy` (higher is better) or `mae` (lower). */
  metric: string;
  value: number;
  classification?: ClassificationReport;
  regression?: RegressionReport;
}

/** Drift of the current window against the reference, per feature and overall. */
export interface DriftSummary {
  n: number;
  referenceN: number;
  /** Share of features flagged as drifted. */
  share: number;
  drifted: boolean;
  features: { name: string; method: string; statistic: number; pValue?: number; drifted: boolean }[];
}

/** A monitor's state at one moment. */
export interface MonitorSnapshot {
  predictions: number;
  labelled: number;
  current?: WindowPerformance;
  reference?: WindowPerformance;
  degraded: boolean;
  segments: Record<string, WindowPerformance>;
  drift?: DriftSummary;
  /**
   * Classifiers: performance of the latest `windowSize` predictions estimated
   * without labels (CBPE, calibrated on the labelled reference window), once
   * the reference holds both classes.
   */
  estimated?: CbpeEstimate;
}

/** Fixed-size ring of rows. */
class Ring<T> {
  #items: T[] = [];
  #at = 0;
  constructor(readonly size: number) {}
  push(x: T): void {
    if (this.#items.length < this.size) this.#items.push(x);
    else {
      this.#items[this.#at] = x;
      this.#at = (this.#at + 1) % this.size;
    }
  }
  values(): T[] {
    return this.#items.length < this.size ? this.#items.slice() : [
      ...this.#items.slice(this.#at),
      ...this.#items.slice(0, this.#at),
    ];
  }
  get length(): number {
    return this.#items.length;
  }
}

interface Labelled {
  output: number;
  label: number;
  segment: string;
}

/** Sliding-window performance and drift of one model version. */
export class ModelMonitor {
  readonly options: Required<Omit<MonitorOptions, "threshold">> & { threshold: number };
  predictions = 0;
  labelled = 0;
  #labels: Ring<Labelled>;
  #referenceLabels: Labelled[] = [];
  #referenceRows: (readonly number[])[] = [];
  #drift: DriftWindow | undefined;
  #requests = new Ring<number>(1000);
  /** Outputs of the latest predictions (CBPE's unlabelled chunk). */
  #outputs: Ring<number>;
  #cbpe: Cbpe | undefined;
  #cbpeFrom = -1;

  constructor(options: MonitorOptions) {
    this.options = {
      kind: options.kind,
      features: options.features,
      windowSize: options.windowSize ?? 500,
      referenceSize: options.referenceSize ?? 500,
      tolerance: options.tolerance ?? 0.05,
      threshold: options.threshold ?? 0.5,
    };
    this.#labels = new Ring(this.options.windowSize);
    this.#outputs = new Ring(this.options.windowSize);
  }

  /** Sets the reference window explicitly (e.g. the training holdout) instead of the first rows seen. */
  setReference(rows: (readonly number[])[], labelled?: { output: number; label: number }[]): void {
    this.#referenceRows = rows.slice(0, this.options.referenceSize);
    this.#drift = undefined;
    if (this.#referenceRows.length >= this.options.referenceSize) this.#makeDriftWindow();
    if (labelled) this.#referenceLabels = labelled.map((l) => ({ ...l, segment: "" }));
  }

  /** The reference rows (drift baseline; SHAP background). */
  referenceRows(): (readonly number[])[] {
    return this.#referenceRows;
  }

  /** One scored row. */
  addPrediction(features: readonly number[], output?: number): void {
    this.predictions++;
    if (output !== undefined && Number.isFinite(output)) this.#outputs.push(output);
    if (this.#referenceRows.length < this.options.referenceSize) {
      this.#referenceRows.push(features);
      if (this.#referenceRows.length === this.options.referenceSize) this.#makeDriftWindow();
      return;
    }
    const row: Record<string, number> = {};
    this.options.features.forEach((f, i) => (row[f] = features[i]!));
    this.#drift!.push(row);
  }

  #makeDriftWindow(): void {
    const cols: Record<string, Float64Array> = {};
    this.options.features.forEach((f, i) => (cols[f] = Float64Array.from(this.#referenceRows, (r) => r[i]!)));
    const kinds = Object.fromEntries(this.options.features.map((f) => [f, "numerical" as const]));
    this.#drift = new DriftWindow(cols, { windowSize: this.options.windowSize, minRows: 30, kinds });
  }

  /** One request: its scoring latency in ms, or NaN when it failed. */
  addRequest(latencyMs: number): void {
    this.#requests.push(latencyMs);
  }

  /** p99 latency (ms) of the last 1,000 good requests and their error rate. */
  requestStats(): { latencyP99Ms?: number; errorRate?: number } {
    const all = this.#requests.values();
    if (all.length === 0) return {};
    const ok = all.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    const p99 = ok.length ? ok[Math.min(ok.length - 1, Math.ceil(0.99 * ok.length) - 1)] : undefined;
    return { latencyP99Ms: p99, errorRate: (all.length - ok.length) / all.length };
  }

  /** One label joined to its prediction's output. */
  addLabel(output: number, label: number, segment = ""): void {
    this.labelled++;
    const l = { output, label, segment };
    if (this.#referenceLabels.length < this.options.referenceSize) this.#referenceLabels.push(l);
    else this.#labels.push(l);
  }

  #performance(rows: Labelled[]): WindowPerformance | undefined {
    if (rows.length === 0) return undefined;
    const y = rows.map((r) => r.label);
    const out = rows.map((r) => r.output);
    if (this.options.kind === "classifier") {
      const pred = out.map((p) => (p >= this.options.threshold ? 1 : 0));
      const report = classificationReport(y, pred, { scores: out });
      const useAuc = report.rocAuc !== undefined;
      return {
        n: rows.length,
        metric: useAuc ? "roc_auc" : "accuracy",
        value: useAuc ? report.rocAuc! : report.accuracy,
        classification: report,
      };
    }
    const report = regressionReport(y, out);
    return { n: rows.length, metric: "mae", value: report.mae, regression: report };
  }

  /** Computes the windows' metrics now. */
  /** CBPE's estimate of the latest predictions (classifiers, once the reference has labels of both classes). */
  estimate(): CbpeEstimate | undefined {
    if (this.options.kind !== "classifier") return undefined;
    const ref = this.#referenceLabels;
    if (ref.length < Math.min(50, this.options.referenceSize)) return undefined;
    // Refitted only when the reference grew (it is fixed once full).
    if (!this.#cbpe || this.#cbpeFrom !== ref.length) {
      const labels = ref.map((l) => l.label);
      if (!labels.includes(0) || !labels.includes(1)) return undefined;
      this.#cbpe = Cbpe.fit({ scores: ref.map((l) => l.output), labels, threshold: this.options.threshold });
      this.#cbpeFrom = ref.length;
    }
    const chunk = this.#outputs.values();
    return chunk.length ? this.#cbpe.estimate(chunk) : undefined;
  }

  #safeEstimate(): CbpeEstimate | undefined {
    try {
      return this.estimate();
    } catch {
      return undefined; // a reference CBPE cannot fit (e.g. constant outputs): no estimate, never a failed snapshot
    }
  }

  snapshot(): MonitorSnapshot {
    const current = this.#performance(this.#labels.values());
    const reference = this.#performance(this.#referenceLabels);
    let degraded = false;
    if (current && reference && current.n >= Math.min(50, this.options.windowSize)) {
      degraded = current.metric === "mae"
        ? current.value > reference.value * (1 + this.options.tolerance)
        : current.metric === reference.metric && current.value < reference.value - this.options.tolerance;
    }
    const bySegment = new Map<string, Labelled[]>();
    for (const l of this.#labels.values()) {
      if (!bySegment.has(l.segment)) bySegment.set(l.segment, []);
      bySegment.get(l.segment)!.push(l);
    }
    const segments: Record<string, WindowPerformance> = {};
    for (const [s, rows] of bySegment) {
      const p = this.#performance(rows);
      if (p && s !== "") segments[s] = p;
    }
    return {
      predictions: this.predictions,
      labelled: this.labelled,
      current,
      reference,
      degraded,
      segments,
      drift: this.drift(),
      estimated: this.#safeEstimate(),
    };
  }

  /** Drift of the current window against the reference (stats' DriftWindow: Evidently's default tests). */
  drift(): DriftSummary | undefined {
    const r = this.#drift?.report();
    if (!r) return undefined;
    return {
      n: this.#drift!.size,
      referenceN: this.#referenceRows.length,
      share: r.shareDrifted,
      drifted: r.datasetDrift,
      features: r.columns.map((c) => ({
        name: c.column,
        method: c.test,
        statistic: c.statistic,
        pValue: c.pValue,
        drifted: c.drifted,
      })),
    };
  }
}
