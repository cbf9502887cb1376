/**
 * Retraining on recent labelled data: the predictions of `model` joined with
 * their labels in PostgreSQL (newest `maxRows`), split by time into training
 * rows and a holdout (the newest `holdoutShare`), a new network trained on the
 * training rows, the new and the serving version both scored on the holdout,
 * the run logged to MLflow (params, both holdout metrics, the model files), a
 * new version registered, and the `champion` alias moved to it only when it
 * beats the serving one on the holdout. Every step is a row of
 * `observe.retrain_steps` and a tag on the new version.
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import type { Sql } from "@mercury/core/services/postgres";
import type { MlflowClient } from "./mlflow_client.ts";
import { loadVersion, logModel, type ModelKind, predictRows, trainModel, type TrainOptions } from "./model.ts";
import { regressionReport, rocAuc } from "./stats/mod.ts";

/** Options of {@linkcode retrain}. */
export interface RetrainOptions {
  sql: Sql;
  mlflow: MlflowClient;
  model: string;
  alias?: string;
  maxRows?: number;
  minRows?: number;
  holdoutShare?: number;
  train?: TrainOptions;
  /** Why it runs (the alert that fired), recorded with the run. */
  reason?: string;
}

/** What a retraining did. */
export interface RetrainResult {
  model: string;
  trainedOn: number;
  holdout: number;
  metric: "roc_auc" | "mae";
  candidate: { version: string; score: number; runId: string };
  current?: { version: string; score: number };
  promoted: boolean;
  steps: { step: string; detail: Record<string, unknown> }[];
}

/** Holdout score: ROC AUC for classifiers (higher is better), MAE for regressors (lower is better). */
function score(kind: ModelKind, y: number[], out: ArrayLike<number>): number {
  return kind === "classifier" ? rocAuc(y, out) : regressionReport(y, out).mae;
}

/** Runs one retraining; see the module doc. */
export async function retrain(o: RetrainOptions): Promise<RetrainResult> {
  const steps: RetrainResult["steps"] = [];
  const record = async (step: string, detail: Record<string, unknown>) => {
    steps.push({ step, detail });
    await o.sql`insert into observe.retrain_steps (model, step, detail) values (${o.model}, ${step}, ${
      o.sql.json(detail as never)
    })`;
  };
  const alias = o.alias ?? "champion";
  const current = (await o.mlflow.versionByAlias(o.model, alias)) ?? (await o.mlflow.versions(o.model))[0];
  if (!current) {
    throw new MercuryError("not_found", `model "${o.model}" has no registered version to retrain`, {
      where: o.mlflow.url,
      hint: "log a first version with logModel()",
    });
  }
  const served = await loadVersion(o.mlflow, current);
  const { kind, features } = served.meta;
  await record("start", { reason: o.reason ?? "manual", serving: current.version });

  const rows = await o.sql<{ features: Record<string, number> | number[]; label: number }[]>`
    select p.features, l.label from observe.predictions p join observe.labels l using (id)
    where p.model = ${o.model} order by p.ts desc, p.id limit ${o.maxRows ?? 20_000}`;
  const minRows = o.minRows ?? 200;
  if (rows.length < minRows) {
    await record("skipped", { labelled: rows.length, minRows });
    throw new MercuryError("input", `only ${rows.length} labelled predictions of "${o.model}" (need ${minRows})`, {
      where: "observe.predictions ⋈ observe.labels",
      hint: "send labels (POST /labels or the observe.labels topic) before retraining",
    });
  }
  rows.reverse(); // oldest first: the holdout is the newest share
  const x = rows.map((r) =>
    Array.isArray(r.features) ? r.features : features.map((f) => Number(r.features[f as never]))
  );
  const y = rows.map((r) => r.label);
  const cut = Math.floor(rows.length * (1 - (o.holdoutShare ?? 0.25)));
  const [xTrain, yTrain, xHold, yHold] = [x.slice(0, cut), y.slice(0, cut), x.slice(cut), y.slice(cut)];
  await record("data", { labelled: rows.length, train: xTrain.length, holdout: xHold.length });

  const net = await trainModel(kind, xTrain, yTrain, o.train);
  const candidateScore = score(kind, yHold, predictRows(net, xHold));
  const currentScore = score(kind, yHold, predictRows(served.net, xHold));
  const metric = kind === "classifier" ? "roc_auc" : "mae";
  const better = metric === "mae" ? candidateScore < currentScore : candidateScore > currentScore;
  await record("evaluated", {
    metric,
    candidate: candidateScore,
    current: currentScore,
    currentVersion: current.version,
  });

  const { run, version } = await logModel(o.mlflow, {
    name: o.model,
    net,
    meta: served.meta,
    runName: `retrain-${new Date().toISOString()}`,
    params: { trigger: o.reason ?? "manual", train_rows: xTrain.length, holdout_rows: xHold.length, ...o.train },
    metrics: { [`holdout_${metric}`]: candidateScore, [`holdout_${metric}_current`]: currentScore },
    tags: { "mercury.retrain.of": current.version },
  });
  await record("registered", { version: version.version, runId: run.runId });

  if (better) {
    await o.mlflow.setAlias(o.model, alias, version.version);
    await o.mlflow.setVersionTag(o.model, version.version, "mercury.decision", "promoted");
    await record("promoted", { version: version.version, alias, replaced: current.version });
  } else {
    await o.mlflow.setVersionTag(o.model, version.version, "mercury.decision", "kept current");
    await record("not_promoted", { version: version.version, kept: current.version });
  }
  return {
    model: o.model,
    trainedOn: xTrain.length,
    holdout: xHold.length,
    metric,
    candidate: { version: version.version, score: candidateScore, runId: run.runId },
    current: { version: current.version, score: currentScore },
    promoted: better,
    steps,
  };
}
