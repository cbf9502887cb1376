import { FORMAT_VERSION, loadModel, restoreForecaster, saveModel, trainModel } from "@mercury/forecast";
import { restoreModel } from "../../plugins/forecast/model_file.ts";
import assert from "node:assert/strict";

Deno.test("model files", async (t) => {
  const y = Array.from({ length: 72 }, (_, i) => 10 + (i % 12) + ((i * 7919) % 13) / 10);
  const s = { id: "s1", ds: y.map((_, i) => i), y, filled: 0 };
  const { file } = await trainModel(s, {
    algorithm: "theta",
    season: 12,
    freq: { unit: "index", step: 1 },
    version: "2.1.0",
  });
  const path = `${await Deno.makeTempDir()}/m.pkl`;
  await t.step("round trip keeps version, fingerprint, metrics and the forecast", async () => {
    await saveModel(path, file);
    const back = await loadModel(path);
    assert.equal(back.formatVersion, FORMAT_VERSION);
    assert.equal(back.version, "2.1.0");
    assert.equal(back.fingerprint, file.fingerprint);
    assert.ok(Number.isFinite(back.metrics.mase));
    const a = (await restoreForecaster(file.model)).predict(6).mean;
    const b = (await restoreForecaster(back.model)).predict(6).mean;
    assert.deepEqual(a, b);
  });
  await t.step("a newer format version is a clear error", async () => {
    await Deno.writeTextFile(path, JSON.stringify({ ...file, formatVersion: FORMAT_VERSION + 1 }));
    await assert.rejects(() => loadModel(path), /format version 2; this build reads version 1/);
  });
  await t.step("another JSON document is not a model", async () => {
    await Deno.writeTextFile(path, "{}");
    await assert.rejects(() => loadModel(path), /not a Mercury forecast model/);
  });
  await t.step("restoreModel(): an empty state or an unknown algorithm is an input error naming the file", async () => {
    await saveModel(path, { ...file, model: { ...file.model, state: {} } });
    await assert.rejects(
      async () => restoreModel(await loadModel(path), path),
      (e: Error & { code?: string; where?: string }) =>
        e.code === "input" && e.where === path && /model file .*m\.pkl has no usable theta state/.test(e.message),
    );
    await saveModel(path, { ...file, model: { ...file.model, algorithm: "magic\u0007" } });
    await assert.rejects(
      async () => restoreModel(await loadModel(path), path),
      (e: Error & { code?: string; where?: string }) =>
        e.code === "input" && e.where === path && e.message.includes('names algorithm "magic\\x07"'),
    );
    await saveModel(path, file);
    assert.equal((await restoreModel(await loadModel(path), path)).predict(3).mean.length, 3);
  });
  await t.step("a binary file is corrupt, quoted without control bytes", async () => {
    await Deno.writeFile(path, Uint8Array.from({ length: 64 }, (_, i) => i));
    await assert.rejects(
      () => loadModel(path),
      // deno-lint-ignore no-control-regex
      (e: Error) => /is corrupt \(not valid JSON: .*\\x00/.test(e.message) && !/[\u0000-\u001f]/.test(e.message),
    );
  });
});
