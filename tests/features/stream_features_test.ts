import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { openFeatureStore } from "@mercury/features";
import { cardStreamRepo } from "../../plugins/features/examples/card_stream.ts";
import { startStreamFeatures, type StreamEvent, StreamFeatureView } from "@mercury/features/stream";
import { ROOT, uniqueName } from "../_helpers.ts";

const SIZE = 600_000, SLIDE = 60_000;

/** Brute force: a key's count and sum over the last 10 minutes (to the minute boundary) up to its latest event. */
function expected(events: StreamEvent[], key: number): { count: number; sum: number; at: number } {
  const mine = events.filter((e) => e.key === key);
  const at = Math.max(...mine.map((e) => e.ts));
  const start = Math.floor(at / SLIDE) * SLIDE - SIZE + SLIDE;
  const inWin = mine.filter((e) => e.ts >= start && e.ts <= at);
  return { count: inWin.length, sum: inWin.reduce((s, e) => s + e.value, 0), at };
}

Deno.test({
  name: "stream features: the stream plugin's windows feed the online store as events arrive, history serves PIT",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "mf-stream-" });
    const project = uniqueName("sf");
    const repo = cardStreamRepo(dir, project);
    const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/off` });
    try {
      await t.step("windows → Redis per batch; a PIT training set reads what Redis held at each time", async () => {
        const sfv = new StreamFeatureView({
          repo,
          view: "card_tx_10m",
          online: fs.online,
          connection: fs.duck.connection,
          historyDir: `${dir}/stream_history`,
        });
        // 25 minutes of events for 5 cards, in 10 batches, a little out of order inside each batch.
        const now = Date.now();
        const events: StreamEvent[] = [];
        let x = 7;
        const rand = () => (x = (x * 48271) % 2147483647) / 2147483647;
        for (let i = 0; i < 400; i++) {
          events.push({
            key: 1 + (i % 5),
            ts: now - 25 * 60_000 + i * 3_750 - Math.floor(rand() * 3000),
            value: 1 + i,
          });
        }
        const seen: { key: number; at: number; count: number; sum: number }[] = [];
        for (let b = 0; b < 10; b++) {
          const batch = events.slice(b * 40, (b + 1) * 40);
          const r = await sfv.add(batch);
          assert.equal(r.late, 0);
          const sofar = events.slice(0, (b + 1) * 40);
          for (const key of [1, 2, 3, 4, 5]) {
            const want = expected(sofar, key);
            // Values older than the ttl (10 min) are expired in Redis at once; only recent ones are checked there.
            const [hit] = await fs.online.read("card_tx_10m", [String(key)], ["tx_count_10m", "amount_sum_10m"]);
            if (now - want.at < 590_000) {
              assert.equal(hit!.eventMs, want.at, `card ${key} batch ${b}`);
              assert.equal(Number(hit!.values[0]), want.count, `card ${key} batch ${b} count`);
              assert.ok(Math.abs(Number(hit!.values[1]) - want.sum) < 1e-6, `card ${key} batch ${b} sum`);
            }
            seen.push({ key, ...want });
          }
          if (b % 3 === 2) await sfv.flushHistory(); // several Parquet parts
        }
        await sfv.flushHistory();
        assert.equal(sfv.pendingHistory, 0);
        // The history as the view's source: each (card, time) gets the value the stream wrote at that time.
        await fs.offline.compute("card_tx_10m");
        const rows = await fs.getHistoricalFeatures(
          seen.map((s) => ({ card_id: s.key, event_timestamp: new Date(s.at) })),
          ["card_tx_10m:tx_count_10m", "card_tx_10m:amount_sum_10m"],
        );
        assert.equal(rows.length, seen.length);
        for (const [i, s] of seen.entries()) {
          assert.equal(Number(rows[i]!.tx_count_10m), s.count, `PIT card ${s.key} at ${s.at}`);
          assert.ok(Math.abs(Number(rows[i]!.amount_sum_10m) - s.sum) < 1e-6);
        }
        // Nothing from the future: a minute before the first event there is no value.
        const [before] = await fs.getHistoricalFeatures(
          [{ card_id: 1, event_timestamp: new Date(now - 27 * 60_000) }],
          ["card_tx_10m:tx_count_10m"],
        );
        assert.equal(before!.tx_count_10m, null);
      });

      await t.step("from Kafka: JSON events consumed as they arrive, bad ones counted and skipped", async () => {
        await fs.online.clear();
        const topic = `${project}-tx`;
        const k = await connectKafka();
        await k.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
        const producer = k.kafka.producer();
        await producer.connect();
        const job = await startStreamFeatures({
          repo,
          view: "card_tx_10m",
          online: fs.online,
          connection: fs.duck.connection,
          historyDir: `${dir}/stream_history_kafka`,
          brokers: resolveEndpoints().kafka.brokers,
          topic,
          group: `${project}-g`,
        });
        try {
          const now = Date.now();
          const events: StreamEvent[] = Array.from({ length: 200 }, (_, i) => ({
            key: 10 + (i % 4),
            ts: now - 200_000 + i * 1000,
            value: i % 7,
          }));
          await producer.send({
            topic,
            messages: [
              ...events.map((e) => ({ value: JSON.stringify({ card_id: e.key, amount: e.value, ts: e.ts }) })),
              { value: "not json" },
              { value: JSON.stringify({ card_id: 1, amount: "x", ts: now }) },
            ],
          });
          const deadline = Date.now() + 30_000;
          while (job.received + job.rejected < 202 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.equal(job.received, 200);
          assert.equal(job.rejected, 2);
          const res = await fs.server().getOnlineFeatures({
            features: ["card_tx_10m:tx_count_10m", "card_tx_10m:amount_sum_10m"],
            entities: { card_id: [10, 11, 12, 13] },
          });
          for (const [i, key] of [10, 11, 12, 13].entries()) {
            const want = expected(events, key);
            assert.equal(res.results[1]!.values[i], want.count, `card ${key}`);
            assert.equal(res.results[2]!.values[i], want.sum, `card ${key}`);
            assert.equal(res.results[1]!.statuses[i], "PRESENT");
          }
        } finally {
          await job.stop();
          await producer.disconnect();
          await k.admin.deleteTopics({ topics: [topic] }).catch(() => {});
          await k.close();
        }
        const parts = [...Deno.readDirSync(`${dir}/stream_history_kafka`)].filter((e) => e.name.endsWith(".parquet"));
        assert.ok(parts.length >= 1, "stop() writes the remaining history");
      });

      await t.step("the CLI: features stream until SIGTERM, then the remaining history is written", async () => {
        await fs.online.clear();
        const topic = `${project}-cli`;
        const k = await connectKafka();
        await k.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "tasks/mercury.ts",
            "features",
            "stream",
            "--repo",
            "plugins/features/examples/card_stream.ts",
            "--view",
            "card_tx_10m",
            "--topic",
            topic,
            "--group",
            `${project}-cli`,
          ],
          cwd: ROOT,
          env: { MERCURY_FEATURES_DATA: `${dir}/cli`, MERCURY_FEATURES_PROJECT: project },
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        try {
          while (!text.includes("\n")) {
            const { value, done } = await out.read();
            if (done) break;
            text += value;
          }
          assert.match(text, /^streaming .* into .* card_tx_10m \(development mode/);
          const producer = k.kafka.producer();
          await producer.connect();
          const now = Date.now();
          await producer.send({
            topic,
            messages: [1, 2, 3].map((i) => ({ value: JSON.stringify({ card_id: 7, amount: i, ts: now - 1000 * i }) })),
          });
          await producer.disconnect();
          let hit;
          for (let i = 0; i < 300; i++) {
            [hit] = await fs.online.read("card_tx_10m", ["7"], ["tx_count_10m", "amount_sum_10m"]);
            if (Number(hit?.values[0]) === 3) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.deepEqual(hit!.values.map(Number), [3, 6]);
          child.kill("SIGTERM");
          while (true) {
            const { value, done } = await out.read();
            if (done) break;
            text += value;
          }
          assert.equal((await child.status).code, 0);
          assert.match(text, /card_tx_10m: 3 events in \d+ batches, 0 rejected/);
          const parts = [...Deno.readDirSync(`${dir}/cli/stream_history`)].filter((e) => e.name.endsWith(".parquet"));
          assert.ok(parts.length >= 1, "the history is written (at the latest at stop)");
        } finally {
          try {
            child.kill("SIGKILL");
          } catch { /* exited */ }
          await child.stderr.cancel().catch(() => {});
          await k.admin.deleteTopics({ topics: [topic] }).catch(() => {});
          await k.close();
        }
      });
    } finally {
      await fs.online.clear();
      for (const tbl of ["objects", "materializations", "feature_stats", "releases"]) {
        await fs.pg.sql.unsafe(`delete from ${fs.registry.schema}.${tbl} where project = $1`, [project]);
      }
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
