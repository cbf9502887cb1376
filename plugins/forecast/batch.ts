/**
 * Forecasting many series in parallel on Deno workers, with progress and a
 * per-series error report.
 *
 * @module
 */
import type { Series } from "./data.ts";
import type { BatchJob, BatchMessage } from "./batch_worker.ts";
import { algorithm, GLOBAL_ALGORITHMS } from "./algorithms.ts";
import type { Forecast } from "./forecaster.ts";

/** The horizon a global network is trained for when its params name none: the batch's, at most this. */
const GLOBAL_MAX_DIRECT = 192;

/** Options of {@linkcode forecastBatch}. */
export interface BatchOptions {
  algorithm: string;
  params?: Record<string, unknown>;
  season: number;
  stepMs: number;
  h: number;
  levels?: number[];
  /** Worker count (default: hardware concurrency). */
  workers?: number;
  /** Called after each series with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** The outcome of a batch. */
export interface BatchResult {
  forecasts: Extract<BatchMessage, { kind: "ok" }>[];
  errors: Extract<BatchMessage, { kind: "error" }>[];
  seconds: number;
}

type Ok = Extract<BatchMessage, { kind: "ok" }>;
type Err = Extract<BatchMessage, { kind: "error" }>;

/**
 * Trains a global algorithm (N-BEATS) once on every series long enough for it and forecasts each; too short series and
 * non-finite forecasts are errors of their series.
 */
async function globalForecasts(
  name: string,
  params: Record<string, unknown>,
  series: Series[],
  options: BatchOptions,
): Promise<{ forecasts: Map<string, Forecast>; errors: Err[]; describe: string; seconds: number }> {
  const t0 = performance.now();
  const need = algorithm(name).minPoints(options.season);
  const errors: Err[] = [];
  const ok = series.filter((s) => {
    if (s.y.length >= need) return true;
    errors.push({
      kind: "error",
      id: s.id,
      error: `series ${s.id} has ${s.y.length} points; ${name} with season ${options.season} needs at least ${need}`,
    });
    return false;
  });
  const forecasts = new Map<string, Forecast>();
  if (!ok.length) return { forecasts, errors, describe: name, seconds: 0 };
  const { fitNBeats } = await import("./models/nbeats.ts");
  let fit;
  try {
    fit = await fitNBeats(ok.map((s) => s.y), options.season, {
      horizon: Math.min(options.h, GLOBAL_MAX_DIRECT),
      ...params,
    });
  } catch (err) {
    const msg = (err as Error).message?.split("\n")[0] ?? String(err);
    for (const s of ok) errors.push({ kind: "error", id: s.id, error: msg });
    return { forecasts, errors, describe: name, seconds: (performance.now() - t0) / 1000 };
  }
  const fs = fit.forecastMany(ok.map((s) => s.y), options.h, options.levels ?? [80, 95], options.season);
  const describe = fit.describe();
  fit.dispose();
  ok.forEach((s, i) => {
    const f = fs[i]!;
    if (f.mean.some((v) => !Number.isFinite(v))) {
      errors.push({ kind: "error", id: s.id, error: "the model produced non-finite forecasts" });
    } else forecasts.set(s.id, f);
  });
  return { forecasts, errors, describe, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Forecasts every series; series that fail are reported, the rest go on. A global algorithm (`nbeats`) is trained
 * once on all series (in this thread) and forecasts each of them; as an ensemble member it is trained the same way
 * and its forecasts are handed to the workers that fit the other members.
 *
 * @example
 * ```ts
 * import { forecastBatch } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const mk = (id: string, n: number) => ({ id, ds: [...Array(n).keys()], y: [...Array(n)].map((_, t) => t % 4), filled: 0 });
 * const r = await forecastBatch([mk("a", 20), mk("b", 2), mk("c", 20)], { algorithm: "seasonal_naive", season: 4, stepMs: 1, h: 4, workers: 2 });
 * assert.deepEqual(r.forecasts.map((f) => f.id).sort(), ["a", "c"]);
 * assert.equal(r.errors[0]!.id, "b");
 * ```
 */
export async function forecastBatch(series: Series[], options: BatchOptions): Promise<BatchResult> {
  const t0 = performance.now();
  const params = options.params ?? {};
  if (GLOBAL_ALGORITHMS.has(options.algorithm)) {
    const g = await globalForecasts(options.algorithm, params, series, options);
    const forecasts: Ok[] = [];
    let done = 0;
    for (const s of series) {
      const f = g.forecasts.get(s.id);
      if (!f) continue;
      forecasts.push({
        kind: "ok",
        id: s.id,
        mean: f.mean,
        intervals: f.intervals,
        model: g.describe,
        ms: (g.seconds * 1000) / g.forecasts.size,
      });
      options.onProgress?.(++done, series.length);
    }
    for (const _ of g.errors) options.onProgress?.(++done, series.length);
    return { forecasts, errors: g.errors, seconds: (performance.now() - t0) / 1000 };
  }
  let given: Record<string, Record<string, Forecast>> | undefined;
  if (options.algorithm === "ensemble") {
    const members = (params.members as string[] | undefined) ?? [];
    const memberParams = (params.memberParams ?? {}) as Record<string, Record<string, unknown>>;
    for (const name of members.filter((m) => GLOBAL_ALGORITHMS.has(algorithm(m).name))) {
      const g = await globalForecasts(algorithm(name).name, memberParams[name] ?? {}, series, options);
      for (const [id, f] of g.forecasts) (given ??= {})[id] = { ...given?.[id], [name]: f };
    }
  }
  const n = Math.max(1, Math.min(options.workers ?? navigator.hardwareConcurrency ?? 2, series.length));
  const chunks: Series[][] = Array.from({ length: n }, () => []);
  // Round-robin keeps long and short series spread across workers.
  series.forEach((s, i) => chunks[i % n]!.push(s));
  const forecasts: BatchResult["forecasts"] = [];
  const errors: BatchResult["errors"] = [];
  let done = 0;
  await Promise.all(chunks.map((chunk) =>
    new Promise<void>((resolve) => {
      const w = new Worker(new URL("./batch_worker.ts", import.meta.url).href, { type: "module" });
      const seen = new Set<string>();
      const finish = () => {
        w.terminate();
        for (const s of chunk) {
          if (!seen.has(s.id)) {
            errors.push({ kind: "error", id: s.id, error: "the worker stopped before this series" });
            options.onProgress?.(++done, series.length);
          }
        }
        resolve();
      };
      w.onmessage = (e: MessageEvent<BatchMessage | { kind: "done" } | { kind: "ready" }>) => {
        const m = e.data;
        if (m.kind === "ready") return w.postMessage(job);
        if (m.kind === "done") return finish();
        seen.add(m.id);
        if (m.kind === "ok") forecasts.push(m);
        else errors.push(m);
        options.onProgress?.(++done, series.length);
      };
      w.onerror = (e) => {
        e.preventDefault();
        finish();
      };
      const job: BatchJob = {
        series: chunk,
        algorithm: options.algorithm,
        params,
        given: given && Object.fromEntries(chunk.filter((s) => given![s.id]).map((s) => [s.id, given![s.id]!])),
        season: options.season,
        stepMs: options.stepMs,
        h: options.h,
        levels: options.levels ?? [80, 95],
      };
    })
  ));
  return { forecasts, errors, seconds: (performance.now() - t0) / 1000 };
}
