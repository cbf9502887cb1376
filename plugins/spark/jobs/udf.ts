/**
 * Vectorised (Arrow-based) Python UDFs in a job built from Deno: a grouped-map
 * pandas UDF (PySpark's `groupBy(…).applyInPandas`) sent as a Spark Connect
 * `GroupMap` relation. The executors run it in the cluster's Python (the venv
 * `.mercury/spark/venv`, `spark.pyspark.python`), rows travel to it as Arrow
 * batches, one group at a time.
 *
 * The UDF's `command` is what PySpark's Connect client sends: a cloudpickle of
 * `(function, output type)`. Only Python can write it, so
 * `udfs/pickle_udf.py` does, run once per job by the same interpreter the
 * executors use (the pickle and `python_ver` must match theirs;
 * `MERCURY_SPARK_PYTHON` names another). The function's module is pickled by
 * value, so the executors need no copy of it.
 *
 * {@linkcode robustZScore} is the step `spark process --udf zscore` adds: a
 * robust z-score of a column per group, `(x − median) / (1.4826 · MAD)`, which
 * no Spark built-in computes per row (the exact median per group is an
 * aggregate; joining it back and taking a second median of deviations is two
 * more shuffles).
 *
 * @example
 * ```ts
 * import { udfPython } from "@mercury/spark";
 * import assert from "node:assert/strict";
 *
 * assert.match(udfPython(), /python/);
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { MercuryError, projectRoot, stateDir } from "@mercury/core";
import { col } from "../connect/column.ts";
import { DataFrame } from "../connect/dataframe.ts";

/** PySpark's `PythonEvalType.SQL_GROUPED_MAP_PANDAS_UDF`. */
const SQL_GROUPED_MAP_PANDAS_UDF = 201;

/** A grouped-map pandas UDF: a factory in a Python file that returns `f(pandas.DataFrame) -> pandas.DataFrame`. */
export interface GroupedMapUdf {
  /** The Python file defining the factory. */
  file: string;
  /** The factory's name; it is called with `args` and returns the UDF. */
  factory: string;
  args?: unknown[];
  /** Columns the UDF appends to its input's (name and Spark type name, e.g. `double`). */
  addFields: { name: string; type: string }[];
}

/** The Python that pickles UDFs: `MERCURY_SPARK_PYTHON`, else the cluster's venv. */
export function udfPython(): string {
  return Deno.env.get("MERCURY_SPARK_PYTHON") ?? `${stateDir(projectRoot())}/spark/venv/bin/python`;
}

const HELPER = new URL("./udfs/pickle_udf.py", import.meta.url).pathname;

async function pickle(req: Record<string, unknown>): Promise<Record<string, unknown>> {
  const python = udfPython();
  let out: Deno.CommandOutput;
  try {
    const child = new Deno.Command(python, { args: [HELPER], stdin: "piped", stdout: "piped", stderr: "piped" })
      .spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(req)));
    await w.close();
    out = await child.output();
  } catch (err) {
    throw new MercuryError("unavailable", `cannot run ${python} to pickle a Python UDF: ${(err as Error).message}`, {
      where: python,
      hint:
        "start the cluster once with `deno task services up spark` (it makes the venv), or set MERCURY_SPARK_PYTHON",
      cause: err,
    });
  }
  if (!out.success) {
    const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
    throw new MercuryError("input", `cannot pickle the UDF in ${req.file}: ${lines.at(-1)}`, {
      where: String(req.file),
      hint: "the factory must exist and return a function of one pandas DataFrame",
    });
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/**
 * `df.groupBy(...groupBy).applyInPandas(udf, schema)`: the UDF gets each
 * group as a pandas DataFrame of all of `df`'s columns and returns it with
 * `udf.addFields` appended.
 */
export async function applyInPandas(df: DataFrame, groupBy: string[], udf: GroupedMapUdf): Promise<DataFrame> {
  const r = await df.session.analyze({ schema: { plan: { root: df.plan } } }, "schema");
  const schema = r.schema?.schema as { struct?: { fields?: { name: string }[] } } | undefined;
  const columns = schema?.struct?.fields?.map((f) => f.name) ?? [];
  for (const g of groupBy) {
    if (!columns.includes(g)) {
      throw new MercuryError("usage", `cannot group by "${g}": the input has ${columns.join(", ")}`, {
        where: "groupBy",
      });
    }
  }
  const p = await pickle({
    file: udf.file,
    factory: udf.factory,
    args: udf.args ?? [],
    input_schema: schema,
    add_fields: udf.addFields,
  });
  return new DataFrame(df.session, {
    group_map: {
      input: df.plan,
      grouping_expressions: groupBy.map((g) => col(g).expr),
      func: {
        function_name: udf.factory,
        deterministic: true,
        arguments: columns.map((c) => col(c).expr),
        python_udf: {
          output_type: p.output_type,
          eval_type: SQL_GROUPED_MAP_PANDAS_UDF,
          command: Buffer.from(String(p.command), "base64"),
          python_ver: p.python_ver,
        },
      },
    },
  });
}

/** Options of {@linkcode robustZScore}. */
export interface ZScoreOptions {
  /** Groups (default `["category"]`). */
  groupBy?: string[];
  /** The numeric column (default `amount`). */
  column?: string;
  /** The new column (default `<column>_robust_z`). */
  output?: string;
}

/** Appends a robust z-score of `column` per group, computed by a pandas UDF on the executors. */
export async function robustZScore(df: DataFrame, o: ZScoreOptions = {}): Promise<DataFrame> {
  const column = o.column ?? "amount";
  return await applyInPandas(df, o.groupBy ?? ["category"], {
    file: new URL("./udfs/zscore.py", import.meta.url).pathname,
    factory: "make",
    args: [column, o.output ?? `${column}_robust_z`],
    addFields: [{ name: o.output ?? `${column}_robust_z`, type: "double" }],
  });
}
