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

/** A `features` command (card stream repo) in its own process; its standard output read as it comes. */
class CliRun {
  readonly child: Deno.ChildProcess;
  #out: ReadableStreamDefaultReader<string>;
  text = "";

  constructor(args: string[], env: Record<string, string>) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "tasks/mercury.ts",
        "features",
        ...args,
        "--repo",
        "plugins/features/examples/card_stream.ts",
      ],
      cwd: ROOT,
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#out = this.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads until the output so far matches `re` (or ends); returns it. */
  async until(re: RegExp): Promise<string> {
    while (!re.test(this.text)) {
      const { value, done } = await this.#out.read();
      if (done) break;
      this.text += value;
    }
    return this.text;
  }

  /** Sends SIGTERM (unless `signal` is false: it ends by itself), reads the rest; the exit code and all output. */
  async stop(signal = true): Promise<{ code: number; text: string; stderr: string }> {
    if (signal) this.child.kill("SIGTERM");
    const [stderr] = await Promise.all([new Response(this.child.stderr).text(), this.until(/(?!)/)]);
    return { code: (await this.child.status).code, text: this.text, stderr };
  }

  /** SIGKILL (a crash), then waits for the process. */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.child.stderr.cancel().catch(() => {});
    await this.#out.cancel().catch(() => {});
    await this.child.status;
  }
}

/** Runs `fn` with a new one-partition topic, deleted after. */
async function withTopic(
  topic: string,
  fn: (topic: string, k: Awaited<ReturnType<typeof connectKafka>>) => Promise<void>,
): Promise<void> {
  const k = await connectKafka();
  try {
    await k.admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await fn(topic, k);
  } finally {
    await k.admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await k.close();
  }
}

/** Produces card events as the stream job reads them (JSON: card_id, amount, ts). */
async function sendEvents(k: Awaited<ReturnType<typeof connectKafka>>, topic: string, es: StreamEvent[]) {
  const producer = k.kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: es.map((e) => ({ value: JSON.stringify({ card_id: e.key, amount: e.value, ts: e.ts }) })),
    });
  } finally {
    await producer.disconnect();
  }
}

Deno.test({
  name: "stream features: the stream plugin's windows feed the online store as events arrive, history serves PIT",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "mf-stream-" });
    const project = uniqueName("sf");
    const repo = cardStreamRepo(dir, project);
    const fs = await openFeatureStore({ repo, offlineRoot: `${dir}/off` });
    /** Waits until Redis holds a count of `n` for `card`; returns its [count, sum]. */
    const waitForCount = async (card: number, n: number): Promise<number[]> => {
      for (let i = 0; i < 300; i++) {
        const [hit] = await fs.online.read("card_tx_10m", [String(card)], ["tx_count_10m", "amount_sum_10m"]);
        if (Number(hit?.values[0]) === n) return hit!.values.map(Number);
        await new Promise((r) => setTimeout(r, 100));
      }
      const [hit] = await fs.online.read("card_tx_10m", [String(card)], ["tx_count_10m"]);
      throw new Error(`card ${card}: count ${hit?.values[0]}, waited for ${n}`);
    };
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

      await t.step("a checkpoint restores every partition's windows; parts written after it are removed", async () => {
        await fs.online.clear();
        const historyDir = `${dir}/stream_history_ckpt`;
        const open = () =>
          new StreamFeatureView({
            repo,
            view: "card_tx_10m",
            online: fs.online,
            connection: fs.duck.connection,
            historyDir,
          });
        const now = Date.now();
        // Partition 1 runs 8 minutes behind partition 0: with one watermark its events would all be late.
        const p0: StreamEvent[] = Array.from(
          { length: 30 },
          (_, i) => ({ key: 21, ts: now - 60_000 + i * 1000, value: i }),
        );
        const p1: StreamEvent[] = Array.from(
          { length: 30 },
          (_, i) => ({ key: 22, ts: now - 540_000 + i * 1000, value: 2 * i }),
        );
        const first = open();
        assert.equal(await first.restore("t1"), null);
        await first.add(p0.slice(0, 20), 0);
        assert.equal((await first.add(p1.slice(0, 20), 1)).late, 0, "each partition has its own watermark");
        const ckpt = await first.checkpoint({ "0": "20", "1": "20" }, "t1");
        assert.equal(ckpt.seq, 1);
        const openAtCheckpoint = first.openWindows;
        assert.ok(openAtCheckpoint > 0);
        await first.add(p0.slice(20), 0); // then a part after the checkpoint, and a crash
        await first.flushHistory();
        const parts = () => [...Deno.readDirSync(historyDir)].map((e) => e.name).filter((n) => n.endsWith(".parquet"));
        assert.equal(parts().length, 2);

        const second = open();
        const restored = await second.restore("t1");
        assert.deepEqual(restored?.offsets, { "0": "20", "1": "20" });
        assert.equal(parts().length, 1, "the part written after the checkpoint is gone (its events are read again)");
        assert.equal(second.openWindows, openAtCheckpoint, "the open windows came back");
        await second.add(p0.slice(20), 0);
        await second.add(p1.slice(20), 1);
        const got = await fs.online.read("card_tx_10m", ["21", "22"], ["tx_count_10m", "amount_sum_10m"]);
        for (const [i, key] of [21, 22].entries()) {
          const want = expected([...p0, ...p1], key);
          assert.equal(Number(got[i]!.values[0]), want.count, `card ${key}: the counts continue across the restart`);
          assert.ok(Math.abs(Number(got[i]!.values[1]) - want.sum) < 1e-6, `card ${key} sum`);
        }
        await second.checkpoint({ "0": "30", "1": "30" }, "t1");
        // A checkpoint of another topic, or a broken file, is refused, naming the file.
        await assert.rejects(() => open().restore("t2"), /_checkpoint\.json belongs to topic "t1"/);
        await Deno.writeTextFile(`${historyDir}/_checkpoint.json`, "{ not json");
        await assert.rejects(() => open().restore("t1"), /_checkpoint\.json is not a valid checkpoint/);
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
        await withTopic(`${project}-cli`, async (topic, k) => {
          const run = new CliRun(["stream", "--view", "card_tx_10m", "--topic", topic, "--group", `${project}-cli`], {
            MERCURY_FEATURES_DATA: `${dir}/cli`,
            MERCURY_FEATURES_PROJECT: project,
          });
          try {
            assert.match(await run.until(/\n/), /^streaming .* into .* card_tx_10m \(development mode/);
            const now = Date.now();
            await sendEvents(k, topic, [1, 2, 3].map((i) => ({ key: 7, ts: now - 1000 * i, value: i })));
            assert.deepEqual(await waitForCount(7, 3), [3, 6]);
            const { code, text } = await run.stop();
            assert.equal(code, 0);
            assert.match(text, /card_tx_10m: 3 events in \d+ batches, 0 rejected/);
            const parts = [...Deno.readDirSync(`${dir}/cli/stream_history`)].filter((e) => e.name.endsWith(".parquet"));
            assert.ok(parts.length >= 1, "the history is written (at the latest at stop)");
          } finally {
            await run.kill();
          }
        });
      });

      await t.step(
        "the CLI killed with SIGKILL resumes from its checkpoint: no count lost, no history row twice",
        async () => {
          await fs.online.clear();
          const data = `${dir}/crash`;
          await withTopic(`${project}-crash`, async (topic, k) => {
            const start = () =>
              new CliRun(
                ["stream", "--view", "card_tx_10m", "--topic", topic, "--group", `${project}-crash`]
                  .concat(["--checkpoint-every", "3s"]),
                { MERCURY_FEATURES_DATA: data, MERCURY_FEATURES_PROJECT: project },
              );
            const now = Date.now();
            const events = [1, 2, 3, 4, 5].map((i) => ({ key: 8, ts: now - 60_000 + i * 1000, value: i * 10 }));
            let run = start();
            try {
              assert.match(await run.until(/\n/), /no checkpoint: empty windows/);
              await new Promise((r) => setTimeout(r, 3_500)); // the first batch is then due for a checkpoint
              await sendEvents(k, topic, events.slice(0, 3));
              await waitForCount(8, 3);
              const ckptFile = `${data}/stream_history/_checkpoint.json`;
              for (let i = 0; i < 100 && !(await Deno.stat(ckptFile).catch(() => null)); i++) {
                await new Promise((r) => setTimeout(r, 100));
              }
              assert.deepEqual(JSON.parse(await Deno.readTextFile(ckptFile)).offsets, { "0": "3" });
              // Processed, most likely not yet checkpointed: read again after the crash.
              await sendEvents(k, topic, events.slice(3, 4));
              await waitForCount(8, 4);
              await run.kill();
              await sendEvents(k, topic, events.slice(4));

              run = start();
              assert.match(await run.until(/\n/), /resumed from the checkpoint of .* offsets 0:(3|4)\)/);
              assert.deepEqual(await waitForCount(8, 5), [5, 150], "the windows held the first events: on to 5");
              const { code, text } = await run.stop();
              assert.equal(code, 0, text);
              const rows = await fs.duck.connection.runAndReadAll(
                `select epoch_ms(event_timestamp) as t, tx_count_10m as n ` +
                  `from read_parquet('${data}/stream_history/*.parquet') order by t`,
              );
              const history = rows.getRowObjects().map((r) => [Number(r.t) - now, Number(r.n)]);
              // One row per batch and card, at its latest event: each row's count is the events up to it, no time
              // twice (rows lost with the killed process are written again; the part after the checkpoint is removed).
              const times = history.map(([t]) => t);
              assert.equal(new Set(times).size, times.length, `no history row twice: ${JSON.stringify(history)}`);
              for (const [t, n] of history) {
                assert.equal(n, events.filter((e) => e.ts - now <= t!).length, `row at ${t}`);
              }
              assert.deepEqual(history.at(-1), [events[4]!.ts - now, 5]);
            } finally {
              await run.kill();
            }
          });
        },
      );

      await t.step(
        "serve --stream VIEW=TOPIC: the server feeds the view and serves it; bad specs refused first",
        async () => {
          await fs.online.clear();
          const data = `${dir}/serve`;
          const env = { MERCURY_FEATURES_DATA: data, MERCURY_FEATURES_PROJECT: project };
          const serve = ["serve", "--port", "0", "--no-grpc", "--prune-every-minutes", "0", "--stream"];
          const bad = new CliRun([...serve, "card_tx_10m"], env);
          const refused = await bad.stop(false);
          assert.equal(refused.code, 64);
          assert.match(refused.stderr, /--stream card_tx_10m: expected VIEW=TOPIC/);
          await withTopic(`${project}-serve`, async (topic, k) => {
            const run = new CliRun([...serve, `card_tx_10m=${topic}`], env);
            try {
              const text = await run.until(/get-online-features/);
              assert.match(text, new RegExp(`streaming ${topic} into card_tx_10m: no checkpoint`));
              const port = /http:\/\/127\.0\.0\.1:(\d+)\/get-online-features/.exec(text)?.[1];
              assert.ok(port, text);
              const now = Date.now();
              await sendEvents(k, topic, [5, 6].map((i) => ({ key: 9, ts: now - 1000 * i, value: i })));
              let values: unknown[] = [];
              for (let i = 0; i < 300 && values[0] !== 2; i++) {
                if (i) await new Promise((r) => setTimeout(r, 100));
                const r = await fetch(`http://127.0.0.1:${port}/get-online-features`, {
                  method: "POST",
                  body: JSON.stringify({
                    features: ["card_tx_10m:tx_count_10m", "card_tx_10m:amount_sum_10m"],
                    entities: { card_id: [9] },
                  }),
                });
                const body = await r.json();
                values = [body.results[1].values[0], body.results[2].values[0]];
              }
              assert.deepEqual(values, [2, 11], "served over HTTP as the events arrive");
              const stopped = await run.stop();
              assert.equal(stopped.code, 0, stopped.text);
              assert.match(stopped.text, /card_tx_10m: 2 events, 0 rejected; checkpoint written/);
              const ckpt = JSON.parse(await Deno.readTextFile(`${data}/stream_history/_checkpoint.json`));
              assert.deepEqual([ckpt.topic, ckpt.offsets], [topic, { "0": "2" }]);
            } finally {
              await run.kill();
            }
          });
        },
      );
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
