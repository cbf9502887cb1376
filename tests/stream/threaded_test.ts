/**
 * ThreadedProcessor on the real services: two threads share the partitions of
 * one group member, the sink equals the ground truth, the threads' metrics are
 * merged into one exposition, and a topology module that cannot be built is a
 * clear error.
 */
import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import {
  compareTotals,
  DEFAULT_PIPELINE,
  ensureTopic,
  groundTruth,
  PostgresSink,
  produceEvents,
  readTopic,
  sinkTotals,
  ThreadedProcessor,
  tumbling,
} from "@mercury/stream";
import { integration, uniqueName } from "../_helpers.ts";

const brokers = resolveEndpoints().kafka.brokers;
const args = { window: tumbling(60_000), maxOutOfOrdernessMs: 5_000, allowedLatenessMs: 0 };

Deno.test({
  name: "ThreadedProcessor: two threads, exact results, one merged /metrics",
  ...integration,
  async fn() {
    const topic = uniqueName("threads");
    await ensureTopic(brokers, topic, { partitions: 6 });
    await produceEvents({
      brokers,
      topic,
      count: 60_000,
      seed: 5,
      users: 200,
      stepMs: 50,
      disorderMs: 2000,
      lateShare: 0.001,
      malformedShare: 0.002,
      start: Date.now() - 3_600_000,
    });
    const pg = await connectPostgres({ max: 2 });
    const log: string[] = [];
    try {
      const worker = new ThreadedProcessor({
        brokers,
        topic,
        sql: pg.sql,
        threads: 2,
        checkpointMs: 200,
        untilDone: true,
        topology: { url: DEFAULT_PIPELINE, export: "defaultPipeline", args },
        log: (l) => log.push(l),
      });
      const stats = await worker.run();
      assert.equal(stats.events, 60_000, log.join("\n"));
      // The two threads split the 6 partitions between them (by backlog), each reading some.
      const shares = [0, 1].map((t) => {
        const line = log.find((l) => l.startsWith(`thread ${t}: assigned partitions: `));
        assert.ok(line, log.join("\n"));
        return line.split(": ")[2]!.split(",").map(Number);
      });
      assert.ok(shares.every((s) => s.length > 0), log.join("\n"));
      assert.deepEqual([...shares[0]!, ...shares[1]!].sort(), [0, 1, 2, 3, 4, 5]);

      const truth = groundTruth(await readTopic(brokers, topic), tumbling(60_000), 5000, 0);
      assert.equal(truth.events + truth.late + truth.malformed, 60_000);
      assert.deepEqual(compareTotals(truth.totals, await sinkTotals(pg.sql, topic)), []);
      assert.equal(stats.dead, truth.late + truth.malformed);

      // One exposition: each family once, counters summed over the threads, one lag series per partition.
      const text = worker.registry.expose();
      assert.equal(text.match(/^# TYPE mercury_stream_events_in_total /gm)?.length, 1);
      const inPerPartition = [...text.matchAll(/^mercury_stream_events_in_total\{partition="(\d)"\} (\d+)$/gm)];
      assert.equal(inPerPartition.length, 6);
      assert.equal(inPerPartition.reduce((n, m) => n + Number(m[2]), 0), 60_000);
      assert.equal([...text.matchAll(/^mercury_stream_consumer_lag\{partition="\d"\} /gm)].length, 6);
      assert.match(text, /^mercury_stream_rebalances_total 1$/m);
      await (await PostgresSink.open(pg.sql, topic)).reset();
    } finally {
      await pg.close();
    }
  },
});

Deno.test({
  name: "ThreadedProcessor: a topology module without the export is an error naming it",
  ...integration,
  async fn() {
    const topic = uniqueName("threads_bad");
    await ensureTopic(brokers, topic, { partitions: 2 });
    const pg = await connectPostgres({ max: 1 });
    try {
      const worker = new ThreadedProcessor({
        brokers,
        topic,
        sql: pg.sql,
        threads: 2,
        untilDone: true,
        topology: { url: DEFAULT_PIPELINE, export: "noSuchPipeline", args },
      });
      await assert.rejects(worker.run(), /default_pipeline\.ts has no function export "noSuchPipeline"/);
      assert.throws(
        () => new ThreadedProcessor({ brokers, topic, sql: pg.sql, threads: 0, topology: { url: DEFAULT_PIPELINE } }),
        /threads must be a whole number ≥ 1, got 0/,
      );
      await (await PostgresSink.open(pg.sql, topic)).reset();
    } finally {
      await pg.close();
    }
  },
});
