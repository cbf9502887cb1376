import assert from "node:assert/strict";
import { connectRedis } from "@mercury/core/services/redis";
import { MercuryError } from "@mercury/core";
import { uniqueName } from "../_helpers.ts";

Deno.test({
  name: "Redis: a pipeline and a MULTI transaction run on the real server",
  async fn(t) {
    const r = await connectRedis();
    const prefix = uniqueName("mercury_test");
    try {
      assert.equal((await r.health()).ok, true);
      await t.step("a pipeline of 1,000 commands answers in order", async () => {
        const p = r.client.pipeline();
        for (let i = 0; i < 1000; i++) p.hset(`${prefix}:user:${i}`, { score: i, tier: i % 3 === 0 ? "gold" : "std" });
        for (let i = 0; i < 1000; i++) p.hget(`${prefix}:user:${i}`, "score");
        const results = await p.exec();
        assert.equal(results!.length, 2000);
        for (let i = 0; i < 1000; i++) assert.deepEqual(results![1000 + i], [null, String(i)]);
      });
      await t.step("MULTI/EXEC applies all or nothing", async () => {
        const res = await r.client.multi().incrby(`${prefix}:n`, 5).expire(`${prefix}:n`, 60).get(`${prefix}:n`).exec();
        assert.deepEqual(res!.map(([, v]) => v), [5, 1, "5"]);
        const ttl = await r.client.ttl(`${prefix}:n`);
        assert.ok(ttl > 0 && ttl <= 60);
      });
    } finally {
      const keys = await r.client.keys(`${prefix}:*`);
      if (keys.length) await r.client.del(...keys);
      await r.close();
    }
  },
});

Deno.test({
  name: "connectRedis() fails with a hint when nothing listens",
  async fn() {
    await assert.rejects(connectRedis({ url: "redis://127.0.0.1:1", timeoutMs: 1500 }), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.match(err.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
      assert.match(err.hint ?? "", /services up redis/);
      return true;
    });
  },
});
