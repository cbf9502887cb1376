import assert from "node:assert/strict";
import { PostgresSink } from "@mercury/stream";
import { connectKafka } from "@mercury/core/services/kafka";
import { integration, runScript, uniqueName } from "../_helpers.ts";

const stream = (...args: string[]) => runScript("tasks/mercury.ts", ["stream", ...args]);

Deno.test({
  name: "stream CLI: produce, process --until-done, verify agree end to end; the DLQ holds the rejects",
  ...integration,
  async fn() {
    const topic = uniqueName("cli");
    const p = await stream(
      "produce",
      "--topic",
      topic,
      "--partitions",
      "3",
      "--count",
      "20000",
      "--events-per-sec",
      "0",
      "--malformed-share",
      "0.01",
    );
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^20000 records to .* \(created\)/);
    const w = await stream(
      "process",
      "--topic",
      topic,
      "--until-done",
      "--window",
      "hopping:1m/20s",
      "--checkpoint",
      "300ms",
    );
    assert.equal(w.code, 0, w.stderr);
    const stats = JSON.parse(w.stdout.trim().split("\n").pop()!);
    assert.equal(stats.events, 20000);
    assert.ok(stats.dead >= 150, `dead ${stats.dead}`);
    const v = await stream("verify", "--topic", topic, "--window", "hopping:1m/20s");
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /exact: every window matches/);
    // A wrong window spec does not match what was computed: verify says so and exits 1.
    const wrong = await stream("verify", "--topic", topic, "--window", "tumbling:1m");
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /MISMATCH/);
    const k = await connectKafka();
    try {
      const dlq = await k.admin.fetchTopicOffsets(`${topic}.dlq`);
      assert.equal(dlq.reduce((s, o) => s + Number(o.high), 0), stats.dead);
      await k.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
    } finally {
      await k.close();
    }
    // The sink's rows go with the topic (they would weigh on later benchmarks' database).
    const { connectPostgres } = await import("@mercury/core/services/postgres");
    const pg = await connectPostgres({ max: 1 });
    try {
      await (await PostgresSink.open(pg.sql, topic)).reset();
    } finally {
      await pg.close();
    }
  },
});

Deno.test({
  name: "stream CLI: --max-rate holds a worker (here on two threads) to N events/s and it still counts every event",
  ...integration,
  async fn() {
    const topic = uniqueName("rate");
    const p = await stream(
      "produce",
      "--topic",
      topic,
      "--partitions",
      "2",
      "--count",
      "20000",
      "--events-per-sec",
      "0",
    );
    assert.equal(p.code, 0, p.stderr);
    const started = performance.now();
    // 20,000 events at 2,000/s (1,000/s on each of two threads): at least 10 s less the first responses' worth;
    // unthrottled this takes 3–4 s here.
    const w = await stream(
      "process",
      "--topic",
      topic,
      "--until-done",
      "--no-enrich",
      "--max-rate",
      "2000",
      "--threads",
      "2",
    );
    const seconds = (performance.now() - started) / 1000;
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout.trim().split("\n").pop()!).events, 20000);
    assert.ok(seconds >= 9, `20,000 events at --max-rate 2000 took ${seconds.toFixed(1)} s`);
    const k = await connectKafka();
    try {
      await k.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {});
    } finally {
      await k.close();
    }
    const { connectPostgres } = await import("@mercury/core/services/postgres");
    const pg = await connectPostgres({ max: 1 });
    try {
      await (await PostgresSink.open(pg.sql, topic)).reset();
    } finally {
      await pg.close();
    }
  },
});

Deno.test({
  name: "stream CLI: bad input is one clear line and a non-zero exit",
  ...integration,
  async fn(t) {
    await t.step("a bad window spec", async () => {
      const r = await stream("process", "--topic", "x", "--window", "sliding:1m");
      assert.equal(r.code, 64);
      assert.match(r.stderr, /"sliding:1m" is not a window spec \(at --window\); hint: use tumbling:1m/);
    });
    await t.step("a hopping size that is not a multiple of the slide", async () => {
      const r = await stream("verify", "--window", "hopping:1m/7s");
      assert.equal(r.code, 64);
      assert.match(r.stderr, /multiple of its slide/);
    });
    await t.step("an unknown topic", async () => {
      const r = await stream("process", "--topic", uniqueName("nope"), "--no-enrich");
      assert.equal(r.code, 66);
      assert.match(r.stderr, /unknown topic "nope_/);
    });
    await t.step("a bad thread count, and threads with the Kafka sink", async () => {
      const z = await stream("process", "--threads", "0", "--no-enrich");
      assert.equal(z.code, 64);
      assert.match(z.stderr, /--threads must be an integer ≥ 1, got '0'.*hint: see `.*stream process --help`/);
      const k = await stream("process", "--threads", "2", "--sink", "kafka", "--no-enrich");
      assert.equal(k.code, 64);
      assert.match(k.stderr, /--threads needs --sink postgres/);
    });
    await t.step("a bad --max-rate", async () => {
      const z = await stream("process", "--max-rate", "0", "--no-enrich");
      assert.equal(z.code, 64);
      assert.match(z.stderr, /--max-rate must be an integer ≥ 1, got '0'/);
    });
    await t.step("an unreachable broker", async () => {
      const r = await runScript("tasks/mercury.ts", ["stream", "topics"], { MERCURY_KAFKA_BROKERS: "127.0.0.1:1" });
      assert.equal(r.code, 69);
      assert.match(r.stderr, /cannot reach Kafka at 127\.0\.0\.1:1/);
      const p = await runScript("tasks/mercury.ts", ["stream", "produce", "--topic", "x", "--duration", "1s"], {
        MERCURY_KAFKA_BROKERS: "127.0.0.1:1",
      });
      assert.equal(p.code, 69);
      assert.match(p.stderr, /error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:1.*hint: start it/);
    });
    await t.step("a bad compression and a bad number", async () => {
      const c = await stream("produce", "--compression", "brotli");
      assert.equal(c.code, 64);
      assert.match(c.stderr, /--compression must be one of none, gzip, snappy, lz4, zstd, got 'brotli'/);
      const n = await stream("produce", "--events-per-sec", "lots");
      assert.equal(n.code, 64);
      assert.match(n.stderr, /--events-per-sec must be a number ≥ 0, got 'lots'/);
    });
    await t.step("an invalid topic name", async () => {
      const r = await stream("produce", "--topic", "bad topic!", "--count", "1");
      assert.equal(r.code, 64);
      assert.match(r.stderr, /not a valid topic name/);
    });
  },
});

Deno.test({
  name: "stream CLI: --processing-time windows by arrival, not by the events' own (old) timestamps",
  ...integration,
  async fn() {
    const { connectPostgres } = await import("@mercury/core/services/postgres");
    const topic = uniqueName("ptime");
    const startedAt = Date.now();
    // Events stamped two hours ago: event-time windows would sit two hours back.
    const { ensureTopic, produceEvents } = await import("@mercury/stream");
    const { resolveEndpoints } = await import("@mercury/core");
    const brokers = resolveEndpoints().kafka.brokers;
    await ensureTopic(brokers, topic, { partitions: 2 });
    await produceEvents({
      brokers,
      topic,
      count: 3000,
      start: startedAt - 7_200_000,
      stepMs: 1,
      malformedShare: 0,
      lateShare: 0,
    });
    const w = await stream(
      "process",
      "--topic",
      topic,
      "--until-done",
      "--processing-time",
      "--no-enrich",
      "--window",
      "tumbling:10s",
    );
    assert.equal(w.code, 0, w.stderr);
    const pg = await connectPostgres({ max: 1 });
    try {
      const rows = await pg
        .sql`select key, window_start, window_end, acc from stream_window_state where pipeline = ${topic}`;
      const open = rows.map((r) =>
        [r.key, Number(r.window_start), Number(r.window_end), r.acc] as [string, number, number, { c: number }]
      );
      const final = await pg.sql`select window_start, count from stream_windows where pipeline = ${topic}`;
      const starts = [...open.map((o) => o[1]), ...final.map((f) => f.window_start.getTime())];
      assert.ok(starts.length > 0);
      // Every window lies in the wall-clock span of this test, whatever the events' timestamps said.
      for (const s of starts) {
        assert.ok(s >= startedAt - 10_000 && s <= Date.now(), `window at ${new Date(s).toISOString()}`);
      }
      const counted = open.reduce((n, o) => n + o[3].c, 0) + final.reduce((n, f) => n + Number(f.count), 0);
      assert.equal(counted, 3000);
      await (await PostgresSink.open(pg.sql, topic)).reset();
    } finally {
      await pg.close();
    }
  },
});
