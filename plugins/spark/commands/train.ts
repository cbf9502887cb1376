/**
 * `spark train`: a cross-validated Spark ML classifier trained on the cluster
 * through Spark Connect, logged to MLflow and registered as a model version.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core";
import type { DataFrame } from "../connect/dataframe.ts";
import type { SparkSession } from "../connect/session.ts";
import { type ClassifierName, parseGrid, syntheticClassification, trainClassifier } from "../ml/train.ts";
import { logTrainResult } from "../ml/log_model.ts";
import { withSession } from "./_session.ts";

/** The training data named by `--input`, `--sql` or `--synthetic`, and how to name it in errors. */
async function trainingData(spark: SparkSession, v: CommandArgs["values"]): Promise<[DataFrame, string]> {
  const given = ["input", "sql", "synthetic"].filter((k) => v[k] !== undefined);
  if (given.length !== 1) {
    throw new MercuryError("usage", "spark train needs exactly one of --input, --sql or --synthetic", {
      where: given.length ? given.map((k) => `--${k}`).join(", ") : "--input",
      hint: "e.g. --input data.parquet --label churned, or --synthetic 5000 --label label",
    });
  }
  if (v.input !== undefined) {
    const path = String(v.input);
    return [spark.read.format(String(v.format)).option("header", true).option("inferSchema", true).load(path), path];
  }
  if (v.sql !== undefined) return [await spark.sql(String(v.sql)), "the --sql query"];
  return [syntheticClassification(spark, { rows: Number(v.synthetic) }), `the synthetic set (${v.synthetic} rows)`];
}

/** Runs `spark train`. */
export async function trainCommand(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  const grid = v.grid === undefined ? undefined : parseGrid(String(v.grid));
  const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout) * 1000;
  await withSession(async (spark, signal) => {
    const [data, source] = await trainingData(spark, v);
    const r = await trainClassifier(data, {
      label: String(v.label),
      features: v.features as string[] | undefined,
      classifier: v.classifier as ClassifierName,
      grid,
      folds: Number(v.folds),
      seed: Number(v.seed),
      source,
      signal,
      timeoutMs,
      tags: ["mercury-train"],
    });
    try {
      ctx.print(`${r.estimator} on ${r.rows} rows of ${source}; features ${r.features.join(", ")}`);
      for (const [i, c] of r.combinations.entries()) {
        const folds = r.scores.filter((s) => s.combination === i).map((s) => s.auc.toFixed(4)).join(" ");
        ctx.print(
          `  ${JSON.stringify(c.params)}: AUC ${c.auc.toFixed(4)} (folds ${folds}), accuracy ${c.accuracy.toFixed(4)}`,
        );
      }
      ctx.print(`best ${JSON.stringify(r.best.params)}: AUC ${r.best.auc.toFixed(4)}; ${r.seconds.toFixed(1)} s`);
      if (v["no-mlflow"]) return;
      const logged = await logTrainResult(r, {
        mlflowUrl: ctx.endpoints().mlflow.url,
        modelName: String(v["model-name"]),
        experiment: String(v.experiment),
        saveDir: v["save-dir"] === undefined ? undefined : String(v["save-dir"]),
        source,
      });
      ctx.print(
        `MLflow run ${logged.runId}: ${logged.artifacts.length} artifacts; registered ${logged.version.name} version ${logged.version.version}`,
      );
    } finally {
      await r.model.release();
    }
  });
}
