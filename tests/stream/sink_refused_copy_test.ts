/**
 * A checkpoint whose window results the server refuses (here a duplicate
 * primary key) fails with the server's error, in bound, and leaves nothing
 * behind. With postgres.js 3.4.9's COPY writable it never settled: the
 * driver drops an error that arrives after the COPY's end
 * (porsager/postgres#1173), holding the transaction and its connection.
 */
import assert from "node:assert/strict";
import { withTimeout } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { PostgresSink } from "@mercury/stream";
import type { WindowResult } from "../../plugins/stream/aggregator.ts";
import { integration, loadBound, uniqueName } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 1);

function result(key: string, start: number, over: Partial<WindowResult> = {}): WindowResult {
  return {
    key,
    start,
    end: start + 60_000,
    count: 3,
    sum: 6,
    min: 1,
    max: 3,
    mean: 2,
    distinct: 3,
    p50: 2,
    p95: 3,
    p99: 3,
    ...over,
  };
}

Deno.test({
  name: "PostgresSink.commit: a refused result row fails the checkpoint with the server's error in bound",
  ...integration,
  async fn() {
    await using pg = await connectPostgres({ max: 2 });
    const pipeline = uniqueName("sink_refused");
    const sink = await PostgresSink.open(pg.sql, pipeline);
    try {
      // Values that need escaping or are not finite survive the write.
      const good = [
        result("a\tb\\c\nd", T0, { attrs: { region: 'e"u\t1' } }),
        result("nan", T0, { sum: NaN, mean: Infinity, min: -Infinity, p99: -0 }),
      ];
      await withTimeout(sink.commit(good, []), loadBound(10_000), "the good commit");
      const dup = [result("k1", T0 + 60_000), result("k2", T0 + 60_000), result("k1", T0 + 60_000, { count: 9 })];
      const t0 = performance.now();
      let err: unknown;
      try {
        await withTimeout(sink.commit(dup, []), loadBound(10_000), "the refused commit");
      } catch (e) {
        err = e;
      }
      const ms = performance.now() - t0;
      assert.ok(err, "the duplicate row was accepted");
      assert.equal((err as { code?: string }).code, "23505", `not the server's unique violation: ${err}`);
      assert.match(String(err), /stream_windows/);
      assert.ok(ms < loadBound(5_000), `the refusal took ${ms.toFixed(0)} ms`);
      // Nothing of the refused checkpoint stays; the pool answers and the sink still commits.
      const rows = await withTimeout(
        pg.sql`select key, sum, mean, min, p99, attrs, (extract(epoch from window_start) * 1000)::bigint::text as s,
          (extract(epoch from window_end) * 1000)::bigint::text as e
        from stream_windows where pipeline = ${pipeline} order by key`,
        loadBound(3000),
        "reading stream_windows",
      );
      assert.deepEqual(rows.map((r) => r.key), ["a\tb\\c\nd", "nan"]);
      assert.deepEqual(rows[0]!.attrs, { region: 'e"u\t1' });
      assert.deepEqual([rows[0]!.s, rows[0]!.e], [String(T0), String(T0 + 60_000)]);
      assert.ok(Number.isNaN(rows[1]!.sum) && rows[1]!.mean === Infinity && rows[1]!.min === -Infinity);
      await withTimeout(sink.commit([result("k1", T0 + 60_000)], []), loadBound(10_000), "the commit after");
      const [n] = await pg.sql`select count(*)::int as n from stream_windows where pipeline = ${pipeline}`;
      assert.equal(n!.n, 3);
    } finally {
      await pg.sql`delete from stream_windows where pipeline = ${pipeline}`;
      await pg.sql`delete from stream_windows_rollup where pipeline = ${pipeline}`.catch(() => {});
    }
  },
});
