/**
 * Session windows verified end to end like tumbling and hopping ones: events
 * produced with disorder, late and malformed ones, processed with
 * `--window session:…` to the PostgreSQL sink, and `stream verify` recomputes
 * every session from the topic and finds the sink equal; a different gap does
 * not match.
 */
import assert from "node:assert/strict";
import { PostgresSink } from "@mercury/stream";
import { connectKafka } from "@mercury/core/services/kafka";
import { connectPostgres } from "@mercury/core/services/postgres";
import { integration, runScript, uniqueName } from "../_helpers.ts";

const stream = (...args: string[]) => runScript("tasks/mercury.ts", ["stream", ...args]);

Deno.test({
  name: "stream verify: session windows recomputed from the topic equal the sink's, a wrong gap does not",
  ...integration,
  async fn() {
    const topic = uniqueName("session");
    const p = await stream(
      "produce",
      "--topic",
      topic,
      "--partitions",
      "3",
      "--count",
      "20000",
      // 4 s of event time over 2,000 users: ~10 events each, ~400 ms apart, so 300 ms sessions both merge and split.
      "--events-per-sec",
      "5000",
      "--users",
      "2000",
      "--disorder",
      "300ms",
      "--late-share",
      "0.002",
      "--malformed-share",
      "0.01",
    );
    assert.equal(p.code, 0, p.stderr);
    const w = await stream(
      "process",
      "--topic",
      topic,
      "--until-done",
      "--no-enrich",
      "--window",
      "session:300ms",
      "--max-out-of-orderness",
      "500ms",
      "--checkpoint",
      "300ms",
    );
    assert.equal(w.code, 0, w.stderr);
    const stats = JSON.parse(w.stdout.trim().split("\n").pop()!);
    assert.ok(stats.results > 0, `no session closed: ${JSON.stringify(stats)}`);
    const v = await stream("verify", "--topic", topic, "--window", "session:300ms", "--max-out-of-orderness", "500ms");
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /exact: every window matches/);
    const wrong = await stream(
      "verify",
      "--topic",
      topic,
      "--window",
      "session:600ms",
      "--max-out-of-orderness",
      "500ms",
    );
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /MISMATCH/);

    const k = await connectKafka();
    try {
      await k.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
    } finally {
      await k.close();
    }
    const pg = await connectPostgres({ max: 1 });
    try {
      await (await PostgresSink.open(pg.sql, topic)).reset();
    } finally {
      await pg.close();
    }
  },
});
