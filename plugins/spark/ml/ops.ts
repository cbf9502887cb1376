/**
 * Spark ML through Spark Connect's own ML protocol (`MlCommand` and
 * `MlRelation` in Spark 4's `ml.proto`/`relations.proto`): estimators are fitted
 * on the cluster and stay there as server-side objects the client holds by
 * reference (`ModelRef`), transformers and models run as relations, evaluators
 * answer one number. This is what PySpark's `pyspark.ml` does over Connect;
 * Spark's ML classes are named by their JVM class name.
 *
 * @example
 * ```ts ignore
 * import { SparkSession } from "@mercury/spark";
 * import { evaluate, fit, transform } from "@mercury/spark/ml";
 * const spark = await SparkSession.connect();
 * const data = transform(spark.sql("SELECT …"), "org.apache.spark.ml.feature.VectorAssembler", {
 *   inputCols: ["x1", "x2"],
 *   outputCol: "features",
 * });
 * const model = await fit(data, "org.apache.spark.ml.classification.LogisticRegression", { regParam: 0.01 });
 * const auc = await evaluate(model.transform(data), "org.apache.spark.ml.evaluation.BinaryClassificationEvaluator", {});
 * await model.release();
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { DataFrame, type Relation } from "../connect/dataframe.ts";
import type { ExecOptions } from "../connect/session.ts";

/** A parameter value: numbers with a fraction become doubles, whole numbers ints (wrap with {@linkcode double}). */
export type MlParamValue = string | number | boolean | string[] | number[] | { double: number };

/** Parameters of an ML stage by Spark's param name (`inputCols`, `regParam`, …). */
export type MlParams = Record<string, MlParamValue>;

/** Marks a whole number as a Spark `DoubleParam` value (`double(1)` is 1.0, not 1). */
export function double(x: number): { double: number } {
  return { double: x };
}

/** One param value as a Spark Connect `Expression.Literal`. */
export function paramLiteral(v: MlParamValue): Record<string, unknown> {
  if (typeof v === "string") return { string: v };
  if (typeof v === "boolean") return { boolean: v };
  if (typeof v === "number") return Number.isInteger(v) ? { integer: v } : { double: v };
  if (Array.isArray(v)) {
    const strings = v.every((x) => typeof x === "string");
    return {
      array: {
        element_type: strings ? { string: {} } : { double: {} },
        elements: v.map((x) => (strings ? { string: x } : { double: x })),
      },
    };
  }
  return { double: v.double };
}

function mlParams(params: MlParams): Record<string, unknown> {
  return { params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, paramLiteral(v)])) };
}

let uidSeq = 0;
function operator(name: string, type: string): Record<string, unknown> {
  const short = name.slice(name.lastIndexOf(".") + 1);
  return { name, uid: `${short}_mercury_${Date.now().toString(36)}${(++uidSeq).toString(36)}`, type };
}

/** A model fitted on the cluster, held there until {@linkcode ModelRef.release}. */
export class ModelRef {
  constructor(readonly df: DataFrame, readonly id: string, readonly estimator: string) {}

  /** The model applied to `data` (lazy, like any DataFrame). */
  transform(data: DataFrame, params: MlParams = {}): DataFrame {
    return new DataFrame(data.session, {
      ml_relation: { transform: { obj_ref: { id: this.id }, input: data.plan, params: mlParams(params) } },
    } as Relation);
  }

  /** Saves the model in Spark ML's format (`Model.write().save(path)`) on the server's file system. */
  async save(path: string, options: ExecOptions = {}): Promise<void> {
    await this.df.session.execute({
      command: { ml_command: { write: { obj_ref: { id: this.id }, path, should_overwrite: true } } },
    }, { what: `save model to ${path}`, ...options });
  }

  /** A model attribute by method name (`coefficients`, `intercept`, `numFeatures`…) as Spark's literal. */
  async attribute(method: string, options: ExecOptions = {}): Promise<Record<string, unknown>> {
    const r = await this.df.session.execute({
      command: { ml_command: { fetch: { obj_ref: { id: this.id }, methods: [{ method }] } } },
    }, { what: `model.${method}`, ...options });
    return (r.mlResult?.param ?? {}) as Record<string, unknown>;
  }

  /** Frees the model on the server. */
  async release(): Promise<void> {
    await this.df.session.execute({ command: { ml_command: { delete: { obj_refs: [{ id: this.id }] } } } }, {
      what: "release model",
    }).catch(() => {});
  }
}

/** A transformer (`VectorAssembler`, `StandardScaler` model-free stages…) applied to `data`, lazily. */
export function transform(data: DataFrame, transformer: string, params: MlParams): DataFrame {
  return new DataFrame(data.session, {
    ml_relation: {
      transform: {
        transformer: operator(transformer, "OPERATOR_TYPE_TRANSFORMER"),
        input: data.plan,
        params: mlParams(params),
      },
    },
  } as Relation);
}

/** Fits `estimator` (a Spark ML class name) on `data`; the model stays on the cluster. */
export async function fit(
  data: DataFrame,
  estimator: string,
  params: MlParams,
  options: ExecOptions = {},
): Promise<ModelRef> {
  const r = await data.session.execute({
    command: {
      ml_command: {
        fit: {
          estimator: operator(estimator, "OPERATOR_TYPE_ESTIMATOR"),
          params: mlParams(params),
          dataset: data.plan,
        },
      },
    },
  }, { what: `fit ${estimator.slice(estimator.lastIndexOf(".") + 1)}`, ...options });
  const info = r.mlResult?.operator_info as { obj_ref?: { id: string } } | undefined;
  if (!info?.obj_ref?.id) {
    throw new MercuryError("unavailable", `Spark answered the fit of ${estimator} without a model reference`, {
      where: data.session.remote,
      hint: "the server needs Spark 4's Connect ML support (spark.connect ml commands)",
    });
  }
  return new ModelRef(data, info.obj_ref.id, estimator);
}

/** Runs an evaluator (`BinaryClassificationEvaluator`, `MulticlassClassificationEvaluator`) on `data`. */
export async function evaluate(
  data: DataFrame,
  evaluator: string,
  params: MlParams,
  options: ExecOptions = {},
): Promise<number> {
  const r = await data.session.execute({
    command: {
      ml_command: {
        evaluate: {
          evaluator: operator(evaluator, "OPERATOR_TYPE_EVALUATOR"),
          params: mlParams(params),
          dataset: data.plan,
        },
      },
    },
  }, { what: `evaluate ${evaluator.slice(evaluator.lastIndexOf(".") + 1)}`, ...options });
  const lit = r.mlResult?.param as { double?: number; float?: number } | undefined;
  const v = lit?.double ?? lit?.float;
  if (typeof v !== "number") {
    throw new MercuryError("unavailable", `Spark answered the ${evaluator} evaluation without a number`, {
      where: data.session.remote,
    });
  }
  return v;
}

/** Saves a stage that has no fitted state (a transformer with its params) in Spark ML's format. */
export async function saveStage(
  data: DataFrame,
  transformer: string,
  params: MlParams,
  path: string,
  options: ExecOptions = {},
): Promise<void> {
  await data.session.execute({
    command: {
      ml_command: {
        write: {
          operator: operator(transformer, "OPERATOR_TYPE_TRANSFORMER"),
          params: mlParams(params),
          path,
          should_overwrite: true,
        },
      },
    },
  }, { what: `save ${transformer} to ${path}`, ...options });
}
