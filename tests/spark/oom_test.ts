/**
 * A task that runs out of memory on the real cluster (`deno task services up spark`, executors of 1 GB): one clear
 * `unavailable` line naming the JVM's error and the attempts, a hint, and the same session still answers. Runs alone
 * (tasks/test.ts SOLO): its executors may die of the OutOfMemoryError and be restarted by their workers, which would
 * fail another file's Spark queries.
 */
import assert from "node:assert/strict";
import { SparkError, SparkSession } from "@mercury/spark";

Deno.test("Spark: an out-of-memory task is one clear line with a hint; the session stays usable", async () => {
  await using spark = await SparkSession.connect();
  // A 1.5 GB string per row, built in the executor (not foldable on the driver: it depends on the row).
  const huge = "select length(repeat('x', cast(id as int) + 1500000000)) as n from range(1)";
  await assert.rejects(
    async () => await (await spark.sql(huge)).collect(),
    (e: unknown) => {
      assert.ok(e instanceof SparkError, String(e));
      assert.equal(e.code, "unavailable");
      assert.match(e.message, /^a task ran out of memory \((java\.lang\.OutOfMemoryError|an executor died)/);
      assert.match(e.message, /tried \d+ times\)$/);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.hint ?? "", /spark\.executor\.memory/);
      return true;
    },
  );
  // The session (and the cluster, its executors restarted if they died) still answers.
  assert.deepEqual(await (await spark.sql("select 41 + 1 as n")).collect(), [{ n: 42 }]);
});
