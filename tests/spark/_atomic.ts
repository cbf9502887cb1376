/**
 * The staged-write check shared by the local, HDFS and S3 tests: a job that
 * fails part-way (some tasks have written their files, one raises) must leave
 * the old output whole and no staging folder behind; a job that succeeds
 * replaces it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { atomicWrite, type SparkSession, tableRows } from "@mercury/spark";

/**
 * Runs the check on `output`; `siblings()` lists the names next to the output (its parent folder), to find
 * leftovers such as `events.staging-…` or `events.old-…`.
 */
export async function checkStagedWrite(
  spark: SparkSession,
  output: string,
  siblings: () => Promise<string[]>,
): Promise<void> {
  const name = output.replace(/\/+$/, "").replace(/^.*\//, "");
  const leftovers = async () => (await siblings()).filter((s) => s !== name && s.startsWith(name));
  await atomicWrite(await spark.sql("SELECT id, id * 2 AS v FROM range(0, 1000, 1, 4)"), output, "parquet", []);
  assert.equal(await spark.read.parquet(output).count(), 1000);

  // Four tasks; the one holding id 900 raises, the others finish and write their files.
  const failing = await spark.sql(
    "SELECT id, CASE WHEN id = 900 THEN CAST(raise_error('planted failure') AS BIGINT) ELSE id * 2 END AS v " +
      "FROM range(0, 2000, 1, 4)",
  );
  await assert.rejects(() => atomicWrite(failing, output, "parquet", []), /planted failure/);
  assert.equal(await spark.read.parquet(output).count(), 1000, "the failed job changed the old output");
  assert.deepEqual(await leftovers(), [], "the failed job left a staging folder");

  await atomicWrite(await spark.sql("SELECT id, id * 3 AS v FROM range(0, 500, 1, 2)"), output, "parquet", []);
  const rows = await spark.sql(`SELECT count(*) AS n, sum(v) AS s FROM parquet.\`${output}\``);
  const [row] = tableRows(await rows.toArrow());
  assert.equal(Number(row!.n), 500, "the new output did not replace the old one");
  assert.equal(Number(row!.s), 3 * (499 * 500) / 2);
  assert.deepEqual(await leftovers(), [], "publishing left a staging or old folder");
}
