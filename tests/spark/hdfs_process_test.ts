/**
 * `spark process` against a real distributed store: HDFS (Hadoop's
 * MiniDFSCluster, `deno task services up hdfs`, started here when it is not
 * running). Raw events are generated into HDFS, the CLI reads them from
 * `hdfs://…` and writes the partitioned table and its daily aggregate back
 * to `hdfs://…`; the NameNode's WebHDFS listing and a read-back through
 * Spark agree with the job's counts.
 */
import assert from "node:assert/strict";
import { DEFAULT_PORTS, projectRoot, resolveEndpoints } from "@mercury/core";
import { generateEvents, SparkSession } from "@mercury/spark";
import { Launcher } from "../../tasks/services/launcher.ts";
import { checkStagedWrite } from "./_atomic.ts";
import { runProcess } from "./_process_cli.ts";

const WEBHDFS = `http://127.0.0.1:${DEFAULT_PORTS.hdfsHttp}/webhdfs/v1`;

async function webhdfs(path: string, op: string, method = "GET"): Promise<Record<string, unknown>> {
  const r = await fetch(`${WEBHDFS}${path}?op=${op}${method === "DELETE" ? "&recursive=true" : ""}`, { method });
  assert.ok(r.ok, `WebHDFS ${op} ${path}: ${r.status}`);
  return await r.json();
}

Deno.test("spark process reads raw events from hdfs:// and writes the lake table to hdfs://", async () => {
  const launcher = new Launcher({ root: projectRoot(), log: () => {} });
  const [status] = await launcher.up(["hdfs"]);
  assert.ok(status?.health.ok, `hdfs is up: ${status?.health.detail}`);
  const hdfs = resolveEndpoints().hdfs.url;
  assert.match(hdfs, /^hdfs:\/\/127\.0\.0\.1:\d+$/);
  const base = `/mercury-test/${crypto.randomUUID().slice(0, 8)}`;
  await using spark = await SparkSession.connect();
  try {
    const gen = await generateEvents(spark, {
      output: `${hdfs}${base}/raw`,
      rows: 4_000,
      days: 2,
      products: 40,
      files: 2,
    });
    const m = await runProcess(gen.events, gen.products, `${hdfs}${base}/events`);
    assert.equal(m.raw, 4_000);
    const clean = m.clean;
    assert.ok(clean > 3_800 && clean < 4_000, `clean rows ${clean}`);

    // The files are in HDFS (the NameNode lists them), partitioned by date, region and category.
    const dates = (await webhdfs(`${base}/events`, "LISTSTATUS")) as {
      FileStatuses: { FileStatus: { pathSuffix: string; type: string }[] };
    };
    assert.deepEqual(
      dates.FileStatuses.FileStatus.filter((f) => f.type === "DIRECTORY").map((f) => f.pathSuffix).sort(),
      ["date=2026-01-01", "date=2026-01-02"],
    );
    const summary = (await webhdfs(`${base}/events`, "GETCONTENTSUMMARY")) as {
      ContentSummary: { fileCount: number; length: number };
    };
    assert.ok(summary.ContentSummary.fileCount >= 2 * 4 * 8, `files: ${summary.ContentSummary.fileCount}`);

    // Read back through Spark from HDFS.
    assert.equal(await spark.read.parquet(`${hdfs}${base}/events`).count(), clean);
    assert.equal(await spark.read.parquet(`${hdfs}${base}/events-daily`).count(), m.daily);

    // A job that fails part-way leaves the old output whole (WebHDFS renames publish the staged folder).
    await checkStagedWrite(spark, `${hdfs}${base}/staged`, async () => {
      const list = (await webhdfs(base, "LISTSTATUS")) as { FileStatuses: { FileStatus: { pathSuffix: string }[] } };
      return list.FileStatuses.FileStatus.map((f) => f.pathSuffix);
    });
  } finally {
    await webhdfs(base, "DELETE", "DELETE").catch(() => {});
    // A plain `services up` does not run hdfs: leave the services as this test found them.
    if (status?.notes !== "already running") await launcher.down(["hdfs"]);
  }
});
