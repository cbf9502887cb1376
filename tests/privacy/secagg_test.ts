import assert from "node:assert/strict";
import {
  combineShares,
  decode,
  encode,
  P,
  type PublicKeys,
  type Reveal,
  SecAggClient,
  SecAggError,
  splitSecret,
  unmaskSum,
} from "@mercury/privacy/secagg";
import { runFederated } from "@mercury/privacy/federated/coordinator";

/** Runs the four steps in process for `n` clients; `dropBeforeMask` share keys then vanish. */
async function session(n: number, t: number, dim: number, dropBeforeMask: number[], dropBeforeUnmask: number[] = []) {
  const ids = Array.from({ length: n }, (_, i) => i);
  const clients = ids.map((id) => new SecAggClient(id, t));
  const roster: Record<string, PublicKeys> = {};
  for (const c of clients) roster[c.id] = await c.advertise();
  const outbox = await Promise.all(clients.map((c) => c.shareKeys(roster)));
  const inputs = ids.map((id) => Array.from({ length: dim }, (_, j) => Math.sin(id * 7 + j) * 3));
  const masked = new Map<number, Float64Array>();
  for (const c of clients) {
    if (dropBeforeMask.includes(c.id)) continue;
    const inbox = Object.fromEntries(ids.filter((u) => u !== c.id).map((u) => [u, outbox[u]![c.id]!]));
    masked.set(c.id, await c.maskedInput(encode(inputs[c.id]!), inbox, ids));
  }
  const survivors = [...masked.keys()];
  const dropped = ids.filter((v) => !masked.has(v));
  const reveals = new Map<number, Reveal>();
  for (const c of clients) {
    if (masked.has(c.id) && !dropBeforeUnmask.includes(c.id)) reveals.set(c.id, c.unmask(survivors, dropped));
  }
  const expected = Array.from({ length: dim }, (_, j) => survivors.reduce((s, id) => s + inputs[id]![j]!, 0));
  return { clients, masked, inputs, expected, run: () => unmaskSum({ masked, reveals, roster, u2: ids, t, dim }) };
}

Deno.test("Shamir: any t shares rebuild the secret, t-1 do not", () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const shares = splitSecret(secret, 3, [1, 2, 3, 4, 5]);
  assert.deepEqual(combineShares([shares[1]!, shares[3]!, shares[4]!], 32), secret);
  let wrong: Uint8Array | undefined;
  try {
    wrong = combineShares([shares[0]!, shares[1]!], 32);
  } catch { /* too few shares usually do not even fit 32 bytes */ }
  assert.notDeepEqual(wrong, secret);
});

Deno.test("secure aggregation: the sum is exact and each masked vector looks uniform", async () => {
  const s = await session(6, 4, 200, []);
  const sum = decode(await s.run());
  sum.forEach((v, j) => assert.ok(Math.abs(v - s.expected[j]!) < 1e-5, `coordinate ${j}: ${v} vs ${s.expected[j]}`));
  for (const [id, y] of s.masked) {
    const plain = encode(s.inputs[id]!);
    assert.ok(y.every((e, j) => e !== plain[j]), `client ${id}'s masked vector equals its input somewhere`);
    // Uniform on [0, p): mean 0.5, and every decile of the field is hit.
    const u = Array.from(y, (e) => e / P);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    assert.ok(Math.abs(mean - 0.5) < 0.08, `mean ${mean}`);
    const deciles = new Set(u.map((x) => Math.floor(x * 10)));
    assert.equal(deciles.size, 10);
    // The plaintext is tiny next to p: decoding the masked vector alone gives garbage.
    assert.ok(decode(y).some((v, j) => Math.abs(v - s.inputs[id]![j]!) > 1000));
  }
});

Deno.test("secure aggregation: up to n - t dropouts are removed exactly; one more fails the round", async (t) => {
  await t.step("two of six drop after sharing keys (t = 4)", async () => {
    const s = await session(6, 4, 50, [1, 4]);
    const sum = decode(await s.run());
    sum.forEach((v, j) => assert.ok(Math.abs(v - s.expected[j]!) < 1e-5));
  });
  await t.step("three of six drop: survivors refuse to unmask below the threshold", async () => {
    await assert.rejects(session(6, 4, 50, [0, 1, 4]), SecAggError);
  });
  await t.step("a survivor that never reveals leaves too few shares", async () => {
    const s = await session(5, 4, 20, [2], [3]);
    await assert.rejects(s.run(), (e) => e instanceof SecAggError && /threshold|shares/.test(e.message));
  });
  await t.step("a client refuses to reveal both shares of the same peer", async () => {
    const s = await session(4, 3, 5, []);
    assert.throws(() => s.clients[0]!.unmask([0, 1, 2, 3], [2]), SecAggError);
  });
});

Deno.test("secure aggregation over client processes gives the plaintext FedAvg result, with a dropout", async () => {
  const common = {
    model: "logistic_regression" as const,
    clients: 5,
    rounds: 2,
    rows: 1000,
    roundTimeoutMs: 3000,
    faults: { 2: { kind: "silent" as const, round: 2 } },
  };
  const plain = await runFederated(common);
  const secure = await runFederated({ ...common, secagg: true, threshold: 3 });
  assert.deepEqual(secure.rounds.map((r) => r.aggregated), [[0, 1, 2, 3, 4], [0, 1, 3, 4]]);
  assert.deepEqual(plain.rounds.map((r) => r.aggregated), [[0, 1, 2, 3, 4], [0, 1, 3, 4]]);
  secure.weights.forEach((w, j) => assert.ok(Math.abs(w - plain.weights[j]!) < 1e-5, `weight ${j}`));
  // What the coordinator held of each update: field elements that decode to nothing like the sum.
  const sum = secure.lastSum!;
  for (const y of secure.lastMasked!.values()) {
    assert.equal(y.length, sum.length);
    assert.ok(decode(Float64Array.from(y)).some((v) => Math.abs(v) > 1000));
  }
  assert.equal(sum.at(-1), 4 * 160); // Σ n: four survivors of 800 training rows dealt to five clients
});
