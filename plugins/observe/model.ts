/**
 * Models the observe plugin trains, logs to MLflow and serves: small
 * TensorFlow.js networks (a binary classifier with a sigmoid output, a
 * regressor with a linear one) over numeric features, stored as tfjs files
 * (`model.json` + `weights.bin`, the layers format `tf.loadLayersModel`
 * reads) plus `mercury.json` (kind, feature names, training facts).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { MercuryError } from "@mercury/core/plugin";
import type { MlflowClient, MlflowRun, ModelVersion } from "./mlflow_client.ts";

/** What a served model is. */
export type ModelKind = "classifier" | "regressor";

/** `mercury.json` beside the tfjs files. */
export interface ModelMeta {
  kind: ModelKind;
  features: string[];
  /** Classifier: output ≥ threshold is class 1. */
  threshold?: number;
}

/** A loaded model ready to score rows. */
export interface LoadedModel {
  name: string;
  version: string;
  meta: ModelMeta;
  net: tf.LayersModel;
}

/** Training options. */
export interface TrainOptions {
  epochs?: number;
  hidden?: number;
  learningRate?: number;
  seed?: number;
  batchSize?: number;
}

await tf.setBackend("cpu");
// Production mode: no debug checks, and no "install tfjs-node" banner (it cannot be installed here) in reports.
tf.enableProdMode();

/** Trains a small dense network on `x` (rows of features) and `y` (0/1 labels or numbers). */
export async function trainModel(
  kind: ModelKind,
  x: number[][],
  y: number[],
  options: TrainOptions = {},
): Promise<tf.LayersModel> {
  if (x.length === 0 || x.length !== y.length) {
    throw new MercuryError("input", `cannot train on ${x.length} rows and ${y.length} labels`, {
      hint: "give one label per row, at least one row",
    });
  }
  const width = x[0]!.length;
  const seed = options.seed ?? 7;
  const net = tf.sequential();
  net.add(tf.layers.dense({
    inputShape: [width],
    units: options.hidden ?? 8,
    activation: "relu",
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  }));
  net.add(tf.layers.dense({
    units: 1,
    activation: kind === "classifier" ? "sigmoid" : "linear",
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
  }));
  net.compile({
    optimizer: tf.train.adam(options.learningRate ?? 0.05),
    loss: kind === "classifier" ? "binaryCrossentropy" : "meanSquaredError",
  });
  const xs = tf.tensor2d(x);
  const ys = tf.tensor2d(y, [y.length, 1]);
  try {
    await net.fit(xs, ys, {
      epochs: options.epochs ?? 20,
      batchSize: options.batchSize ?? 64,
      shuffle: false,
      verbose: 0,
    });
  } finally {
    xs.dispose();
    ys.dispose();
  }
  return net;
}

/** Scores rows; one number per row (probability of class 1, or the regression value). */
export function predictRows(net: tf.LayersModel, rows: number[][]): Float32Array {
  return tf.tidy(() => (net.predict(tf.tensor2d(rows)) as tf.Tensor).dataSync() as Float32Array);
}

/** The files of a model: `model.json`, `weights.bin`, `mercury.json`. */
export async function modelFiles(net: tf.LayersModel, meta: ModelMeta): Promise<Record<string, Uint8Array>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await net.save(tf.io.withSaveHandler((artifacts) => {
    saved = artifacts;
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  if (!saved?.weightData || !saved.weightSpecs) throw new Error("tfjs saved no weights");
  const weights = saved.weightData instanceof ArrayBuffer
    ? new Uint8Array(saved.weightData)
    : new Uint8Array(await new Blob(saved.weightData.map((b) => new Uint8Array(b))).arrayBuffer());
  const modelJson = {
    modelTopology: saved.modelTopology,
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: ["weights.bin"], weights: saved.weightSpecs }],
  };
  const enc = new TextEncoder();
  return {
    "model.json": enc.encode(JSON.stringify(modelJson)),
    "weights.bin": weights,
    "mercury.json": enc.encode(JSON.stringify(meta)),
  };
}

/** Loads a model from its files (as {@linkcode modelFiles} writes them). */
export async function loadModelFiles(
  files: Record<string, Uint8Array>,
): Promise<{ net: tf.LayersModel; meta: ModelMeta }> {
  const dec = new TextDecoder();
  const need = (n: string) => {
    const f = files[n];
    if (!f) throw new MercuryError("input", `model files lack ${n}`, { hint: "log the model with logModel()" });
    return f;
  };
  const modelJson = JSON.parse(dec.decode(need("model.json")));
  const meta = JSON.parse(dec.decode(need("mercury.json"))) as ModelMeta;
  const w = need("weights.bin");
  const net = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest[0].weights,
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
  }));
  return { net, meta };
}

/** What {@linkcode logModel} records in MLflow. */
export interface LogModelOptions {
  /** Registered model name (also the experiment name). */
  name: string;
  net: tf.LayersModel;
  meta: ModelMeta;
  params?: Record<string, string | number | boolean>;
  metrics?: Record<string, number>;
  tags?: Record<string, string>;
  runName?: string;
}

/**
 * Logs a training run to MLflow (params, metrics, the model files under
 * `model/`) and registers the files as a new version of `name`.
 */
export async function logModel(
  mlflow: MlflowClient,
  options: LogModelOptions,
): Promise<{ run: MlflowRun; version: ModelVersion }> {
  const run = await mlflow.createRun(options.name, { runName: options.runName, tags: options.tags });
  try {
    await mlflow.logBatch(run.runId, {
      params: { kind: options.meta.kind, features: options.meta.features.join(","), ...options.params },
      metrics: options.metrics,
      tags: { "mercury.flavor": "tfjs-layers" },
    });
    for (const [file, bytes] of Object.entries(await modelFiles(options.net, options.meta))) {
      await mlflow.uploadArtifact(run, `model/${file}`, bytes);
    }
    const version = await mlflow.registerVersion(options.name, run, "model", options.tags);
    await mlflow.finishRun(run.runId);
    return { run, version };
  } catch (err) {
    await mlflow.finishRun(run.runId, "FAILED").catch(() => {});
    throw err;
  }
}

/** Downloads and loads one registered version. */
export async function loadVersion(mlflow: MlflowClient, v: ModelVersion): Promise<LoadedModel> {
  const dir = v.source;
  const files: Record<string, Uint8Array> = {};
  for (const f of ["model.json", "weights.bin", "mercury.json"]) files[f] = await mlflow.downloadArtifact(dir, f);
  const { net, meta } = await loadModelFiles(files);
  return { name: v.name, version: v.version, meta, net };
}
