/**
 * Topics through the admin API and the load generator's producer: keyed
 * events from {@linkcode generateEvents}, an idempotent producer (acks=all),
 * batching, compression and a target rate.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Admin, type CompressionAlgorithmValue, Producer } from "@platformatic/kafka";
import { MercuryError } from "@mercury/core";
import { generateEvents, type GeneratorOptions } from "./generator.ts";

/** Options of {@linkcode ensureTopic}. */
export interface TopicOptions {
  partitions?: number;
  /** `retention.ms` (default: broker default). */
  retentionMs?: number;
  /** `cleanup.policy=compact` (for changelog topics). */
  compact?: boolean;
  /** `max.message.bytes` (e.g. for large state records). */
  maxMessageBytes?: number;
}

/** Creates `topic` when missing; an existing topic with fewer partitions is an error. */
export async function ensureTopic(
  brokers: string[],
  topic: string,
  options: TopicOptions = {},
): Promise<"created" | "exists"> {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new MercuryError("usage", `"${topic}" is not a valid topic name`, {
      hint: "use letters, digits, '.', '_' and '-' (at most 249)",
    });
  }
  const admin = new Admin({ clientId: "mercury-stream-admin", bootstrapBrokers: brokers });
  try {
    const topics = await admin.listTopics();
    const partitions = options.partitions ?? 12;
    if (topics.includes(topic)) {
      const meta = await admin.metadata({ topics: [topic] });
      const have = meta.topics.get(topic)?.partitionsCount ?? 0;
      if (have < partitions) {
        throw new MercuryError("conflict", `topic "${topic}" has ${have} partitions, ${partitions} asked`, {
          hint: "use another topic name, or --partitions " + have,
        });
      }
      return "exists";
    }
    const configs: { name: string; value: string }[] = [];
    if (options.retentionMs !== undefined) configs.push({ name: "retention.ms", value: String(options.retentionMs) });
    if (options.compact) configs.push({ name: "cleanup.policy", value: "compact" });
    if (options.maxMessageBytes) configs.push({ name: "max.message.bytes", value: String(options.maxMessageBytes) });
    await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs });
    // Wait until every partition has a leader.
    for (let i = 0; i < 50; i++) {
      const meta = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
      if ((meta?.topics.get(topic)?.partitionsCount ?? 0) >= partitions) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return "created";
  } finally {
    await admin.close();
  }
}

/** Options of {@linkcode produceEvents}. */
export interface ProduceEventsOptions extends Omit<GeneratorOptions, "count"> {
  brokers: string[];
  topic: string;
  /** Records to send (or give `durationSec` with `eventsPerSec`). */
  count?: number;
  durationSec?: number;
  /** Target rate; 0 = as fast as possible. */
  eventsPerSec?: number;
  /** Records per produce request (default 5000). */
  batchSize?: number;
  /** Requests in flight (default 4). */
  inFlight?: number;
  compression?: CompressionAlgorithmValue;
  /** Called after each batch with the running count. */
  onProgress?: (sent: number, total: number) => void;
}

/** What a produce run did. */
export interface ProduceReport {
  sent: number;
  seconds: number;
  eventsPerSec: number;
}

/** Sends generated events; resolves when every record is acknowledged by the broker. */
export async function produceEvents(options: ProduceEventsOptions): Promise<ProduceReport> {
  const rate = options.eventsPerSec ?? 0;
  const total = options.count ?? Math.round((options.durationSec ?? 10) * (rate || 10_000));
  const batchSize = options.batchSize ?? 5000;
  const producer = new Producer({
    clientId: "mercury-stream-producer",
    bootstrapBrokers: options.brokers,
    idempotent: true,
    acks: -1,
    compression: options.compression ?? "none",
  });
  const records = generateEvents({ ...options, count: total });
  let sent = 0;
  let queued = 0;
  const t0 = performance.now();
  const nextBatch = () => {
    const messages = [];
    for (let i = 0; i < batchSize; i++) {
      const r = records.next();
      if (r.done) break;
      messages.push({ topic: options.topic, key: Buffer.from(r.value.key), value: Buffer.from(r.value.value) });
    }
    return messages;
  };
  try {
    const worker = async () => {
      for (;;) {
        const messages = nextBatch();
        if (messages.length === 0) return;
        queued += messages.length;
        if (rate > 0) {
          const due = t0 + (queued / rate) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        await producer.send({ messages });
        sent += messages.length;
        options.onProgress?.(sent, total);
      }
    };
    // With an idempotent producer, in-flight requests keep per-partition order.
    await Promise.all(Array.from({ length: options.inFlight ?? 4 }, worker));
  } catch (err) {
    throw new MercuryError(
      "unavailable",
      `producing to "${options.topic}" failed after ${sent} records: ${(err as Error).message}`,
      {
        where: options.brokers.join(","),
        hint: "check the broker (`deno task services status kafka`) and the topic",
        cause: err,
      },
    );
  } finally {
    await producer.close().catch(() => {});
  }
  const seconds = (performance.now() - t0) / 1000;
  return { sent, seconds, eventsPerSec: sent / seconds };
}
