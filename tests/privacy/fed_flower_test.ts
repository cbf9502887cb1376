/**
 * The federated-vs-Flower comparison of bench/privacy_federated_bench.ts in
 * small: the same split, rounds, clients and local SGD through Mercury and
 * through Flower (real processes, pip flwr pinned in bench/peers/flower).
 */
import assert from "node:assert/strict";
import { runFederated } from "@mercury/privacy/federated/coordinator";
import { makeDataset, splitClients } from "@mercury/privacy/federated/data";
import { ensureVenv } from "../../tasks/python.ts";
import { runFlower } from "../../bench/peers/flower/run.ts";

Deno.test("federated logistic regression: Mercury and Flower reach the same accuracy on the same split", async () => {
  const python = await ensureVenv(".mercury/peers/flower/venv", "bench/peers/flower/requirements.txt", "Flower");
  const cfg = { clients: 3, rounds: 3, rows: 5000, seed: 42, epochs: 1, lr: 0.5, batch: 32 };
  const data = makeDataset("classification", cfg.rows, cfg.seed);
  const parts = splitClients(data.train, cfg.clients, "iid", cfg.seed);
  const flower = await runFlower(python, { ...cfg, d: data.train.d }, parts, data.test);
  const mercury = await runFederated({ model: "logistic_regression", ...cfg });
  assert.ok(flower.accuracy > 0.7, `Flower accuracy ${flower.accuracy}`);
  // Same split, same shuffles, same SGD: the same model up to float rounding, so the same test accuracy
  // (the bench's criterion is within 1 point).
  assert.ok(
    Math.abs(mercury.final.accuracy! - flower.accuracy) <= 0.002,
    `Mercury ${mercury.final.accuracy} vs Flower ${flower.accuracy}`,
  );
});
