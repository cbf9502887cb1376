/**
 * The readers `verify` is built on — {@linkcode readTopic} (the ground
 * truth) and {@linkcode readCommitted} / {@linkcode kafkaSinkTotals} (the
 * Kafka sink's results) — against a broker that accepts TCP and never
 * answers: `error[unavailable]` naming it within the request deadline.
 */
import assert from "node:assert/strict";
import { kafkaSinkTotals, KafkaTransactionalSink, readCommitted, readTopic } from "@mercury/stream";
import { silentPeer } from "../_hostile.ts";
import { runScript } from "../_helpers.ts";

/** Rejects with `unavailable` naming `broker`, within `boundMs`. */
async function rejectsUnavailable(p: Promise<unknown>, broker: string, boundMs: number): Promise<void> {
  const t0 = performance.now();
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, "unavailable", String(err));
    assert.ok(err.message.includes(`cannot reach Kafka at ${broker}`), err.message);
    return true;
  });
  const ms = performance.now() - t0;
  assert.ok(ms < boundMs, `took ${Math.round(ms)} ms`);
}

Deno.test({
  name: "readTopic, readCommitted and kafkaSinkTotals against a silent broker: unavailable within the deadline",
  async fn(t) {
    const peer = silentPeer();
    try {
      await t.step(
        "readTopic",
        () => rejectsUnavailable(readTopic([peer.address], "events", 1000), peer.address, 5000),
      );
      await t.step(
        "readCommitted",
        () => rejectsUnavailable(readCommitted([peer.address], "events", 500, 1000), peer.address, 5000),
      );
      await t.step(
        "kafkaSinkTotals",
        () => rejectsUnavailable(kafkaSinkTotals([peer.address], "w", "s", 1000), peer.address, 5000),
      );
    } finally {
      peer.close();
    }
  },
});

Deno.test({
  name: "stream verify against a silent broker exits 69 naming it within 20 s (both sinks)",
  async fn(t) {
    const peer = silentPeer();
    try {
      for (const sink of ["postgres", "kafka"]) {
        await t.step(sink, async () => {
          const t0 = performance.now();
          const r = await runScript(
            "tasks/mercury.ts",
            ["stream", "verify", "--topic", "events", "--sink", sink, "--request-timeout", "2s"],
            { MERCURY_KAFKA_BROKERS: peer.address },
          );
          const ms = performance.now() - t0;
          assert.equal(r.code, 69, r.stdout + r.stderr);
          const errors = r.stderr.split("\n").filter((l) => l.startsWith("error"));
          assert.equal(errors.length, 1, r.stderr);
          assert.match(errors[0]!, /^error\[unavailable\]: cannot reach Kafka at 127\.0\.0\.1:\d+/);
          assert.ok(errors[0]!.includes(`(at ${peer.address})`), errors[0]);
          assert.match(errors[0]!, /hint: .*deno task services up kafka.*MERCURY_KAFKA_BROKERS/);
          assert.ok(ms < 20_000, `took ${Math.round(ms)} ms`);
        });
      }
    } finally {
      peer.close();
    }
  },
});

Deno.test({
  name: "readTopic of an unknown topic on the real broker is not_found (not a broker that cannot be reached)",
  async fn() {
    const { resolveEndpoints } = await import("@mercury/core");
    const topic = `no_such_topic_${crypto.randomUUID().slice(0, 8)}`;
    await assert.rejects(readTopic(resolveEndpoints().kafka.brokers, topic), (err: Error & { code?: string }) => {
      assert.equal(err.code, "not_found", String(err));
      assert.match(err.message, new RegExp(`unknown topic "${topic}"`));
      return true;
    });
  },
});

Deno.test({
  name: "KafkaTransactionalSink.open against a silent broker: unavailable within its requestTimeoutMs",
  async fn() {
    const peer = silentPeer();
    try {
      const open = KafkaTransactionalSink.open({ brokers: [peer.address], pipeline: "silent", requestTimeoutMs: 1000 });
      // The default deadline is 10 s: within 5 s only if the option is honoured.
      await rejectsUnavailable(open, peer.address, 5000);
    } finally {
      peer.close();
    }
  },
});
