import assert from "node:assert/strict";
import { pluginConformance } from "@mercury/core/testing";
import { manifest } from "@mercury/spark/manifest";

const root = new URL("../../plugins/spark", import.meta.url).pathname;

Deno.test("spark follows the plugin contract", async (t) => {
  await pluginConformance(t, { module: new URL("../../plugins/spark/manifest.ts", import.meta.url).href, root });
});

Deno.test("spark declares its services (Spark; PostgreSQL for lineage, MLflow for models) and its seven commands", () => {
  assert.deepEqual(manifest.services, ["spark", "postgres", "mlflow"]);
  assert.deepEqual(Object.keys(manifest.commands).sort(), [
    "analyze",
    "generate",
    "lineage",
    "process",
    "sql",
    "train",
    "tune",
  ]);
});
