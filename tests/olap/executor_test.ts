import assert from "node:assert/strict";
import { DuckDBExecutor, OlapError } from "@mercury/olap";
import { until } from "./_fixtures.ts";

Deno.test("DuckDBExecutor: a concurrency limit with a bounded queue, timeouts and aborts interrupt", async (t) => {
  const ex = await DuckDBExecutor.create({ concurrency: 1, maxQueue: 1 });
  try {
    await t.step("one runs, one waits, the next is refused with 503", async () => {
      const ctl = new AbortController();
      const long = ex.rows("select count(*) from range(1000000000000)", undefined, { signal: ctl.signal });
      await until("the long query runs", () => ex.busy.running === 1);
      const waiting = ex.rows("select 42 as x");
      await until("the second query waits", () => ex.busy.waiting === 1);
      assert.deepEqual(ex.busy, { running: 1, waiting: 1 });
      const refused = await ex.rows("select 1").catch((e) => e);
      assert.ok(refused instanceof OlapError);
      assert.equal(refused.status, 503);
      assert.equal(refused.kind, "overloaded");
      ctl.abort();
      const err = await long.catch((e) => e);
      assert.equal(err.kind, "cancelled");
      assert.deepEqual(await waiting, [{ x: 42 }]);
    });
    await t.step("a timeout interrupts the query and frees the connection", async () => {
      const err = await ex.rows("select count(*) from range(1000000000000)", undefined, { timeoutMs: 100 }).catch((e) =>
        e
      );
      assert.equal(err.status, 408);
      assert.deepEqual(await ex.rows("select 1 as one"), [{ one: 1 }]);
      assert.deepEqual(ex.busy, { running: 0, waiting: 0 });
    });
  } finally {
    await ex.close();
  }
});

Deno.test("DuckDBExecutor: a query whose signal is already aborted is cancelled (499) and frees its connection", async () => {
  const ex = await DuckDBExecutor.create({ concurrency: 1 });
  try {
    for (
      const run of [
        () => ex.stream("select 1 as x", { signal: AbortSignal.abort() }),
        () => ex.rows("select 1 as x", undefined, { signal: AbortSignal.abort() }),
      ]
    ) {
      const err = await run().then(() => undefined, (e) => e);
      assert.ok(err instanceof OlapError, String(err));
      assert.equal(err.status, 499);
      assert.equal(err.kind, "cancelled");
      assert.deepEqual(ex.busy, { running: 0, waiting: 0 });
    }
    assert.deepEqual(await ex.rows("select 2 as y"), [{ y: 2 }]);
  } finally {
    await ex.close();
  }
});
