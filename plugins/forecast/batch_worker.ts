/**
 * The Deno worker behind `forecast batch`: receives series, forecasts each,
 * and reports every series back on its own — a failure is a message, never
 * the end of the batch.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { algorithm, GLOBAL_ALGORITHMS } from "./algorithms.ts";
import { createForecaster } from "./ensemble.ts";
import { checkLength } from "./train.ts";
import type { Series } from "./data.ts";
import type { Forecast } from "./forecaster.ts";

/** A job for the worker. */
export interface BatchJob {
  series: Series[];
  algorithm: string;
  params: Record<string, unknown>;
  season: number;
  stepMs: number;
  h: number;
  levels: number[];
  /** Forecasts of global ensemble members (trained by the parent across the batch), by series id, then member. */
  given?: Record<string, Record<string, Forecast>>;
}

/** What the worker sends back per series. */
export type BatchMessage =
  | {
    kind: "ok";
    id: string;
    mean: number[];
    intervals: { level: number; lower: number[]; upper: number[] }[];
    model: string;
    ms: number;
  }
  | { kind: "error"; id: string; error: string };

self.onmessage = async (e: MessageEvent<BatchJob>) => {
  const job = e.data;
  for (const s of job.series) {
    const t0 = performance.now();
    try {
      checkLength(s, job.algorithm, job.season, "data", job.params);
      const given = job.given?.[s.id];
      for (const name of job.algorithm === "ensemble" ? (job.params.members as string[] | undefined) ?? [] : []) {
        if (GLOBAL_ALGORITHMS.has(algorithm(name).name) && !given?.[name]) {
          throw new Error(`ensemble member ${name} (trained across the batch) has no forecast for this series`);
        }
      }
      const m = createForecaster(job.algorithm, given ? { ...job.params, given } : job.params);
      await m.fit(s.y, { season: job.season, ds: s.ds, stepMs: job.stepMs });
      const f = m.predict(job.h, job.levels);
      if (f.mean.some((v) => !Number.isFinite(v))) throw new Error("the model produced non-finite forecasts");
      self.postMessage(
        {
          kind: "ok",
          id: s.id,
          mean: f.mean,
          intervals: f.intervals,
          model: m.describe(),
          ms: performance.now() - t0,
        } satisfies BatchMessage,
      );
    } catch (err) {
      self.postMessage(
        {
          kind: "error",
          id: s.id,
          error: (err as Error).message?.split("\n")[0] ?? String(err),
        } satisfies BatchMessage,
      );
    }
  }
  self.postMessage({ kind: "done" });
};
// Module evaluation may finish after the parent posted (wasm top-level awaits): ask for the job when ready.
self.postMessage({ kind: "ready" });
