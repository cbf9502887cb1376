/** The executor-memory setting of the native Spark service: accepted sizes, and one clear refusal for the rest. */
import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { executorMemory } from "../../tasks/services/spark.ts";

Deno.test("MERCURY_SPARK_EXECUTOR_MEMORY: a size from 450m to a worker's 1536m, default 1g", () => {
  assert.equal(executorMemory(undefined), "1g");
  assert.equal(executorMemory(""), "1g");
  assert.equal(executorMemory("512m"), "512m");
  assert.equal(executorMemory(" 1G "), "1g");
  assert.equal(executorMemory("1536m"), "1536m");
  for (const bad of ["2g", "400m", "1.5g", "lots", "1024"]) {
    assert.throws(() => executorMemory(bad), (e: unknown) => {
      assert.ok(e instanceof MercuryError && e.code === "usage", String(e));
      assert.match(e.message, new RegExp(`MERCURY_SPARK_EXECUTOR_MEMORY=${bad.replace(".", "\\.")}`));
      assert.match(e.format(), /512m or 1g/);
      return true;
    });
  }
});
