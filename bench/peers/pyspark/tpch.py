"""PySpark (Spark Connect) peer of bench/spark_bench.ts.

A line protocol on stdin/stdout so one warm session serves the whole run:
first line {"remote", "tables": {name: parquet path}}; then one JSON command per
line, answered by one JSON line:
  {"query": sql, "runs": n, "warm": true} -> {"ms": [...], "rows": r}   (df.toArrow(), after one warm-up unless
                                   "warm" is false)
  {"transfer": sql, "setup": sql?, "runs": n} -> {"pandas_ms": [...], "arrow_ms": [...], "rows": r}
Runs against the same Connect server as the Deno client, in the same benchmark run.
"""
import json
import sys
import time

from pyspark.sql import SparkSession

setup = json.loads(sys.stdin.readline())
spark = SparkSession.builder.remote(setup["remote"]).getOrCreate()
for name, path in setup["tables"].items():
    spark.read.parquet(path).createOrReplaceTempView(name)
print(json.dumps({"ready": True, "spark_version": spark.version}), flush=True)

for line in sys.stdin:
    cmd = json.loads(line)
    if "query" in cmd:
        if cmd.get("warm", True):
            spark.sql(cmd["query"]).toArrow()  # warm-up, as the Deno side does
        times, rows = [], 0
        for _ in range(cmd["runs"]):
            t0 = time.perf_counter()
            t = spark.sql(cmd["query"]).toArrow()
            times.append((time.perf_counter() - t0) * 1000)
            rows = t.num_rows
        print(json.dumps({"ms": times, "rows": rows}), flush=True)
    elif "transfer" in cmd:
        if cmd.get("setup"):
            spark.sql(cmd["setup"])  # CACHE TABLE …: the same plan reuses the cluster's cached data
        pandas_ms, arrow_ms, rows = [], [], 0
        for _ in range(cmd["runs"]):
            t0 = time.perf_counter()
            pdf = spark.sql(cmd["transfer"]).toPandas()
            pandas_ms.append((time.perf_counter() - t0) * 1000)
            rows = len(pdf)
            t0 = time.perf_counter()
            spark.sql(cmd["transfer"]).toArrow()
            arrow_ms.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"pandas_ms": pandas_ms, "arrow_ms": arrow_ms, "rows": rows}), flush=True)
spark.stop()
