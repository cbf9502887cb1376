"""A small Spark job for the lineage test: reads a Parquet file, writes another.

Runs in local mode with the OpenLineage listener posting to the collector URL
given on the command line: python lineage_job.py JAR URL IN OUT
"""
import sys

from pyspark.sql import SparkSession

jar, url, src, dst = sys.argv[1:5]
spark = (
    SparkSession.builder.master("local[1]")
    .appName("mercury_lineage_test")
    .config("spark.jars", jar)
    .config("spark.extraListeners", "io.openlineage.spark.agent.OpenLineageSparkListener")
    .config("spark.openlineage.namespace", "mercury")
    .config("spark.openlineage.transport.type", "http")
    .config("spark.openlineage.transport.url", url)
    .config("spark.openlineage.transport.endpoint", "/api/v1/lineage")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "1")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
(
    spark.read.parquet(src)
    .selectExpr("user_id", "amount * 2 AS doubled")
    .groupBy("user_id")
    .agg({"doubled": "sum"})
    .withColumnRenamed("sum(doubled)", "total")
    .write.mode("overwrite")
    .parquet(dst)
)
spark.stop()
