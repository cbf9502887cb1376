/**
 * The `forecast` commands: `train`, `predict`, `compare`, `backtest`,
 * `detect`, `tune`, `batch` — run as `deno task forecast <cmd>` or
 * `deno task mercury forecast <cmd>`. Every output path is checked before
 * any work starts and all outputs are written together or not at all
 * ({@linkcode OutputFiles}); horizons are bounded by `--max-horizon` and a
 * series' grid by `--max-points`.
 *
 * @module
 */
import type { CommandArgs, CommandContext, CommandSpec, OptionSpec } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { chartSvg, progress, tableText } from "@mercury/core/display";
import { ALGORITHMS } from "./algorithms.ts";
import { backtest } from "./backtest.ts";
import { forecastBatch } from "./batch.ts";
import {
  advance,
  type Dataset,
  defaultSeason,
  describeFrequency,
  type FillRule,
  futureDates,
  loadSeries,
  MAX_POINTS,
  type Series,
  stepMs,
} from "./data.ts";
import { detectAnomalies } from "./detect.ts";
import { createForecaster } from "./ensemble.ts";
import { encodeModel, loadModel, restoreModel } from "./model_file.ts";
import { OutputFiles } from "./output_files.ts";
import { type MetricName, METRICS } from "./metrics.ts";
import { checkLength, trainModel } from "./train.ts";
import { tune } from "./tune.ts";

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

function int(v: unknown, name: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new MercuryError("usage", `--${name} "${v}" is not an integer ≥ ${min}`, {
      where: `--${name}`,
      hint: name === "future-periods" || name === "horizon"
        ? "a horizon of at least 1 step"
        : `pass a whole number ≥ ${min}`,
    });
  }
  return n;
}

/** Default bound on a forecast horizon, in steps (`--max-horizon` raises it). */
export const MAX_HORIZON = 10_000;

/** A horizon option (`--horizon`, `--future-periods`), at most `--max-horizon` steps. */
function horizonOf(v: CommandArgs["values"], name: string, min = 1): number {
  const h = int(v[name], name, min);
  const max = int(v["max-horizon"] ?? MAX_HORIZON, "max-horizon");
  if (h > max) {
    throw new MercuryError("usage", `--${name} ${h} is more than the limit of ${max} steps`, {
      where: `--${name}`,
      hint: `forecast fewer steps, or pass --max-horizon ${h} to allow it`,
    });
  }
  return h;
}

const maxHorizonOption: Record<string, OptionSpec> = {
  "max-horizon": { type: "string", value: "N", description: "refuse horizons longer than N steps", default: "10000" },
};
const maxPointsOption: Record<string, OptionSpec> = {
  "max-points": {
    type: "string",
    value: "N",
    description: "refuse a series spanning more than N steps (gaps included)",
    default: String(MAX_POINTS),
  },
};

function levelsOf(v: unknown): number[] {
  const out = String(v ?? "80,95").split(",").map((s) => Number(s.trim()));
  for (const l of out) {
    if (!(l > 0 && l < 100)) {
      throw new MercuryError("usage", `--levels "${v}" must be percentages between 0 and 100`, {
        where: "--levels",
        hint: "e.g. 80,95",
      });
    }
  }
  return out;
}

function paramsOf(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  try {
    const p = JSON.parse(String(v));
    if (p && typeof p === "object" && !Array.isArray(p)) return p;
  } catch { /* fall through */ }
  throw new MercuryError("usage", `--params "${v}" is not a JSON object`, {
    where: "--params",
    hint: `e.g. --params '{"model":"AAdA"}'`,
  });
}

const dataOptions: Record<string, OptionSpec> = {
  data: { type: "string", value: "FILE", description: "CSV or Parquet: ds,y or unique_id,ds,y" },
  series: { type: "string", value: "ID", description: "which series of a long-format file (default: the only one)" },
  freq: { type: "string", value: "F", description: "frequency (1h, 15min, 1d, 1w, 1M, index); inferred when absent" },
  season: {
    type: "string",
    value: "M",
    description: "seasonal period (default from the frequency: 24 hourly, 7 daily, 12 monthly)",
  },
  fill: { type: "string", value: "RULE", description: "gaps: linear, previous, zero or error", default: "linear" },
  sort: { type: "boolean", description: "sort rows by series and time instead of rejecting unsorted input" },
  "id-col": { type: "string", value: "NAME", description: "series id column", default: "unique_id" },
  "time-col": { type: "string", value: "NAME", description: "timestamp column", default: "ds" },
  "target-col": { type: "string", value: "NAME", description: "value column", default: "y" },
  ...maxPointsOption,
};

async function readData(v: CommandArgs["values"]): Promise<Dataset & { seasonUsed: number }> {
  const file = str(v.data);
  if (!file) {
    throw new MercuryError("usage", "--data is required", {
      hint: "pass --data FILE.csv (columns ds,y or unique_id,ds,y)",
    });
  }
  const fill = str(v.fill) ?? "linear";
  if (!["linear", "previous", "zero", "error"].includes(fill)) {
    throw new MercuryError("usage", `--fill "${fill}" is not linear, previous, zero or error`, { where: "--fill" });
  }
  const d = await loadSeries(file, {
    freq: str(v.freq),
    fill: fill as FillRule,
    sort: v.sort === true,
    idColumn: str(v["id-col"]),
    timeColumn: str(v["time-col"]),
    targetColumn: str(v["target-col"]),
    maxPoints: int(v["max-points"] ?? MAX_POINTS, "max-points"),
  });
  const seasonUsed = v.season !== undefined ? int(v.season, "season") : defaultSeason(d.freq);
  return { ...d, seasonUsed };
}

function pickSeries(d: Dataset, id: string | undefined): Series {
  if (id !== undefined) {
    const s = d.series.find((x) => x.id === id);
    if (!s) {
      throw new MercuryError("input", `${d.file} has no series "${id}"`, {
        where: d.file,
        hint: `series: ${d.series.slice(0, 10).map((x) => x.id).join(", ")}${d.series.length > 10 ? "…" : ""}`,
      });
    }
    return s;
  }
  if (d.series.length > 1) {
    throw new MercuryError("usage", `${d.file} holds ${d.series.length} series; choose one with --series`, {
      where: d.file,
      hint: `e.g. --series ${d.series[0]!.id}, or use \`forecast batch\` for all of them`,
    });
  }
  return d.series[0]!;
}

function checkAlgorithm(name: string): string {
  if (name === "ensemble") return name;
  return ALGORITHMS.get(name) ? name : createForecaster(name).algorithm; // throws with the list on unknown names
}

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? x.toFixed(1) : x.toPrecision(5)) : "—");
const dateOf = (t: number, d: { unit: string }) => {
  if (d.unit === "index") return String(t);
  // Dates end at +275760-09-13; a forecast past it (a row in year 9999 and a long horizon) cannot be written as a date.
  if (!(Math.abs(t) <= 8.64e15)) {
    throw new MercuryError("input", `a forecast date falls past +275760-09-13, the last date JavaScript represents`, {
      hint: "check the series' last timestamp and --freq, or forecast fewer steps",
    });
  }
  return new Date(t).toISOString();
};

function csv(rows: Record<string, unknown>[]): string {
  if (!rows.length) return "";
  const cols = Object.keys(rows[0]!);
  const q = (
    v: unknown,
  ) => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v ?? ""));
  return [cols.join(","), ...rows.map((r) => cols.map((c) => q(r[c])).join(","))].join("\n") + "\n";
}

/** `train`: fit one series and save the model. */
export const trainCommand: CommandSpec = {
  summary: "fit a model on a series and save it (JSON, any file name)",
  description: "Example: forecast train --data historical_data.csv --algorithm prophet --output model.pkl",
  options: {
    ...dataOptions,
    algorithm: {
      type: "string",
      value: "NAME",
      description: `one of ${[...ALGORITHMS.keys()].join(", ")}, ensemble`,
      default: "auto_ets",
    },
    params: { type: "string", value: "JSON", description: `algorithm parameters, e.g. '{"model":"AAdA"}'` },
    output: { type: "string", value: "FILE", description: "where to write the model", default: "model.pkl" },
    horizon: {
      type: "string",
      value: "H",
      description: "backtest horizon for the stored metrics (default 2 seasons; 0 skips)",
    },
    windows: { type: "string", value: "N", description: "backtest windows", default: "2" },
    clean: { type: "boolean", description: "replace anomalies before training" },
    "model-version": { type: "string", value: "SEMVER", description: "the model's semantic version", default: "1.0.0" },
    ...maxHorizonOption,
  },
  run: (args, ctx) =>
    OutputFiles.run(async (outputs) => {
      const v = args.values;
      const name = checkAlgorithm(str(v.algorithm) ?? "auto_ets");
      const out = str(v.output) ?? "model.pkl";
      await outputs.plan("--output", out);
      const d = await readData(v);
      const s = pickSeries(d, str(v.series));
      const version = str(v["model-version"]) ?? "1.0.0";
      if (!/^\d+\.\d+\.\d+$/.test(version)) {
        throw new MercuryError("usage", `--model-version "${version}" is not semver`, { hint: "e.g. 1.2.0" });
      }
      const { file } = await trainModel(s, {
        algorithm: name,
        params: paramsOf(v.params),
        season: d.seasonUsed,
        freq: d.freq,
        horizon: v.horizon !== undefined ? horizonOf(v, "horizon", 0) : undefined,
        windows: int(v.windows, "windows"),
        clean: v.clean === true,
        version,
        source: d.file,
      });
      await outputs.stage(out, encodeModel(file));
      await outputs.commit();
      ctx.print(
        `trained ${file.description} on series ${s.id} (${s.y.length} points, ${
          describeFrequency(d.freq)
        }, season ${d.seasonUsed}${s.filled ? `, ${s.filled} gaps filled` : ""})`,
      );
      if (file.metrics.mase !== undefined) {
        ctx.print(
          `backtest (h=${file.metrics.horizon}): MASE ${fmt(file.metrics.mase)}  sMAPE ${
            fmt(file.metrics.smape!)
          }  RMSE ${fmt(file.metrics.rmse!)}  coverage95 ${fmt(file.metrics.coverage95!)}`,
        );
      }
      ctx.print(
        `wrote ${out} (format v${file.formatVersion}, model ${file.version}, data ${file.fingerprint.slice(0, 12)})`,
      );
    }),
};

/** `predict`: forecast from a saved model. */
export const predictCommand: CommandSpec = {
  summary: "forecast the next periods from a saved model",
  description: "Example: forecast predict --model-path model.pkl --future-periods 30",
  options: {
    "model-path": { type: "string", value: "FILE", description: "model written by train", default: "model.pkl" },
    "future-periods": { type: "string", value: "H", description: "horizon in steps", default: "12" },
    levels: { type: "string", value: "L", description: "interval levels in percent", default: "80,95" },
    output: { type: "string", value: "FILE", description: "also write the forecast as CSV" },
    chart: { type: "string", value: "FILE", description: "write a fan chart (SVG)" },
    ...maxHorizonOption,
  },
  run: (args, ctx) =>
    OutputFiles.run(async (outputs) => {
      const v = args.values;
      const h = horizonOf(v, "future-periods");
      const levels = levelsOf(v.levels);
      const path = str(v["model-path"]) ?? "model.pkl";
      if (str(v.output)) await outputs.plan("--output", str(v.output)!);
      if (str(v.chart)) await outputs.plan("--chart", str(v.chart)!);
      const file = await loadModel(path);
      const model = await restoreModel(file, path);
      const f = model.predict(h, levels);
      const freq = file.series.freq;
      const ds = Array.from({ length: h }, (_, i) => advance(file.series.end, freq, i + 1));
      const rows = f.mean.map((m, i) => {
        const r: Record<string, unknown> = { unique_id: file.series.id, ds: dateOf(ds[i]!, freq), forecast: m };
        for (const iv of f.intervals) {
          r[`lo${iv.level}`] = iv.lower[i];
          r[`hi${iv.level}`] = iv.upper[i];
        }
        return r;
      });
      if (str(v.output)) await outputs.stage(str(v.output)!, csv(rows));
      if (str(v.chart)) {
        const y = (file.model.state as { y?: number[] }).y ?? [];
        await outputs.stage(str(v.chart)!, await chartSvg(fanChart(y.slice(-4 * h), f, file.description) as never));
      }
      await outputs.commit();
      ctx.print(`${file.description} — series ${file.series.id}, ${h} steps`);
      ctx.print(
        tableText(
          rows.map((r) =>
            Object.fromEntries(Object.entries(r).map(([k, x]) => [k, typeof x === "number" ? fmt(x) : x]))
          ),
          { maxRows: h },
        ),
      );
    }),
};

/** A vega-lite fan chart of history + forecast with intervals. */
export function fanChart(
  history: number[],
  f: { mean: number[]; intervals: { level: number; lower: number[]; upper: number[] }[] },
  title: string,
): Record<string, unknown> {
  const n = history.length;
  const hist = history.map((y, t) => ({ t: t - n + 1, y, kind: "history" }));
  const fc = f.mean.map((y, i) => ({ t: i + 1, y, kind: "forecast" }));
  const bands = f.intervals.slice().sort((a, b) => b.level - a.level).flatMap((iv) =>
    iv.lower.map((lo, i) => ({ t: i + 1, lo, hi: iv.upper[i], level: `${iv.level}%` }))
  );
  return {
    title,
    width: 640,
    height: 240,
    layer: [
      {
        data: { values: bands },
        mark: { type: "area", opacity: 0.25 },
        encoding: {
          x: { field: "t", type: "quantitative", title: "step" },
          y: { field: "lo", type: "quantitative" },
          y2: { field: "hi" },
          color: { field: "level", type: "nominal", title: "interval" },
        },
      },
      {
        data: { values: [...hist, ...fc] },
        mark: "line",
        encoding: {
          x: { field: "t", type: "quantitative" },
          y: { field: "y", type: "quantitative", title: "value" },
          strokeDash: { field: "kind", type: "nominal" },
        },
      },
    ],
  };
}

/** `compare`: metrics of saved models side by side. */
export const compareCommand: CommandSpec = {
  summary: "compare saved models: metrics table (and forecasts chart)",
  usage: "--models A B C…",
  description: "Example: forecast compare --models model1.pkl model2.pkl model3.pkl [--data holdout.csv]",
  options: {
    models: {
      type: "string",
      value: "FILES",
      description: "model files (the first after --models, the rest as further arguments)",
      multiple: true,
    },
    data: {
      type: "string",
      value: "FILE",
      description: "hold-out data (ds,y after the training end) to score on; default: the stored backtest metrics",
    },
    horizon: { type: "string", value: "H", description: "steps to plot", default: "24" },
    chart: { type: "string", value: "FILE", description: "write the models' forecasts as one SVG chart" },
    ...maxHorizonOption,
    ...maxPointsOption,
  },
  run: (args, ctx) =>
    OutputFiles.run(async (outputs) => {
      const v = args.values;
      const paths = [...((v.models as string[] | undefined) ?? []), ...args.positionals];
      if (!paths.length) {
        throw new MercuryError("usage", "no models given", { hint: "forecast compare --models model1.pkl model2.pkl" });
      }
      if (str(v.chart)) await outputs.plan("--chart", str(v.chart)!);
      const files = await Promise.all(paths.map(loadModel));
      let holdout: number[] | null = null;
      if (str(v.data)) {
        const d = await loadSeries(str(v.data)!, { maxPoints: int(v["max-points"] ?? MAX_POINTS, "max-points") });
        holdout = pickSeries(d, files[0]!.series.id === "series" ? undefined : files[0]!.series.id).y;
      }
      const h = holdout ? holdout.length : horizonOf(v, "horizon");
      const rows: Record<string, unknown>[] = [];
      const lines: { t: number; y: number; model: string }[] = [];
      for (const [i, file] of files.entries()) {
        const model = await restoreModel(file, paths[i]!);
        const f = model.predict(h, [80, 95]);
        f.mean.forEach((y, t) => lines.push({ t: t + 1, y, model: `${paths[i]} (${file.algorithm})` }));
        const row: Record<string, unknown> = {
          model: paths[i],
          algorithm: file.algorithm,
          description: file.description,
          series: file.series.id,
          version: file.version,
        };
        if (holdout) {
          const { evaluate, coverage } = await import("./metrics.ts");
          const y = (file.model.state as { y: number[] }).y ?? [];
          const m = evaluate(y, holdout, f, file.series.season);
          for (const k of METRICS) row[k] = fmt(m[k]);
          row.coverage95 = fmt(coverage(holdout, f, 95));
        } else {
          for (const k of METRICS) row[k] = fmt(file.metrics[k] ?? NaN);
          row.coverage95 = fmt(file.metrics.coverage95 ?? NaN);
        }
        rows.push(row);
      }
      const metric: MetricName = "mase";
      rows.sort((a, b) =>
        Number(a[metric] === "—" ? Infinity : a[metric]) - Number(b[metric] === "—" ? Infinity : b[metric])
      );
      ctx.print(holdout ? `scored on ${str(v.data)} (${h} points)` : "stored backtest metrics (train --horizon)");
      ctx.print(tableText(rows));
      if (str(v.chart)) {
        const spec = {
          title: "forecasts",
          width: 640,
          height: 240,
          data: { values: lines },
          mark: "line",
          encoding: {
            x: { field: "t", type: "quantitative", title: "step" },
            y: { field: "y", type: "quantitative" },
            color: { field: "model", type: "nominal" },
          },
        };
        await outputs.stage(str(v.chart)!, await chartSvg(spec as never));
        await outputs.commit();
        ctx.print(`wrote ${str(v.chart)}`);
      }
    }),
};

/** `backtest`: rolling-origin evaluation of one algorithm. */
export const backtestCommand: CommandSpec = {
  summary: "rolling-origin cross-validation of an algorithm: metrics and interval coverage",
  options: {
    ...dataOptions,
    algorithm: { type: "string", value: "NAME", description: "algorithm (or ensemble)", default: "auto_ets" },
    params: { type: "string", value: "JSON", description: "algorithm parameters" },
    horizon: { type: "string", value: "H", description: "steps per window (default 2 seasons)" },
    windows: { type: "string", value: "N", description: "number of origins", default: "3" },
    step: { type: "string", value: "N", description: "steps between origins (default the horizon)" },
    levels: { type: "string", value: "L", description: "interval levels", default: "80,95" },
    ...maxHorizonOption,
  },
  async run(args, ctx) {
    const v = args.values;
    const name = checkAlgorithm(str(v.algorithm) ?? "auto_ets");
    if (v.horizon !== undefined) horizonOf(v, "horizon");
    const d = await readData(v);
    const s = pickSeries(d, str(v.series));
    const h = v.horizon !== undefined ? horizonOf(v, "horizon") : 2 * Math.max(1, d.seasonUsed);
    const levels = levelsOf(v.levels);
    const params = paramsOf(v.params);
    checkLength(s, name, d.seasonUsed, d.file, params);
    const r = await backtest(s.y, () => createForecaster(name, params), {
      h,
      windows: int(v.windows, "windows"),
      step: v.step ? int(v.step, "step") : undefined,
      levels,
      season: d.seasonUsed,
      ds: s.ds,
      stepMs: stepMs(d.freq),
    });
    ctx.print(`${name} on series ${s.id}: ${r.windows.length} windows × ${h} steps`);
    ctx.print(
      tableText(
        r.windows.map((w) => ({
          cutoff: dateOf(s.ds[w.cutoff]!, d.freq),
          ...Object.fromEntries(METRICS.map((k) => [k, fmt(w.metrics[k])])),
        })),
      ),
    );
    ctx.print(`mean: ${METRICS.map((k) => `${k.toUpperCase()} ${fmt(r.metrics[k])}`).join("  ")}`);
    ctx.print(`coverage: ${levels.map((l) => `${l}% → ${(100 * r.coverage[String(l)]!).toFixed(1)}%`).join("  ")}`);
  },
};

/** `detect`: anomaly scores per point. */
export const detectCommand: CommandSpec = {
  summary: "score every point for anomalies (residual or decomposition method)",
  options: {
    ...dataOptions,
    method: { type: "string", value: "M", description: "residual or decomposition", default: "residual" },
    algorithm: { type: "string", value: "NAME", description: "model for the residual method", default: "auto_ets" },
    threshold: {
      type: "string",
      value: "Z",
      description: "robust z-score above which a point is an anomaly",
      default: "3.5",
    },
    output: { type: "string", value: "FILE", description: "write every point with its score as CSV" },
  },
  run: (args, ctx) =>
    OutputFiles.run(async (outputs) => {
      const v = args.values;
      const method = str(v.method) ?? "residual";
      if (method !== "residual" && method !== "decomposition") {
        throw new MercuryError("usage", `--method "${method}" is not residual or decomposition`, { where: "--method" });
      }
      const threshold = Number(v.threshold);
      if (!(threshold > 0)) {
        throw new MercuryError("usage", `--threshold "${v.threshold}" is not a positive number`, {
          where: "--threshold",
        });
      }
      if (str(v.output)) await outputs.plan("--output", str(v.output)!);
      const d = await readData(v);
      const targets = str(v.series) !== undefined ? [pickSeries(d, str(v.series))] : d.series;
      const out: Record<string, unknown>[] = [];
      const found: Record<string, unknown>[] = [];
      for (const s of targets) {
        const r = await detectAnomalies(s.y, {
          method,
          season: d.seasonUsed,
          threshold,
          algorithm: checkAlgorithm(str(v.algorithm) ?? "auto_ets"),
        });
        s.y.forEach((y, t) => {
          const row = {
            unique_id: s.id,
            ds: dateOf(s.ds[t]!, d.freq),
            y,
            expected: r.expected[t],
            score: r.score[t],
            anomaly: r.anomaly[t],
          };
          out.push(row);
          if (r.anomaly[t]) found.push({ ...row, expected: fmt(r.expected[t]!), score: fmt(r.score[t]!) });
        });
      }
      if (str(v.output)) await outputs.stage(str(v.output)!, csv(out));
      await outputs.commit();
      ctx.print(`${found.length} anomalies in ${out.length} points (${method}, robust z > ${threshold})`);
      if (found.length) ctx.print(tableText(found, { maxRows: 50 }));
    }),
};

/** `tune`: parameter search and leaderboard. */
export const tuneCommand: CommandSpec = {
  summary: "search algorithms × parameters by backtest and print a leaderboard",
  options: {
    ...dataOptions,
    algorithms: {
      type: "string",
      value: "LIST",
      description: "comma-separated algorithms",
      default: "naive2,seasonal_naive,theta,optimized_theta,auto_ets,auto_arima,mstl",
    },
    metric: { type: "string", value: "M", description: `rank by ${METRICS.join(", ")}`, default: "mase" },
    horizon: { type: "string", value: "H", description: "steps per window (default 2 seasons)" },
    windows: { type: "string", value: "N", description: "number of origins", default: "2" },
    output: { type: "string", value: "FILE", description: "train the winner on all data and save it here" },
    ...maxHorizonOption,
  },
  run: (args, ctx) =>
    OutputFiles.run(async (outputs) => {
      const v = args.values;
      const metric = (str(v.metric) ?? "mase") as MetricName;
      if (!METRICS.includes(metric)) {
        throw new MercuryError("usage", `--metric "${metric}" is not one of ${METRICS.join(", ")}`, {
          where: "--metric",
        });
      }
      const algos = (str(v.algorithms) ?? "").split(",").map((a) => a.trim()).filter(Boolean).map(checkAlgorithm);
      if (v.horizon !== undefined) horizonOf(v, "horizon");
      if (str(v.output)) await outputs.plan("--output", str(v.output)!);
      const d = await readData(v);
      const s = pickSeries(d, str(v.series));
      const h = v.horizon !== undefined ? horizonOf(v, "horizon") : 2 * Math.max(1, d.seasonUsed);
      const board = await tune(s.y, algos, {
        h,
        windows: int(v.windows, "windows"),
        season: d.seasonUsed,
        ds: s.ds,
        stepMs: stepMs(d.freq),
      }, metric);
      ctx.print(`leaderboard for series ${s.id} by ${metric.toUpperCase()} (${v.windows} windows × ${h} steps)`);
      ctx.print(tableText(
        board.map((r) => ({
          rank: r.rank,
          algorithm: r.algorithm,
          params: JSON.stringify(r.params),
          ...Object.fromEntries(METRICS.map((k) => [k, fmt(r.metrics[k])])),
          cov95: fmt(r.coverage["95"] ?? NaN),
          seconds: r.seconds.toFixed(2),
          ...(r.error ? { error: r.error } : {}),
        })),
        { maxRows: 100 },
      ));
      if (str(v.output) && board[0] && !board[0].error) {
        const { file } = await trainModel(s, {
          algorithm: board[0].algorithm,
          params: board[0].params,
          season: d.seasonUsed,
          freq: d.freq,
          horizon: 0,
          source: d.file,
        });
        await outputs.stage(str(v.output)!, encodeModel(file));
        await outputs.commit();
        ctx.print(`wrote the winner ${file.description} to ${str(v.output)}`);
      }
    }),
};

/** `batch`: many series in parallel. */
export const batchCommand: CommandSpec = {
  summary: "forecast every series of a long-format file in parallel (Deno workers)",
  options: {
    ...dataOptions,
    algorithm: { type: "string", value: "NAME", description: "algorithm (or ensemble)", default: "auto_ets" },
    params: { type: "string", value: "JSON", description: "algorithm parameters" },
    horizon: { type: "string", value: "H", description: "steps to forecast", default: "24" },
    levels: { type: "string", value: "L", description: "interval levels", default: "80,95" },
    workers: { type: "string", value: "N", description: "parallel workers (default: CPU count)" },
    output: { type: "string", value: "FILE", description: "forecasts CSV", default: "forecasts.csv" },
    errors: {
      type: "string",
      value: "FILE",
      description: "per-series error report CSV",
      default: "forecast_errors.csv",
    },
    strict: { type: "boolean", description: "exit non-zero when any series failed" },
    ...maxHorizonOption,
  },
  run: (args, ctx) =>
    OutputFiles.run(async (outputs) => {
      const v = args.values;
      const name = checkAlgorithm(str(v.algorithm) ?? "auto_ets");
      const h = horizonOf(v, "horizon");
      const levels = levelsOf(v.levels);
      const out = str(v.output) ?? "forecasts.csv";
      const errFile = str(v.errors) ?? "forecast_errors.csv";
      await outputs.plan("--output", out);
      await outputs.plan("--errors", errFile);
      const d = await readData(v);
      const bar = progress(d.series.length, "forecasting");
      let pending = Promise.resolve();
      const r = await forecastBatch(d.series, {
        algorithm: name,
        params: paramsOf(v.params),
        season: d.seasonUsed,
        stepMs: stepMs(d.freq),
        h,
        levels,
        workers: v.workers ? int(v.workers, "workers") : undefined,
        onProgress: () => {
          pending = pending.then(() => bar.tick());
        },
      });
      await pending;
      await bar.done();
      const byId = new Map(d.series.map((s) => [s.id, s]));
      const rows: Record<string, unknown>[] = [];
      for (const f of r.forecasts) {
        const ds = futureDates(byId.get(f.id)!, d.freq, h);
        f.mean.forEach((m, i) => {
          const row: Record<string, unknown> = { unique_id: f.id, ds: dateOf(ds[i]!, d.freq), forecast: m };
          for (const iv of f.intervals) {
            row[`lo${iv.level}`] = iv.lower[i];
            row[`hi${iv.level}`] = iv.upper[i];
          }
          rows.push(row);
        });
      }
      await outputs.stage(out, csv(rows));
      await outputs.stage(
        errFile,
        csv(r.errors.map((e) => ({ unique_id: e.id, error: e.error }))) || "unique_id,error\n",
      );
      await outputs.commit();
      ctx.print(`${r.forecasts.length}/${d.series.length} series forecast in ${r.seconds.toFixed(1)} s → ${out}`);
      if (r.errors.length) {
        ctx.print(`${r.errors.length} series failed (report: ${errFile}):`);
        for (const e of r.errors.slice(0, 20)) ctx.print(`  ${e.id}: ${e.error}`);
      }
      return r.errors.length && (v.strict === true || r.forecasts.length === 0) ? 65 : 0;
    }),
};

/** All commands by name. */
export const commands: Record<string, CommandSpec> = {
  train: trainCommand,
  predict: predictCommand,
  compare: compareCommand,
  backtest: backtestCommand,
  detect: detectCommand,
  tune: tuneCommand,
  batch: batchCommand,
};

/** Unused-context guard so commands type-check against CommandContext. */
export type { CommandContext };
