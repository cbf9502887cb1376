/**
 * {@linkcode openChangelog} (the compacted-topic dimension) against a broker
 * that accepts TCP and never answers, and against an unknown topic on the
 * real broker: a clear error within the request deadline instead of a hang.
 */
import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { openChangelog } from "@mercury/stream";
import { silentPeer } from "../_hostile.ts";

Deno.test({
  name: "openChangelog against a silent broker: unavailable naming it within the request deadline",
  async fn() {
    const peer = silentPeer();
    try {
      const t0 = performance.now();
      await assert.rejects(openChangelog([peer.address], "dims", 1000), (err: Error & { code?: string }) => {
        assert.equal(err.code, "unavailable", String(err));
        assert.ok(err.message.includes(`cannot reach Kafka at ${peer.address}`), err.message);
        return true;
      });
      const ms = performance.now() - t0;
      assert.ok(ms < 5000, `took ${Math.round(ms)} ms (deadline 1000 ms)`);
    } finally {
      peer.close();
    }
  },
});

Deno.test({
  name: "openChangelog of an unknown topic on the real broker is not_found",
  async fn() {
    const topic = `no_such_changelog_${crypto.randomUUID().slice(0, 8)}`;
    await assert.rejects(
      openChangelog(resolveEndpoints().kafka.brokers, topic),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "not_found", String(err));
        assert.match(err.message, new RegExp(`unknown topic "${topic}"`));
        return true;
      },
    );
  },
});
