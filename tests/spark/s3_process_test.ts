/**
 * `spark process` against an S3-compatible object store (`deno task services
 * up s3`, started here when it is not running): raw events are generated into
 * `s3a://lake/…` by the cluster, the CLI reads them from there and writes the
 * partitioned table and its daily aggregate back to `s3a://lake/…` through
 * Hadoop's S3A connector; the store's own listing (signed ListObjectsV2) and a
 * read-back through Spark agree with the job's counts.
 */
import assert from "node:assert/strict";
import { projectRoot } from "@mercury/core";
import { connectS3 } from "@mercury/core/services/s3";
import { generateEvents, SparkSession } from "@mercury/spark";
import { Launcher } from "../../tasks/services/launcher.ts";
import { checkStagedWrite } from "./_atomic.ts";
import { runProcess } from "./_process_cli.ts";

Deno.test("spark process reads raw events from s3a:// and writes the lake table to s3a://", async () => {
  const launcher = new Launcher({ root: projectRoot(), log: () => {} });
  const [status] = await launcher.up(["s3"]);
  assert.ok(status?.health.ok, `s3 is up: ${status?.health.detail}`);
  const prefix = `mercury-test/${crypto.randomUUID().slice(0, 8)}`;
  const base = `s3a://lake/${prefix}`;
  await using s3 = await connectS3();
  await using spark = await SparkSession.connect();
  try {
    const gen = await generateEvents(spark, { output: `${base}/raw`, rows: 4_000, days: 2, products: 40, files: 2 });
    const m = await runProcess(gen.events, gen.products, `${base}/events`);
    assert.equal(m.raw, 4_000);
    assert.ok(m.clean > 3_800 && m.clean < 4_000, `clean rows ${m.clean}`);

    // The objects are in the store, partitioned by date, region and category.
    const parquet = (await s3.list("lake", `${prefix}/events/`)).filter((o) => o.key.endsWith(".parquet"));
    const dates = new Set(parquet.map((o) => /\/(date=[^/]+)\//.exec(o.key)?.[1]));
    assert.deepEqual([...dates].sort(), ["date=2026-01-01", "date=2026-01-02"]);
    assert.ok(parquet.every((o) => /date=[^/]+\/region=[^/]+\/category=[^/]+\/part-/.test(o.key)), parquet[0]?.key);
    assert.ok(parquet.length >= 2 * 4 * 8, `files: ${parquet.length}`);
    assert.ok(parquet.every((o) => o.size > 0));
    // The job's commit left its marker and no temporary files behind.
    const all = await s3.list("lake", `${prefix}/events/`);
    assert.ok(all.some((o) => o.key === `${prefix}/events/_SUCCESS`));
    assert.equal(all.filter((o) => o.key.includes("_temporary")).length, 0);

    // Read back through Spark from the store.
    assert.equal(await spark.read.parquet(`${base}/events`).count(), m.clean);
    assert.equal(await spark.read.parquet(`${base}/events-daily`).count(), m.daily);

    // A job that fails part-way leaves the old output whole (S3 has no rename: staged, then copied into place).
    await checkStagedWrite(spark, `${base}/staged`, async () => {
      const keys = (await s3.list("lake", `${prefix}/`)).map((o) => o.key.slice(prefix.length + 1));
      return [...new Set(keys.map((k) => k.split("/")[0]!))];
    });
    const staged = await s3.list("lake", `${prefix}/staged/`);
    assert.ok(staged.some((o) => o.key.endsWith("/_SUCCESS")), "the new output has its _SUCCESS marker");
  } finally {
    await s3.deletePrefix("lake", `${prefix}/`).catch(() => {});
    // A plain `services up` does not run s3: leave the services as this test found them.
    if (status?.notes !== "already running") await launcher.down(["s3"]);
  }
});
