import assert from "node:assert/strict";
import { asofJoin, funnel, gapFill, movingAggregate, Olap, retention, sessionize } from "@mercury/olap";
import { tempDir } from "./_fixtures.ts";

Deno.test({
  name: "time-series helpers run through the engine with exact answers",
  async fn(t) {
    const [dir, rm] = await tempDir();
    const olap = await Olap.open({ dataDir: dir, restrictFiles: false });
    const rows = (sql: string) => olap.rows(sql, undefined, { noCache: true });
    try {
      await olap.executor.exec(`create table pts as select * from (values
        ('a', timestamp '2024-01-01 00:00', 1.0), ('a', timestamp '2024-01-01 00:40', 3.0),
        ('a', timestamp '2024-01-01 03:10', 10.0), ('b', timestamp '2024-01-01 01:00', 5.0),
        ('b', timestamp '2024-01-01 02:00', 7.0)) t(k, ts, v)`);
      await t.step("ts_bucket macro", async () => {
        const r = await rows("select ts_bucket(interval 15 minute, timestamp '2024-01-01 00:40') as b");
        assert.equal(r[0]!.b, "2024-01-01T00:30:00.000Z");
      });
      await t.step("gap fill, LOCF per series", async () => {
        const r = await rows(
          gapFill({ from: "pts", time: "ts", every: "1 hour", values: ["v"], by: ["k"], method: "locf" }),
        );
        assert.deepEqual(r.map((x) => [x.k, x.ts, x.v]), [
          ["a", "2024-01-01T00:00:00.000Z", 2], // avg of 1 and 3 in the first hour
          ["a", "2024-01-01T01:00:00.000Z", 2],
          ["a", "2024-01-01T02:00:00.000Z", 2],
          ["a", "2024-01-01T03:00:00.000Z", 10],
          ["b", "2024-01-01T01:00:00.000Z", 5],
          ["b", "2024-01-01T02:00:00.000Z", 7],
        ]);
      });
      await t.step("gap fill, linear interpolation", async () => {
        const r = await rows(
          gapFill({ from: "pts", time: "ts", every: "1 hour", values: ["v"], by: ["k"], method: "linear" }),
        );
        const got = r.filter((x) => x.k === "a").map((x) => x.v as number);
        [2, 4 + 2 / 3, 7 + 1 / 3, 10].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 1e-9, `${got}`));
      });
      await t.step("ASOF join: the latest quote at or before each trade", async () => {
        await olap.executor.exec(`create table quotes as select * from (values
          ('x', timestamp '2024-01-01 10:00', 100.0), ('x', timestamp '2024-01-01 10:05', 101.0),
          ('y', timestamp '2024-01-01 10:01', 50.0)) t(sym, qt, px)`);
        await olap.executor.exec(`create table trades as select * from (values
          ('x', timestamp '2024-01-01 10:04'), ('x', timestamp '2024-01-01 10:05'), ('y', timestamp '2024-01-01 10:00')) t(sym, tt)`);
        const r = await rows(
          `select * from (${
            asofJoin({ left: "trades", right: "quotes", leftTime: "tt", rightTime: "qt", by: ["sym"], columns: ["px"] })
          }) order by sym, tt`,
        );
        assert.deepEqual(r.map((x) => x.px), [100, 101, null]);
      });
      await t.step("moving average over a 1-hour range", async () => {
        const r = await rows(movingAggregate({ from: "pts", time: "ts", value: "v", window: "1 hour", by: ["k"] }));
        assert.deepEqual(r.map((x) => x.avg_v), [1, 2, 10, 5, 6]);
      });
      await t.step("sessionisation with a 30-minute gap", async () => {
        await olap.executor.exec(`create table clicks as select * from (values
          ('u1', timestamp '2024-01-01 09:00'), ('u1', timestamp '2024-01-01 09:20'), ('u1', timestamp '2024-01-01 10:00'),
          ('u2', timestamp '2024-01-01 09:00')) t(u, ts)`);
        const r = await rows(sessionize({ from: "clicks", user: "u", time: "ts", gap: "30 minutes" }));
        assert.deepEqual(r.map((x) => [x.u, x.session_id]), [["u1", 1], ["u1", 1], ["u1", 2], ["u2", 1]]);
        assert.equal(r[2]!.session_start, "2024-01-01T10:00:00.000Z");
      });
      await t.step("retention cohorts and an ordered funnel", async () => {
        await olap.executor.exec(`create table ev as select * from (values
          ('u1', timestamp '2024-01-01', 'view'), ('u1', timestamp '2024-01-02', 'cart'), ('u1', timestamp '2024-01-03', 'buy'),
          ('u2', timestamp '2024-01-01', 'view'), ('u2', timestamp '2024-01-05', 'cart'),
          ('u3', timestamp '2024-01-02', 'cart'), ('u3', timestamp '2024-01-03', 'view'),
          ('u1', timestamp '2024-01-08', 'view')) t(u, ts, e)`);
        const ret = await rows(retention({ from: "ev", user: "u", time: "ts", period: "day" }));
        const day0 = ret.filter((x) => x.cohort === "2024-01-01T00:00:00.000Z");
        assert.deepEqual(day0.map((x) => [x.period_offset, x.users]), [[0, 2], [1, 1], [2, 1], [4, 1], [7, 1]]);
        const f = await rows(funnel({ from: "ev", user: "u", time: "ts", event: "e", steps: ["view", "cart", "buy"] }));
        assert.deepEqual(f.map((x) => [x.event, x.users]), [["view", 3], ["cart", 2], ["buy", 1]]);
        const within = await rows(
          funnel({ from: "ev", user: "u", time: "ts", event: "e", steps: ["view", "cart"], within: "2 days" }),
        );
        assert.deepEqual(within.map((x) => x.users), [3, 1]);
      });
    } finally {
      await olap.close();
      await rm();
    }
  },
});
