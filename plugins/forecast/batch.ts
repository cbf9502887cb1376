/**
 * Forecasting many series in parallel on Deno workers, with progress and a
 * per-series error report.
 *
 * @module
 */
import type { Series } from "./data.ts";
import type { BatchJob, BatchMessage } from "./batch_worker.ts";

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

/**
 * Forecasts every series; series that fail are reported, the rest go on.
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
        params: options.params ?? {},
        season: options.season,
        stepMs: options.stepMs,
        h: options.h,
        levels: options.levels ?? [80, 95],
      };
    })
  ));
  return { forecasts, errors, seconds: (performance.now() - t0) / 1000 };
}
