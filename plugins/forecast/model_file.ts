/**
 * Models on disk: one JSON document with a format version, the algorithm,
 * its parameters and fitted state, a fingerprint of the training data, the
 * backtest metrics and a semantic version. Written atomically (temp file +
 * rename, by {@linkcode OutputFiles}); a corrupt file, another format or a newer format version is a
 * clear error, and {@linkcode restoreModel} turns a file whose state cannot
 * be restored (empty, or an algorithm this build does not know) into an error
 * naming the file. Text quoted from a file never reaches the terminal as raw
 * control bytes. The file name is free (`model.pkl` works; it is still JSON).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { printable } from "./_printable.ts";
import { ALGORITHMS } from "./algorithms.ts";
import type { Forecaster, ModelState } from "./forecaster.ts";
import type { Frequency } from "./data.ts";
import { restoreForecaster } from "./ensemble.ts";
import { OutputFiles } from "./output_files.ts";

/** The format version this build writes and reads. */
export const FORMAT_VERSION = 1;
const FORMAT = "mercury-forecast-model";

/** A saved model. */
export interface ModelFile {
  format: typeof FORMAT;
  formatVersion: number;
  /** Semantic version of this model (bumped by re-training). */
  version: string;
  /** Version of `@mercury/forecast` that wrote it. */
  writer: string;
  createdAt: string;
  algorithm: string;
  description: string;
  params: Record<string, unknown>;
  series: {
    id: string;
    freq: Frequency;
    season: number;
    points: number;
    start: number;
    end: number;
    source?: string;
    /** MASE's scale: the training data's in-sample seasonal-naive MAE (so any model, ensembles included, gets MASE). */
    maseScale?: number;
  };
  /** sha256 of the training timestamps and values. */
  fingerprint: string;
  metrics: Record<string, number>;
  model: ModelState;
}

/**
 * sha256 (hex) of a series' timestamps and values.
 *
 * @example
 * ```ts
 * import { fingerprint } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * assert.equal((await fingerprint([1, 2], [3, 4])).length, 64);
 * assert.notEqual(await fingerprint([1, 2], [3, 4]), await fingerprint([1, 2], [3, 5]));
 * ```
 */
export async function fingerprint(ds: number[], y: number[]): Promise<string> {
  const buf = new Float64Array(ds.length + y.length);
  buf.set(ds);
  buf.set(y, ds.length);
  const h = await crypto.subtle.digest("SHA-256", buf);
  return Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The text of a model file (JSON), as {@linkcode saveModel} writes it. */
export function encodeModel(file: ModelFile): string {
  return JSON.stringify(file);
}

/**
 * Writes a model file atomically (temp file + rename, through {@linkcode OutputFiles}); a path that cannot be written
 * is a `conflict` error naming it.
 *
 * @example
 * ```ts
 * import { saveModel } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * // deno-lint-ignore no-explicit-any
 * await assert.rejects(() => saveModel("/nonexistent/m.pkl", {} as any), /model file \/nonexistent\/m\.pkl: folder/);
 * ```
 */
export async function saveModel(path: string, file: ModelFile): Promise<void> {
  await OutputFiles.run(async (out) => {
    await out.plan("model file", path);
    await out.stage(path, encodeModel(file));
  });
}

/**
 * Reads and checks a model file.
 *
 * @example
 * ```ts
 * import { loadModel } from "@mercury/forecast";
 * import assert from "node:assert/strict";
 *
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "{not json");
 * await assert.rejects(() => loadModel(p), /corrupt/);
 * await Deno.writeTextFile(p, JSON.stringify({ format: "mercury-forecast-model", formatVersion: 99 }));
 * await assert.rejects(() => loadModel(p), /format version 99/);
 * await Deno.remove(p);
 * ```
 */
export async function loadModel(path: string): Promise<ModelFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new MercuryError("not_found", `model file ${path} does not exist`, {
      where: path,
      hint: "train one with `forecast train … --output PATH`",
    });
  }
  let doc: Partial<ModelFile>;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MercuryError(
      "input",
      `model file ${path} is corrupt (not valid JSON: ${printable((err as Error).message)})`,
      {
        where: path,
        hint: "retrain the model; the file may be truncated or not a Mercury model",
        cause: err,
      },
    );
  }
  if (!doc || typeof doc !== "object" || doc.format !== FORMAT) {
    throw new MercuryError("input", `${path} is not a Mercury forecast model`, {
      where: path,
      hint: "pass a file written by `forecast train`",
    });
  }
  if (typeof doc.formatVersion !== "number" || doc.formatVersion > FORMAT_VERSION || doc.formatVersion < 1) {
    throw new MercuryError(
      "input",
      `model ${path} has format version ${doc.formatVersion}; this build reads version ${FORMAT_VERSION}`,
      {
        where: path,
        hint: doc.formatVersion! > FORMAT_VERSION ? "upgrade @mercury/forecast to read it" : "retrain the model",
      },
    );
  }
  if (!doc.model || typeof doc.model.algorithm !== "string" || !doc.series) {
    throw new MercuryError("input", `model file ${path} is corrupt (no model state)`, {
      where: path,
      hint: "retrain the model",
    });
  }
  return doc as ModelFile;
}

/**
 * Restores the fitted model of a loaded model file and checks it can forecast
 * one step. A state that cannot be restored (empty, truncated) or an algorithm
 * this build does not know is an `input` error naming the file, never an
 * internal one or a blame on a flag the user did not pass.
 *
 * @example
 * ```ts
 * import { loadModel, saveModel, trainModel } from "@mercury/forecast";
 * import { restoreModel } from "./model_file.ts";
 * import assert from "node:assert/strict";
 *
 * const y = Array.from({ length: 48 }, (_, t) => t % 12);
 * const s = { id: "a", ds: y.map((_, t) => t), y, filled: 0 };
 * const { file } = await trainModel(s, { algorithm: "theta", season: 12, freq: { unit: "index", step: 1 } });
 * const p = await Deno.makeTempFile();
 * await saveModel(p, { ...file, model: { ...file.model, state: {} } });
 * await assert.rejects(async () => restoreModel(await loadModel(p), p), /has no usable theta state/);
 * await saveModel(p, { ...file, model: { ...file.model, algorithm: "magic" } });
 * await assert.rejects(async () => restoreModel(await loadModel(p), p), /names algorithm "magic"/);
 * await Deno.remove(p);
 * ```
 */
export async function restoreModel(file: ModelFile, path: string): Promise<Forecaster> {
  const name = printable(file.model.algorithm, 60);
  try {
    const model = await restoreForecaster(file.model);
    model.predict(1, [80]);
    return model;
  } catch (err) {
    const message = printable(String((err as Error)?.message ?? err).split("\n")[0]!);
    if (err instanceof MercuryError && /^unknown algorithm/.test(err.message)) {
      throw new MercuryError("input", `model file ${path} names algorithm "${name}", which this build does not know`, {
        where: path,
        hint: `known: ${[...ALGORITHMS.keys()].join(", ")}, ensemble; retrain the model, or upgrade @mercury/forecast`,
        cause: err,
      });
    }
    throw new MercuryError("input", `model file ${path} has no usable ${name} state (${message})`, {
      where: path,
      hint: "the file is damaged or was edited; retrain the model with `forecast train`",
      cause: err,
    });
  }
}
