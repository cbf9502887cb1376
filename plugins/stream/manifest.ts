/**
 * The stream plugin's manifest: its commands, their options and help. It
 * loads nothing heavy (no Kafka client, no PostgreSQL or Redis driver): each
 * command imports its implementation from `./commands/` (or `./topics.ts`)
 * the first time it runs, so discovery and `--help` stay fast.
 *
 * @example
 * ```ts
 * import { manifest } from "@mercury/stream/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "stream");
 * assert.deepEqual(manifest.services, ["kafka", "postgres", "redis"]);
 * assert.deepEqual(Object.keys(manifest.commands).sort(), [
 *   "autoscale", "dashboard", "process", "produce", "topics", "verify",
 * ]);
 * ```
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";
import { requestTimeoutOption, windowOptions } from "./command_options.ts";

/** The plugin's manifest, found by `deno task mercury plugins`. */
export const manifest = definePlugin({
  name: "stream",
  title: "Streaming pipeline",
  version: "0.1.0",
  description: "Kafka in, event-time windows, exactly-once results in PostgreSQL/TimescaleDB",
  services: ["kafka", "postgres", "redis"],
  notebook: "notebooks/01-stream.ipynb",
  commands: {
    produce: {
      summary: "send generated keyed events (with disorder, late and malformed ones) to a topic",
      options: {
        topic: { type: "string", value: "NAME", description: "topic", default: "events" },
        partitions: { type: "int", min: 1, description: "partitions when creating the topic", default: 12 },
        "events-per-sec": {
          type: "number",
          min: 0,
          description: "target rate (0 = as fast as possible)",
          default: 10000,
        },
        duration: { type: "duration", description: "how long to produce at that rate", default: "10s" },
        count: { type: "int", min: 0, description: "send exactly N records (overrides --duration)" },
        users: { type: "int", min: 1, description: "distinct users", default: 1000 },
        disorder: { type: "duration", description: "event-time disorder", default: "2s" },
        "late-share": { type: "number", min: 0, max: 1, description: "share of late events", default: 0.001 },
        "malformed-share": {
          type: "number",
          min: 0,
          max: 1,
          description: "share of malformed records",
          default: 0.001,
        },
        compression: {
          type: "enum",
          choices: ["none", "gzip", "snappy", "lz4", "zstd"],
          description: "record batch compression",
          default: "none",
        },
        "batch-size": { type: "int", min: 1, description: "records per produce request", default: 5000 },
        retention: { type: "duration", min: 1, description: "retention.ms when creating the topic" },
        seed: { type: "int", description: "generator seed", default: 1 },
        ...requestTimeoutOption,
      },
      run: lazyRun(() => import("./commands/produce.ts"), "produce"),
    },
    process: {
      summary: "run a worker: windows per user, exactly-once results in PostgreSQL",
      options: {
        topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
        ...windowOptions,
        group: { type: "string", value: "ID", description: "consumer group (default mercury-stream-<pipeline>)" },
        "instance-id": { type: "string", value: "ID", description: "static group membership id (fast restarts)" },
        "processing-time": { type: "boolean", description: "window by arrival time instead of event time" },
        checkpoint: { type: "duration", min: 1, description: "checkpoint interval", default: "1s" },
        snapshot: {
          type: "duration",
          min: 1,
          description: "write the open windows this often; checkpoints in between log observations",
          default: "60s",
        },
        "max-rate": {
          type: "int",
          min: 1,
          value: "N",
          description: "process at most N events/s (a backfill that must not starve what runs beside it)",
        },
        "until-done": { type: "boolean", description: "exit once every partition is checkpointed to the topic's end" },
        "no-enrich": { type: "boolean", description: "skip the Redis join (dim:user:<id> → tier)" },
        sink: {
          type: "enum",
          choices: ["postgres", "kafka"],
          description: "postgres (one DB transaction) or kafka (one Kafka transaction); both exactly-once",
          default: "postgres",
        },
        "output-topic": {
          type: "string",
          value: "NAME",
          description: "results topic for --sink kafka (default <pipeline>.windows)",
        },
        "metrics-port": {
          type: "int",
          min: 0,
          max: 65535,
          value: "PORT",
          description: "serve /metrics on this port (0 = any)",
        },
        threads: {
          type: "int",
          min: 1,
          description: "process the partitions on N threads, one group member (PostgreSQL sink)",
          default: 1,
        },
        ...requestTimeoutOption,
      },
      run: lazyRun(() => import("./commands/process.ts"), "process"),
    },
    verify: {
      summary: "recompute the windows from the topic and compare them with the sink (exit 1 on any difference)",
      options: {
        topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
        ...windowOptions,
        sink: {
          type: "enum",
          choices: ["postgres", "kafka"],
          description: "where the results are",
          default: "postgres",
        },
        "output-topic": { type: "string", value: "NAME", description: "results topic for --sink kafka" },
        ...requestTimeoutOption,
      },
      run: lazyRun(() => import("./commands/verify.ts"), "verify"),
    },
    dashboard: {
      summary: "serve the live dashboard (throughput, lag, latency, latest windows) on a local port",
      options: {
        topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
        pipeline: { type: "string", value: "NAME", description: "pipeline (default: the topic)" },
        port: { type: "int", min: 0, max: 65535, value: "PORT", description: "HTTP port (0 = any)", default: 8090 },
        ...requestTimeoutOption,
      },
      run: lazyRun(() => import("./commands/dashboard.ts"), "dashboard"),
    },
    autoscale: {
      summary: "start and stop workers between --min and --max on the pipeline's backlog",
      options: {
        topic: { type: "string", value: "NAME", description: "input topic", default: "events" },
        ...windowOptions,
        min: { type: "int", min: 0, description: "fewest workers", default: 1 },
        max: { type: "int", min: 1, description: "most workers (capped at the partition count)", default: 4 },
        "scale-up-lag": { type: "number", min: 0, description: "scale up above this lag per worker", default: 50000 },
        "scale-down-lag": {
          type: "number",
          min: 0,
          description: "scale down below this lag per worker",
          default: 5000,
        },
        cooldown: { type: "duration", description: "no change within this long of the last", default: "10s" },
        "worker-max-rate": {
          type: "int",
          min: 1,
          value: "N",
          description: "each worker processes at most N events/s (process --max-rate)",
        },
        duration: { type: "duration", description: "stop after this long (default: until Ctrl-C)" },
        ...requestTimeoutOption,
      },
      run: lazyRun(() => import("./commands/autoscale.ts"), "autoscale"),
    },
    topics: {
      summary: "list Kafka topics with partitions and message counts",
      options: {
        internal: { type: "boolean", description: "include internal topics (__consumer_offsets, …)" },
        json: { type: "boolean", description: "print JSON instead of a table" },
        ...requestTimeoutOption,
      },
      run: lazyRun(() => import("./topics.ts"), "topics"),
    },
  },
});
