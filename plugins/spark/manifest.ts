/**
 * The spark plugin's manifest: commands, options and help only. Each
 * command loads its implementation from `./commands/` on first run.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/spark/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "spark");
 * assert.deepEqual(manifest.services, ["spark", "postgres", "mlflow"]);
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What `deno task mercury` knows about the spark plugin. */
export const manifest = definePlugin({
  name: "spark",
  title: "Spark",
  version: "0.1.0",
  description: "Apache Spark from Deno: a Spark Connect client, partitioned lake ETL, job analysis and cost",
  // PostgreSQL stores the lineage events (`spark lineage`); MLflow takes the models of `spark train`.
  services: ["spark", "postgres", "mlflow"],
  notebook: "notebooks/08-spark.ipynb",
  commands: {
    sql: {
      summary: "run SQL on the Spark cluster and print the result",
      usage: "<query>",
      options: {
        timeout: { type: "int", min: 1, value: "SEC", description: "interrupt the query after this many seconds" },
        "max-rows": { type: "int", min: 1, description: "rows printed", default: 20 },
      },
      run: lazyRun(() => import("./commands/sql.ts"), "sqlCommand"),
    },
    generate: {
      summary: "write raw events (JSON lines) and a products dimension (Parquet), computed on the cluster",
      options: {
        output: {
          type: "string",
          value: "DIR",
          description: "folder of the raw events",
          default: ".mercury/spark/data/raw",
        },
        rows: { type: "int", min: 1, description: "events", default: 1_000_000 },
        days: { type: "int", min: 1, max: 3650, description: "days of events", default: 30 },
      },
      run: lazyRun(() => import("./commands/process.ts"), "generate"),
    },
    process: {
      summary: "clean, enrich (broadcast join), aggregate and write raw events partitioned by date, region, category",
      options: {
        input: {
          type: "string",
          value: "PATH",
          description: "raw events (JSON lines): a path, hdfs:// or s3a:// URI",
          default: ".mercury/spark/data/raw",
        },
        products: {
          type: "string",
          value: "PATH",
          description: "products dimension (Parquet); default <input>-products",
        },
        output: { type: "string", value: "PATH", description: "the lake table", default: ".mercury/spark/data/events" },
        partitions: { type: "int", min: 1, max: 100_000, description: "shuffle partitions of the job", default: 500 },
        format: { type: "enum", choices: ["parquet", "delta"], description: "table format", default: "parquet" },
        strategy: {
          type: "enum",
          choices: ["none", "by-columns", "fixed"],
          description: "file layout: as tasks fall, one file per folder, or --partitions hash partitions",
          default: "by-columns",
        },
        compare: {
          type: "boolean",
          description: "run every strategy (into <output>-<strategy>) and compare files and a query",
        },
        "no-broadcast": { type: "boolean", description: "join the dimension with a sort-merge join instead" },
        udf: {
          type: "enum",
          choices: ["zscore"],
          description: "add a vectorised Python UDF step: zscore = robust z-score of amount per category (pandas UDF)",
        },
      },
      run: lazyRun(() => import("./commands/process.ts"), "processCommand"),
    },
    tune: {
      summary:
        "measure join strategies, AQE skew joins, salting, AQE coalescing and spill (1 vs 16 partitions), with advice",
      options: {
        rows: { type: "int", min: 1000, description: "fact rows (70 % on one key)", default: 1_000_000 },
        only: { type: "list", value: "EXPS", description: "join, aqe, salting, coalesce, spill (default all)" },
        "spill-mb": {
          type: "int",
          min: 1,
          value: "MB",
          description: "data the spill experiment sorts (default 768, over a 1 GB executor's memory)",
        },
        rest: { type: "string", value: "URL", description: "Spark REST API base (default from services.json)" },
      },
      run: lazyRun(() => import("./commands/tune.ts"), "tune"),
    },
    analyze: {
      summary: "time split, skew, heuristics, what-if and cost of an application from Spark's REST API or event log",
      options: {
        "job-id": {
          type: "string",
          value: "APP",
          description: "application id (app-…), live or from its event log; default the first listed",
        },
        "event-log": {
          type: "string",
          value: "PATH",
          description: "analyse this event log (file or eventlog_v2_… folder)",
        },
        tag: { type: "string", description: "only jobs whose Spark job tags contain this" },
        jobs: { type: "list", value: "IDS", description: "only these job ids" },
        html: { type: "string", value: "FILE", description: "write the HTML report here" },
        rest: { type: "string", value: "URL", description: "Spark REST API base (default from services.json)" },
        list: { type: "boolean", description: "list applications and exit" },
        "price-core": { type: "number", min: 0, description: "price per core-hour" },
        "price-gb": { type: "number", min: 0, description: "price per GB-hour" },
      },
      run: lazyRun(() => import("./commands/analyze.ts"), "analyzeCommand"),
    },
    train: {
      summary: "train a cross-validated Spark ML classifier on the cluster, log it to MLflow and register a version",
      options: {
        input: { type: "string", value: "PATH", description: "training data (Parquet by default; see --format)" },
        format: {
          type: "enum",
          choices: ["parquet", "csv", "json", "delta"],
          description: "--input format",
          default: "parquet",
        },
        sql: { type: "string", value: "QUERY", description: "training data from a Spark SQL query instead" },
        synthetic: {
          type: "int",
          min: 10,
          value: "ROWS",
          description: "a separable synthetic set (x1, x2, x3, label)",
        },
        label: { type: "string", description: "label column (0/1)", default: "label" },
        features: {
          type: "list",
          value: "COLS",
          description: "feature columns (default every numeric one but the label)",
        },
        classifier: {
          type: "enum",
          choices: ["logistic", "random-forest"],
          description: "the model",
          default: "logistic",
        },
        grid: { type: "string", value: "GRID", description: `parameter grid, e.g. "regParam=0.001,0.1;maxIter=50"` },
        folds: { type: "int", min: 2, max: 20, description: "cross-validation folds", default: 3 },
        seed: { type: "int", description: "fold assignment seed", default: 42 },
        "model-name": {
          type: "string",
          value: "NAME",
          description: "registered model name",
          default: "spark-classifier",
        },
        experiment: { type: "string", value: "NAME", description: "MLflow experiment", default: "spark-ml" },
        "save-dir": { type: "string", value: "DIR", description: "keep the saved Spark ML stages here" },
        "no-mlflow": { type: "boolean", description: "train and print only" },
        timeout: { type: "int", min: 1, value: "SEC", description: "interrupt each Spark operation after this" },
      },
      run: lazyRun(() => import("./commands/train.ts"), "trainCommand"),
    },
    lineage: {
      summary: "collect OpenLineage events from the Spark listener (HTTP), store them in PostgreSQL, draw the graph",
      options: {
        port: {
          type: "int",
          min: 0,
          max: 65535,
          description: "collector port (default DEFAULT_PORTS.sparkLineage, 55003)",
        },
        graph: { type: "string", value: "FILE", description: "write the lineage graph as SVG and exit (no collector)" },
        features: {
          type: "string",
          value: "PROJECT[:ENV]",
          description: "with --graph: join this feature store project's lineage (views reading Spark outputs)",
        },
        limit: { type: "int", min: 1, description: "newest runs in the graph", default: 200 },
      },
      run: lazyRun(() => import("./commands/lineage.ts"), "lineageCommand"),
    },
  },
});
