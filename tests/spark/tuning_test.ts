/**
 * `tuningExperiments` (what `spark tune` runs) on the real cluster, small: each variant runs as a tagged job and is read
 * back from Spark's REST API by its tag, so the figures are measured. Checked on what does not depend on the machine's
 * load: shuffle bytes, stage counts and the data skew of the stages read.
 */
import assert from "node:assert/strict";
import { SparkSession, tuningExperiments } from "@mercury/spark";
import { restBase } from "../../plugins/spark/commands/analyze.ts";

Deno.test("spark tune: join strategies, AQE, salting, coalescing and spill measured from the REST API by tag", async () => {
  await using spark = await SparkSession.connect();
  const variants = await tuningExperiments(spark, restBase(), 200_000);
  const v = (experiment: string, variant: string) => {
    const found = variants.find((x) => x.experiment === experiment && x.variant === variant);
    assert.ok(found, `${experiment} / ${variant} measured: ${variants.map((x) => x.variant).join(", ")}`);
    return found;
  };
  assert.equal(variants.length, 10);
  for (const x of variants) {
    assert.ok(x.stages > 0, `${x.variant}: its stages were read back by tag`);
    assert.ok(x.ms > 0 && Number.isFinite(x.shuffleMB));
  }
  // Broadcasting the 5,000-row dimension spares the shuffle of 200,000 fact rows that sort-merge needs.
  assert.ok(
    v("join strategy", "broadcast").shuffleMB < v("join strategy", "sort-merge").shuffleMB,
    `shuffle MB broadcast ${v("join strategy", "broadcast").shuffleMB} vs sort-merge ${
      v("join strategy", "sort-merge").shuffleMB
    }`,
  );
  // 70 % of the rows on one key: the plain aggregation's shuffle read is skewed; salting spreads the hot key.
  const readSkew = (x: { analysis: { stages: { dataSkew: number }[] } }) =>
    Math.max(1, ...x.analysis.stages.map((s) => Number.isFinite(s.dataSkew) ? s.dataSkew : 1));
  const plain = v("skewed aggregation", "plain"), salted = v("skewed aggregation", "salted ×16");
  assert.ok(readSkew(salted) < readSkew(plain), `read skew plain ${readSkew(plain)} vs salted ${readSkew(salted)}`);
  assert.ok(salted.stages > plain.stages, "salting adds a second aggregation");
  v("skewed join", "AQE off");
  v("skewed join", "AQE on");
  // 200 shuffle partitions of 97 groups: AQE's coalescing runs a handful of reduce tasks instead of 200.
  const coalesce = [
    v("partition coalescing", "AQE off (200 partitions)"),
    v("partition coalescing", "AQE coalescing only"),
  ];
  assert.ok(coalesce[0]!.tasks >= 200, `AQE off ran ${coalesce[0]!.tasks} tasks`);
  assert.ok(coalesce[1]!.tasks < 50, `AQE coalescing ran ${coalesce[1]!.tasks} tasks`);
  // One task sorting 768 MB spills to disk; sixteen tasks sorting a sixteenth each spill less (or nothing).
  const one = v("memory (sort-based aggregation)", "1 shuffle partition(s)");
  const sixteen = v("memory (sort-based aggregation)", "16 shuffle partition(s)");
  assert.ok(one.spillDiskMB > 0, "the single-partition sort did not spill");
  assert.ok(sixteen.spillDiskMB < one.spillDiskMB, `spill MB: 1 → ${one.spillDiskMB}, 16 → ${sixteen.spillDiskMB}`);
  // The session's settings are put back to AQE on, broadcasts allowed, Spark's default shuffle partitions.
  const conf = await spark.getConf([
    "spark.sql.adaptive.enabled",
    "spark.sql.autoBroadcastJoinThreshold",
    "spark.sql.shuffle.partitions",
  ]);
  assert.equal(conf["spark.sql.adaptive.enabled"], "true");
  assert.notEqual(conf["spark.sql.autoBroadcastJoinThreshold"], "-1");
  assert.equal(conf["spark.sql.shuffle.partitions"], "200");
});
