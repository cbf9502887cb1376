/**
 * Spark ML through Spark Connect on the real cluster, logged to the real
 * MLflow (`deno task services up spark mlflow`): a cross-validated logistic
 * regression on a separable synthetic set scores a sane AUC per fold, its run
 * and stages reach MLflow and the registry has the new version; an unknown
 * label column is one clear error and the session stays usable.
 */
import assert from "node:assert/strict";
import { MercuryError, resolveEndpoints } from "@mercury/core";
import { SparkSession } from "@mercury/spark";
import { logTrainResult, syntheticClassification, trainClassifier } from "@mercury/spark/ml";
import { MlflowClient } from "@mercury/observe/mlflow";

const MODEL = "mercury-spark-ml-test";

Deno.test("spark ML: cross-validated classifier trained through Connect, logged and registered in MLflow", async (t) => {
  const mlflowUrl = resolveEndpoints().mlflow.url;
  const mlflow = new MlflowClient(mlflowUrl);
  assert.ok(await mlflow.healthy(), `MLflow at ${mlflowUrl} does not answer: deno task services up mlflow`);
  await using spark = await SparkSession.connect();
  const data = syntheticClassification(spark, { rows: 800, seed: 3 });

  await t.step("an unknown label column is one clear error; the session stays usable", async () => {
    await assert.rejects(
      trainClassifier(data, { label: "churned", source: "the synthetic set" }),
      (e: unknown) =>
        e instanceof MercuryError && e.code === "usage" &&
        /label column "churned" is not in the synthetic set/.test(e.message) && /x1, x2, x3, label/.test(e.hint ?? ""),
    );
    assert.equal(await data.count(), 800);
  });

  await t.step("AUC per fold above 0.9, the model registered as a new version", async () => {
    const before = await mlflow.versions(MODEL).catch(() => []);
    const r = await trainClassifier(data, { label: "label", folds: 2, grid: { regParam: [0.01] } });
    try {
      assert.deepEqual(r.features, ["x1", "x2", "x3"]);
      assert.equal(r.scores.length, 2);
      for (const s of r.scores) {
        assert.ok(s.auc > 0.9 && s.auc <= 1, `fold ${s.fold} AUC ${s.auc}`);
        assert.ok(s.accuracy > 0.8, `fold ${s.fold} accuracy ${s.accuracy}`);
      }
      const logged = await logTrainResult(r, { mlflowUrl, modelName: MODEL, experiment: "spark-ml-test" });
      const after = await mlflow.versions(MODEL);
      assert.equal(after.length, before.length + 1);
      assert.equal(after[0]!.version, logged.version.version);
      assert.equal(after[0]!.runId, logged.runId);
      assert.ok(logged.artifacts.some((a) => a.startsWith("model/classifier/metadata/")), logged.artifacts.join(", "));
      const run = await mlflow.getRun(logged.runId);
      const card = JSON.parse(
        new TextDecoder().decode(await mlflow.downloadArtifact(logged.version.source, "mercury.json")),
      );
      assert.equal(card.stages[1].class, "org.apache.spark.ml.classification.LogisticRegressionModel");
      assert.equal(run.status, "FINISHED");
      assert.ok(Math.abs(run.metrics.auc! - r.best.auc) < 1e-9, `logged AUC ${run.metrics.auc}`);
    } finally {
      await r.model.release();
    }
  });
});
