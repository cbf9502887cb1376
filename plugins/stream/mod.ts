/**
 * `@mercury/stream`: the real-time pipeline on Kafka (seed task 1).
 *
 * This first cut carries the manifest and one command that talks to the real
 * broker; the topology, windows and exactly-once sinks come with its issue.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "stream");
 * assert.deepEqual(manifest.services, ["kafka", "postgres", "redis"]);
 * ```
 *
 * @module
 */
import { definePlugin } from "@mercury/core";
import { topicsCommand } from "./topics.ts";

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "stream",
  title: "Streaming pipeline",
  version: "0.1.0",
  description: "Kafka in, event-time windows, exactly-once results in PostgreSQL/TimescaleDB",
  services: ["kafka", "postgres", "redis"],
  commands: { topics: topicsCommand },
  notebook: "notebooks/01-stream.ipynb",
});

export { topicsCommand };
