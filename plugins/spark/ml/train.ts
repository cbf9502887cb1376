/**
 * A Spark ML classification pipeline trained on the cluster through Spark
 * Connect: `VectorAssembler` → a classifier (`LogisticRegression` or
 * `RandomForestClassifier`) → k-fold cross-validation over a small parameter
 * grid, scored by `BinaryClassificationEvaluator` (area under ROC) and
 * `MulticlassClassificationEvaluator` (accuracy) per fold, then the best
 * parameters refitted on all rows. Every fit and evaluation runs on the
 * executors; the client only sends plans and reads numbers back. The loop over
 * folds is the client's, as in PySpark's `CrossValidator` over Connect.
 *
 * @example
 * ```ts ignore
 * import { SparkSession } from "@mercury/spark";
 * import { syntheticClassification, trainClassifier } from "@mercury/spark/ml";
 * const spark = await SparkSession.connect();
 * const data = syntheticClassification(spark, { rows: 2000 });
 * const r = await trainClassifier(data, { label: "label", folds: 3 });
 * console.log(r.best.params, r.best.auc);
 * await r.model.release();
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { DataFrame } from "../connect/dataframe.ts";
import type { ExecOptions, SparkSession } from "../connect/session.ts";
import { double, evaluate, fit, type MlParams, type MlParamValue, type ModelRef, transform } from "./ops.ts";

/** The classifiers `spark train` offers, by CLI name. */
export const CLASSIFIERS = {
  logistic: {
    estimator: "org.apache.spark.ml.classification.LogisticRegression",
    defaults: { maxIter: 50 } as MlParams,
    grid: { regParam: [0.001, 0.1] } as Record<string, MlParamValue[]>,
    doubles: new Set(["regParam", "elasticNetParam", "tol", "threshold"]),
  },
  "random-forest": {
    estimator: "org.apache.spark.ml.classification.RandomForestClassifier",
    defaults: { seed: 7 } as MlParams,
    grid: { numTrees: [10, 30] } as Record<string, MlParamValue[]>,
    doubles: new Set(["subsamplingRate", "minInfoGain", "minWeightFractionPerNode"]),
  },
} as const;

/** A classifier name of {@linkcode CLASSIFIERS}. */
export type ClassifierName = keyof typeof CLASSIFIERS;

const ASSEMBLER = "org.apache.spark.ml.feature.VectorAssembler";
const BINARY_EVAL = "org.apache.spark.ml.evaluation.BinaryClassificationEvaluator";
const MULTI_EVAL = "org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator";

/** Options of {@linkcode trainClassifier}. */
export interface TrainOptions extends ExecOptions {
  /** The label column (0/1 or boolean). */
  label: string;
  /** Feature columns (default: every numeric column except the label). */
  features?: string[];
  classifier?: ClassifierName;
  /** Parameter grid: each combination is cross-validated (default the classifier's). */
  grid?: Record<string, MlParamValue[]>;
  /** Folds of the cross-validation (default 3). */
  folds?: number;
  seed?: number;
  /** Where `label`/`features` came from, for error messages. */
  source?: string;
}

/** One fold of one parameter combination. */
export interface FoldScore {
  combination: number;
  fold: number;
  auc: number;
  accuracy: number;
}

/** What {@linkcode trainClassifier} returns. */
export interface TrainResult {
  classifier: ClassifierName;
  estimator: string;
  label: string;
  features: string[];
  rows: number;
  folds: number;
  /** Every parameter combination tried, with its mean scores. */
  combinations: { params: MlParams; auc: number; accuracy: number }[];
  scores: FoldScore[];
  best: { params: MlParams; auc: number; accuracy: number };
  /** The best parameters refitted on all rows, held on the cluster. */
  model: ModelRef;
  /** The assembler's parameters (to save it beside the model). */
  assembler: MlParams;
  seconds: number;
}

const NUMERIC = /^(byte|short|int|integer|long|bigint|float|double|decimal.*|boolean)$/i;

/** Names and Spark types of `df`'s columns (an empty Arrow result carries the schema). */
async function columnsOf(df: DataFrame, options: ExecOptions): Promise<Map<string, string>> {
  const t = await df.limit(0).toArrow(options);
  return new Map(t.schema.fields.map((f) => [f.name, String(f.type)]));
}

function arrowNumeric(type: string): boolean {
  return /^(u?int\d*|float\d*|double|decimal.*|bool)/i.test(type) || NUMERIC.test(type);
}

/** Every combination of a grid (`{a: [1, 2], b: [3]}` → `[{a: 1, b: 3}, {a: 2, b: 3}]`). */
export function gridCombinations(grid: Record<string, MlParamValue[]>): MlParams[] {
  let out: MlParams[] = [{}];
  for (const [k, values] of Object.entries(grid)) {
    if (values.length === 0) continue;
    out = out.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  }
  return out;
}

/**
 * Parses `--grid "regParam=0.01,0.1;maxIter=10,20"` into a grid.
 *
 * @example Parse a grid
 * ```ts
 * import { parseGrid } from "@mercury/spark/ml";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseGrid("regParam=0.01,0.1;maxIter=10"), { regParam: [0.01, 0.1], maxIter: [10] });
 * assert.throws(() => parseGrid("regParam"), /--grid/);
 * ```
 */
export function parseGrid(text: string): Record<string, MlParamValue[]> {
  const grid: Record<string, MlParamValue[]> = {};
  for (const part of text.split(";").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.+)$/.exec(part);
    if (!m) {
      throw new MercuryError("usage", `cannot read "${part}" in --grid`, {
        where: "--grid",
        hint: `write name=value,value;name=value, e.g. "regParam=0.01,0.1;maxIter=20"`,
      });
    }
    grid[m[1]!] = m[2]!.split(",").map((v) => v.trim()).map((v) =>
      v === "true" || v === "false" ? v === "true" : Number.isFinite(Number(v)) && v !== "" ? Number(v) : v
    );
  }
  return grid;
}

function typed(params: MlParams, doubles: ReadonlySet<string>): MlParams {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, typeof v === "number" && doubles.has(k) ? double(v) : v]),
  );
}

/** Trains and cross-validates a classifier on `data` (see the module doc). */
export async function trainClassifier(data: DataFrame, options: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const classifier = options.classifier ?? "logistic";
  const spec = CLASSIFIERS[classifier];
  if (!spec) {
    throw new MercuryError("usage", `unknown classifier "${classifier}"`, {
      where: "--classifier",
      hint: `one of ${Object.keys(CLASSIFIERS).join(", ")}`,
    });
  }
  const folds = options.folds ?? 3;
  if (!Number.isInteger(folds) || folds < 2) {
    throw new MercuryError("usage", `--folds must be a whole number of at least 2, got ${folds}`, { where: "--folds" });
  }
  const seed = options.seed ?? 42;
  const where = options.source ?? "the training data";
  const exec: ExecOptions = { signal: options.signal, timeoutMs: options.timeoutMs, tags: options.tags };

  const cols = await columnsOf(data, exec);
  const names = [...cols.keys()];
  const labelType = cols.get(options.label);
  if (labelType === undefined) {
    throw new MercuryError("usage", `label column "${options.label}" is not in ${where}`, {
      where: "--label",
      hint: `its columns: ${names.join(", ")}`,
    });
  }
  if (!arrowNumeric(labelType)) {
    throw new MercuryError("usage", `label column "${options.label}" is ${labelType}, not 0/1 numbers`, {
      where: "--label",
      hint: "cast it to 0/1 first (e.g. --sql with CASE WHEN … THEN 1 ELSE 0 END)",
    });
  }
  const features = options.features ??
    names.filter((n) => n !== options.label && arrowNumeric(cols.get(n)!) && n !== "id");
  for (const f of features) {
    if (!cols.has(f)) {
      throw new MercuryError("usage", `feature column "${f}" is not in ${where}`, {
        where: "--features",
        hint: `its columns: ${names.join(", ")}`,
      });
    }
    if (!arrowNumeric(cols.get(f)!)) {
      throw new MercuryError("usage", `feature column "${f}" is ${cols.get(f)}, not numeric`, {
        where: "--features",
        hint: "encode it first (or leave it out of --features)",
      });
    }
  }
  if (features.length === 0) {
    throw new MercuryError("usage", `no numeric feature columns in ${where}`, {
      where: "--features",
      hint: `name them with --features; columns: ${names.join(", ")}`,
    });
  }

  // The label as a double and a fold number per row, computed once and cached on the executors.
  const assembler: MlParams = { inputCols: features, outputCol: "features", handleInvalid: "skip" };
  const prepared = await transform(
    data.withColumns({
      __label: `CAST(\`${options.label.replaceAll("`", "``")}\` AS DOUBLE)`,
      __fold: `CAST(floor(rand(${seed}) * ${folds}) AS INT)`,
    }).filter("__label IS NOT NULL"),
    ASSEMBLER,
    assembler,
  ).cache();
  try {
    const rows = await prepared.count(exec);
    const labels = (await prepared.groupBy("__label").count().collect(exec)).map((r) => Number(r.__label));
    if (labels.length !== 2 || !labels.every((l) => l === 0 || l === 1)) {
      throw new MercuryError("usage", `label column "${options.label}" must hold 0 and 1, found ${labels.join(", ")}`, {
        where: "--label",
        hint: "a binary classifier needs both classes as 0/1",
      });
    }
    const combos = gridCombinations(options.grid ?? spec.grid);
    const fixed = { ...spec.defaults, labelCol: "__label", featuresCol: "features" };
    const scores: FoldScore[] = [];
    for (const [ci, combo] of combos.entries()) {
      for (let k = 0; k < folds; k++) {
        const model = await fit(
          prepared.filter(`__fold <> ${k}`),
          spec.estimator,
          typed({ ...fixed, ...combo }, spec.doubles),
          exec,
        );
        try {
          const pred = model.transform(prepared.filter(`__fold = ${k}`));
          const auc = await evaluate(pred, BINARY_EVAL, { labelCol: "__label", metricName: "areaUnderROC" }, exec);
          const accuracy = await evaluate(pred, MULTI_EVAL, { labelCol: "__label", metricName: "accuracy" }, exec);
          scores.push({ combination: ci, fold: k, auc, accuracy });
        } finally {
          await model.release();
        }
      }
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const combinations = combos.map((params, ci) => {
      const mine = scores.filter((s) => s.combination === ci);
      return { params, auc: mean(mine.map((s) => s.auc)), accuracy: mean(mine.map((s) => s.accuracy)) };
    });
    const best = combinations.reduce((a, b) => (b.auc > a.auc ? b : a));
    const model = await fit(prepared, spec.estimator, typed({ ...fixed, ...best.params }, spec.doubles), exec);
    return {
      classifier,
      estimator: spec.estimator,
      label: options.label,
      features,
      rows,
      folds,
      combinations,
      scores,
      best,
      model,
      assembler,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await prepared.unpersist().catch(() => {});
  }
}

/**
 * A separable synthetic binary set on the cluster: `x1`, `x2` (informative,
 * normal), `x3` (noise) and `label` = 1 when `2·x1 − x2 + noise > 0`; the
 * Bayes AUC is about 0.97.
 */
export function syntheticClassification(
  spark: SparkSession,
  options: { rows?: number; seed?: number; partitions?: number } = {},
): DataFrame {
  const seed = options.seed ?? 1;
  return spark.range(0, options.rows ?? 2000, 1, options.partitions ?? 2).selectExpr(
    "id",
    `randn(${seed}) AS x1`,
    `randn(${seed + 1}) AS x2`,
    `randn(${seed + 2}) AS x3`,
    `CASE WHEN 2 * randn(${seed}) - randn(${seed + 1}) + 0.5 * randn(${seed + 3}) > 0 THEN 1 ELSE 0 END AS label`,
  );
}
