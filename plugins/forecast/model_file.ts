/**
 * Models on disk: one JSON document with a format version, the algorithm,
 * its parameters and fitted state, a fingerprint of the training data, the
 * backtest metrics and a semantic version. Written atomically (temp file +
 * rename); a corrupt file, another format or a newer format version is a
 * clear error. The file name is free (`model.pkl` works; it is still JSON).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { ModelState } from "./forecaster.ts";
import type { Frequency } from "./data.ts";

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
  series: { id: string; freq: Frequency; season: number; points: number; start: number; end: number; source?: string };
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

/** Writes a model file atomically. */
export async function saveModel(path: string, file: ModelFile): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${Date.now()}`;
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(file));
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw new MercuryError("conflict", `cannot write model ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "check the folder exists and is writable",
      cause: err,
    });
  }
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
    throw new MercuryError("input", `model file ${path} is corrupt (not valid JSON: ${(err as Error).message})`, {
      where: path,
      hint: "retrain the model; the file may be truncated or not a Mercury model",
      cause: err,
    });
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
