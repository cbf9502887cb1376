/**
 * The observe prediction server against hostile clients: the shared HTTP suite (tests/_hostile.ts) — oversized and
 * malformed bodies, stalled senders, many idle connections — on `POST /labels`, with `GET /health` answering
 * throughout, and a predict route for an unknown model refused cleanly.
 */
import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { MlflowClient, ObserveServer, setupSchema } from "@mercury/observe";
import { hostileHttpSuite } from "../_hostile.ts";

const eps = resolveEndpoints();
const MAX = 64 * 1024;

Deno.test({
  name: "observe server survives hostile clients (oversized and malformed bodies, stalled senders)",
  async fn(t) {
    await using pg = await connectPostgres({ url: eps.postgres.url, max: 4 });
    await setupSchema(pg.sql);
    const start = async () => {
      const server = new ObserveServer({
        sql: pg.sql,
        mlflow: new MlflowClient(eps.mlflow.url),
        models: [],
        port: 0,
        maxBodyBytes: MAX,
        requestTimeoutMs: 10_000,
      });
      await server.start();
      return { url: `http://127.0.0.1:${server.port}/`, close: () => server.close() };
    };
    await hostileHttpSuite(t, {
      name: "observe server",
      start,
      json: { path: "labels" },
      maxBodyBytes: MAX,
      probe: { path: "health" },
    });
    await t.step("a prediction for a model it does not serve is a 4xx naming the model", async () => {
      const s = await start();
      try {
        const r = await fetch(`${s.url}predict/no_such_model`, { method: "POST", body: '{"rows": [[1, 2]]}' });
        assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
        assert.match(await r.text(), /no_such_model/);
      } finally {
        await s.close();
      }
    });
  },
});
