import assert from "node:assert/strict";
import { runFederated } from "@mercury/privacy/federated/coordinator";
import { makeDataset, splitClients } from "@mercury/privacy/federated/data";
import { RdpAccountant } from "@mercury/privacy/accounting/rdp";
import { cli } from "./_setup.ts";

Deno.test("splitClients: iid deals every row once; non-iid gives most clients one dominant label", () => {
  const data = makeDataset("classification", 2000, 3);
  const iid = splitClients(data.train, 8, "iid", 3);
  const non = splitClients(data.train, 8, "non-iid", 3);
  assert.equal(iid.reduce((s, p) => s + p.y.length, 0), data.train.y.length);
  assert.equal(non.reduce((s, p) => s + p.y.length, 0), data.train.y.length);
  const skew = (p: { y: number[] }) => Math.abs(p.y.reduce((a, b) => a + b, 0) / p.y.length - 0.5);
  const meanSkew = (ps: { y: number[] }[]) => ps.reduce((s, p) => s + skew(p), 0) / ps.length;
  assert.ok(meanSkew(non) > meanSkew(iid) + 0.2, `non-iid ${meanSkew(non)} vs iid ${meanSkew(iid)}`);
});

Deno.test("privacy federated: client processes learn linear and logistic regression (FedAvg, FedProx, non-iid)", async (t) => {
  await t.step("linear regression, FedAvg, iid", async () => {
    const r = await runFederated({ model: "linear_regression", clients: 4, rounds: 4, rows: 2000, lr: 0.1 });
    assert.ok(r.rounds[0]!.loss > r.final.loss, "mse falls");
    assert.ok(r.final.loss < 0.6, `mse ${r.final.loss}`); // noise variance is 0.25
  });
  await t.step("logistic regression, FedProx, non-iid, half the clients per round", async () => {
    const r = await runFederated({
      model: "logistic_regression",
      clients: 6,
      rounds: 6,
      rows: 3000,
      split: "non-iid",
      algorithm: "fedprox",
      fraction: 0.5,
    });
    assert.ok(r.rounds.every((x) => x.sampled.length === 3 && x.aggregated.length === 3));
    assert.ok(r.final.accuracy! > 0.65, `accuracy ${r.final.accuracy}`);
  });
});

Deno.test("privacy federated: malformed, oversized, silent and crashed clients are dropouts; the rounds go on", async () => {
  const r = await runFederated({
    model: "logistic_regression",
    clients: 6,
    rounds: 2,
    rows: 1500,
    roundTimeoutMs: 3000,
    faults: {
      1: { kind: "malformed", round: 1 },
      2: { kind: "oversized", round: 1 },
      3: { kind: "silent", round: 2 },
      4: { kind: "crash", round: 2 },
    },
  });
  const reasons = (round: number) => Object.fromEntries(r.rounds[round - 1]!.dropouts.map((d) => [d.client, d.reason]));
  assert.match(reasons(1)[1]!, /malformed/);
  assert.match(reasons(1)[2]!, /oversized/);
  assert.match(reasons(2)[3]!, /no answer within 3000 ms/);
  assert.match(reasons(2)[4]!, /no answer/);
  assert.deepEqual(r.rounds.map((x) => x.aggregated), [[0, 3, 4, 5], [0, 5]]);
  assert.ok(r.rounds.every((x) => !x.failed));
});

Deno.test("privacy federated: a round below --min-clients fails cleanly and keeps the model", async () => {
  const r = await runFederated({
    model: "logistic_regression",
    clients: 3,
    rounds: 2,
    rows: 600,
    roundTimeoutMs: 2500,
    minClients: 2,
    faults: { 0: { kind: "silent", round: 2 }, 1: { kind: "silent", round: 2 } },
  });
  assert.equal(r.rounds[0]!.failed, undefined);
  assert.match(r.rounds[1]!.failed!, /1 updates, fewer than 2/);
  assert.equal(r.rounds[1]!.loss, r.rounds[0]!.loss); // model unchanged
});

Deno.test("DP-FedAvg: clipped, noised updates and ε from the RDP accountant", async () => {
  const dp = { clip: 0.5, noiseMultiplier: 1.0, delta: 1e-5 };
  const r = await runFederated({ model: "logistic_regression", clients: 8, rounds: 3, rows: 2000, fraction: 0.5, dp });
  const expected = new RdpAccountant().composeSubsampledGaussian({ q: 0.5, sigma: 1, steps: 3 }).epsilon(1e-5).epsilon;
  assert.equal(r.epsilon, expected);
  assert.ok(r.epsilon! > 0 && Number.isFinite(r.epsilon!));
  assert.ok(r.final.accuracy! > 0.5, `accuracy ${r.final.accuracy}`);
});

Deno.test("privacy federated CLI: a small MLP run, and bad options get one usage line", async () => {
  const ok = await cli(["federated", "--model", "mlp", "--clients", "3", "--rounds", "2", "--rows", "600"]);
  assert.equal(ok.code, 0);
  assert.match(ok.lines.at(-1)!, /^mlp fedavg: test accuracy 0\.\d+, 2\/2 rounds aggregated/);
  await assert.rejects(cli(["federated", "--clip", "1"]), /needs both --clip and --noise/);
  await assert.rejects(
    cli(["federated", "--clients", "0"]),
    (e: Error & { exitCode?: number }) => /--clients/.test(e.message) && e.exitCode === 64,
  );
});
