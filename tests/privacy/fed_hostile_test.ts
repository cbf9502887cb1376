/**
 * The federated coordinator against hostile input: the shared HTTP suite (tests/_hostile.ts) on its hub, the
 * hub's own refusals (token, client id, content type), and whole runs with clients that send the wrong content
 * type, malformed or oversized updates, or half an update and then nothing (slowloris): each is a dropout with its
 * reason, the rounds finish, and the ledger holds one entry for a finished DP run and none for a failed one.
 */
import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { Hub } from "@mercury/privacy/federated/hub";
import { runFederated } from "@mercury/privacy/federated/coordinator";
import { hostileHttpSuite } from "../_hostile.ts";

import { withLedger } from "./_setup.ts";

const TOKENS = ["token-0", "token-1"];
const JSON_TYPE = { "content-type": "application/json" };

function serveHub(): { url: string; close(): Promise<void> } {
  const hub = new Hub({ clients: 2, tokens: TOKENS, maxBytes: 64 * 1024, dim: 3, idleMs: 2000 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => hub.handle(req));
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

Deno.test({
  name: "federated hub survives hostile clients (oversized, malformed, stalled) and refuses strangers",
  async fn(t) {
    await hostileHttpSuite(t, {
      name: "privacy federated hub",
      headers: { authorization: `Bearer ${TOKENS[0]}` },
      start: () => Promise.resolve(serveHub()),
      json: { path: "result?client=0&seq=1", headers: JSON_TYPE },
      maxBodyBytes: 64 * 1024,
      probe: { path: "health" },
    });
    const s = serveHub();
    try {
      const post = (path: string, headers: Record<string, string>, body = "{}") =>
        fetch(new URL(path, s.url), { method: "POST", body, headers });
      await t.step("a wrong or missing token gets 401", async () => {
        for (const h of [{}, { authorization: `Bearer ${TOKENS[1]}` }] as Record<string, string>[]) {
          const res = await post("result?client=0&seq=1", { ...JSON_TYPE, ...h });
          assert.equal(res.status, 401);
          assert.match((await res.json()).error, /token/);
        }
      });
      await t.step("a missing or out-of-range client id gets 400", async () => {
        for (const q of ["", "?client=", "?client=2", "?client=-1", "?client=x"]) {
          const res = await post(`result${q}`, { ...JSON_TYPE, authorization: `Bearer ${TOKENS[0]}` });
          assert.equal(res.status, 400, q);
          assert.match((await res.json()).error, /client must be an id in 0…1/);
        }
      });
      await t.step("the WebSocket route refuses a wrong token (401) and a plain GET (426)", async () => {
        const wrong = await fetch(new URL(`ws?client=0&token=${TOKENS[1]}`, s.url));
        assert.equal(wrong.status, 401);
        await wrong.body?.cancel();
        const plain = await fetch(new URL(`ws?client=0&token=${TOKENS[0]}`, s.url));
        assert.equal(plain.status, 426);
        await plain.body?.cancel();
      });
      await t.step("a wrong content type gets 415; a late result 409", async () => {
        const auth = { authorization: `Bearer ${TOKENS[0]}` };
        const wrong = await post("result?client=0&seq=1", { ...auth, "content-type": "text/plain" });
        assert.equal(wrong.status, 415);
        assert.match((await wrong.json()).error, /wrong content type 'text\/plain'/);
        const late = await post("result?client=0&seq=7", { ...auth, ...JSON_TYPE }, '{"n":1,"delta":[1,2,3]}');
        assert.equal(late.status, 409);
        await late.body?.cancel();
      });
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "privacy federated: wrong content type, malformed and slowloris clients are dropouts; the run ends in bounded time",
  async fn() {
    const t0 = performance.now();
    const r = await runFederated({
      model: "logistic_regression",
      clients: 5,
      rounds: 2,
      rows: 1000,
      roundTimeoutMs: 3000,
      faults: {
        1: { kind: "wrong-type", round: 1 },
        2: { kind: "slowloris", round: 1 },
        3: { kind: "malformed", round: 2 },
      },
    });
    const took = performance.now() - t0;
    const reasons = (round: number) =>
      Object.fromEntries(r.rounds[round - 1]!.dropouts.map((d) => [d.client, d.reason]));
    assert.match(reasons(1)[1]!, /wrong content type 'text\/plain'/);
    assert.match(reasons(1)[2]!, /not complete by the step's deadline|no answer within 3000 ms/);
    assert.match(reasons(2)[3]!, /malformed/);
    assert.deepEqual(r.rounds.map((x) => x.aggregated), [[0, 3, 4], [0, 4]]);
    assert.ok(r.rounds.every((x) => !x.failed));
    assert.ok(r.final.accuracy! > 0.6, `accuracy ${r.final.accuracy}`);
    // Two 3 s deadlines (the slowloris client holds each round to its end), start-up and shutdown: not hung.
    assert.ok(took < 40_000, `the run took ${took.toFixed(0)} ms`);
  },
});

Deno.test({
  name:
    "privacy federated with the ledger: one entry for a finished DP run, refusal before start, none for a failed run",
  async fn() {
    await withLedger(async (ledger) => {
      const dp = { clip: 0.5, noiseMultiplier: 1.2, delta: 1e-5 };
      const base = { model: "logistic_regression" as const, clients: 4, rounds: 2, rows: 800, fraction: 0.5, dp };
      await ledger.setBudget("clinics", { epsilon: 20, delta: 1e-4 });
      const ok = await runFederated({
        ...base,
        roundTimeoutMs: 3000,
        faults: { 1: { kind: "oversized", round: 1 } },
        ledger: { ledger, dataset: "clinics", analyst: "ada" },
      });
      const entries = await ledger.entries("clinics");
      assert.equal(entries.length, 1);
      assert.equal(entries[0]!.epsilon, ok.epsilon);
      assert.equal(entries[0]!.delta, 1e-5);

      // A run whose coordinator fails part-way (here its round callback throws) records nothing.
      await assert.rejects(
        runFederated({
          ...base,
          ledger: { ledger, dataset: "clinics", analyst: "ada" },
          onRound: () => {
            throw new Error("coordinator stopped");
          },
        }),
        /coordinator stopped/,
      );
      assert.equal((await ledger.entries("clinics")).length, 1);

      // Past the budget: refused before a client starts (fast), nothing recorded.
      await ledger.setBudget("tiny", { epsilon: 0.1, delta: 1e-4 });
      const t0 = performance.now();
      await assert.rejects(
        runFederated({ ...base, ledger: { ledger, dataset: "tiny", analyst: "ada" } }),
        (e: unknown) => e instanceof MercuryError && e.code === "conflict" && /budget exhausted/.test(e.message),
      );
      assert.ok(performance.now() - t0 < 3000);
      assert.deepEqual(await ledger.entries("tiny"), []);
      await assert.rejects(
        runFederated({ ...base, dp: undefined, ledger: { ledger, dataset: "clinics", analyst: "ada" } }),
        /charges the ledger only with DP-FedAvg/,
      );
    });
  },
});
