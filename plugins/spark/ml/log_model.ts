/**
 * Logs a {@linkcode TrainResult} to MLflow where the observe plugin finds
 * models: one run (params, the mean cross-validated AUC and accuracy, and
 * every fold's scores as steps of `cv<combination>_auc`/`_accuracy`), the
 * saved Spark ML stages as run artifacts under `model/` (the assembler and
 * the fitted classifier in Spark ML's own format, plus `model/mercury.json`
 * naming them), and a new version of the registered model.
 *
 * The stages are saved by the Connect server to a folder on its file system
 * and uploaded from there, so the server's files must be readable here (true
 * of the native cluster; a remote server needs a shared path such as HDFS).
 *
 * @example
 * ```ts ignore
 * import { logTrainResult } from "@mercury/spark/ml";
 * const v = await logTrainResult(result, { mlflowUrl: "http://127.0.0.1:55000", modelName: "churn-spark" });
 * console.log(v.version);
 * ```
 *
 * @module
 */
import { MlflowClient, type ModelVersion } from "@mercury/observe/mlflow";
import { saveStage } from "./ops.ts";
import type { TrainResult } from "./train.ts";

/** Options of {@linkcode logTrainResult}. */
export interface LogOptions {
  mlflowUrl: string;
  /** Registered model name. */
  modelName: string;
  /** MLflow experiment (default `spark-ml`). */
  experiment?: string;
  /** Folder the server saves the stages in before the upload (default a temp folder, removed afterwards). */
  saveDir?: string;
  /** Where the data came from (a run tag). */
  source?: string;
}

/** The logged run and the registered version. */
export interface LoggedModel {
  runId: string;
  version: ModelVersion;
  artifacts: string[];
  saveDir: string;
}

async function* files(dir: string, prefix = ""): AsyncGenerator<string> {
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) yield* files(dir, rel);
    else if (e.isFile && !e.name.endsWith(".crc")) yield rel;
  }
}

/** Saves the model's stages, logs the run and registers a version (see the module doc). */
export async function logTrainResult(result: TrainResult, options: LogOptions): Promise<LoggedModel> {
  const mlflow = new MlflowClient(options.mlflowUrl);
  const keep = options.saveDir !== undefined;
  const saveDir = options.saveDir ?? await Deno.makeTempDir({ prefix: "mercury-spark-model-" });
  try {
    await saveStage(
      result.model.df,
      "org.apache.spark.ml.feature.VectorAssembler",
      result.assembler,
      `${saveDir}/assembler`,
    );
    await result.model.save(`${saveDir}/classifier`);
    const run = await mlflow.createRun(options.experiment ?? "spark-ml", {
      runName: `${options.modelName}-${result.classifier}`,
      tags: {
        "mercury.plugin": "spark",
        "mercury.flavor": "spark-ml",
        ...(options.source ? { source: options.source } : {}),
      },
    });
    try {
      await mlflow.logBatch(run.runId, {
        params: {
          classifier: result.estimator,
          label: result.label,
          features: result.features.join(","),
          folds: result.folds,
          rows: result.rows,
          grid: JSON.stringify(result.combinations.map((c) => c.params)),
          ...Object.fromEntries(Object.entries(result.best.params).map(([k, v]) => [`best.${k}`, JSON.stringify(v)])),
        },
        metrics: { auc: result.best.auc, accuracy: result.best.accuracy, train_seconds: result.seconds },
      });
      for (const s of result.scores) {
        await mlflow.logBatch(run.runId, {
          metrics: { [`cv${s.combination}_auc`]: s.auc, [`cv${s.combination}_accuracy`]: s.accuracy },
          step: s.fold,
        });
      }
      const artifacts: string[] = [];
      for await (const rel of files(saveDir)) {
        await mlflow.uploadArtifact(run, `model/${rel}`, await Deno.readFile(`${saveDir}/${rel}`));
        artifacts.push(`model/${rel}`);
      }
      const card = {
        flavor: "spark-ml",
        stages: [
          { name: "assembler", class: "org.apache.spark.ml.feature.VectorAssembler", path: "assembler" },
          { name: "classifier", class: `${result.estimator}Model`, path: "classifier" },
        ],
        label: result.label,
        features: result.features,
        metrics: { auc: result.best.auc, accuracy: result.best.accuracy },
      };
      await mlflow.uploadArtifact(run, "model/mercury.json", JSON.stringify(card, null, 2) + "\n");
      artifacts.push("model/mercury.json");
      await mlflow.finishRun(run.runId);
      const version = await mlflow.registerVersion(options.modelName, run, "model", {
        flavor: "spark-ml",
        auc: result.best.auc.toFixed(4),
      });
      return { runId: run.runId, version, artifacts, saveDir };
    } catch (err) {
      await mlflow.finishRun(run.runId, "FAILED").catch(() => {});
      throw err;
    }
  } finally {
    if (!keep) await Deno.remove(saveDir, { recursive: true }).catch(() => {});
  }
}
