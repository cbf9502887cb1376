/**
 * Topics through the admin API and the load generator's producer: keyed
 * events from {@linkcode generateEvents}, an idempotent producer (acks=all),
 * batching, compression and a target rate.
 *
 * @module
 */
import { Admin, type CompressionAlgorithmValue } from "@platformatic/kafka";
import { MercuryError } from "@mercury/core";
import { generateEvents, type GeneratorOptions } from "./generator.ts";
import { RecordProducer } from "./record_producer.ts";
import {
  closeWithin,
  DEFAULT_REQUEST_TIMEOUT_MS,
  kafkaUnavailable,
  platformaticTimeouts,
  withKafkaDeadline,
} from "./kafka_deadline.ts";
import { retry } from "@mercury/core/retry";

/** Options of {@linkcode ensureTopic}. */
export interface TopicOptions {
  partitions?: number;
  /** `retention.ms` (default: broker default). */
  retentionMs?: number;
  /** `cleanup.policy=compact` (for changelog topics). */
  compact?: boolean;
  /** `max.message.bytes` (e.g. for large state records). */
  maxMessageBytes?: number;
  /** Deadline of each admin request, in ms (default 10 s): a silent broker is an `unavailable` error. */
  requestTimeoutMs?: number;
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
  const ms = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const admin = new Admin({ clientId: "mercury-stream-admin", bootstrapBrokers: brokers, ...platformaticTimeouts(ms) });
  const deadline = <T>(p: Promise<T>, what: string) => withKafkaDeadline(p, ms, brokers, what);
  try {
    const topics = await deadline(admin.listTopics(), "listing topics");
    const partitions = options.partitions ?? 12;
    if (topics.includes(topic)) {
      const meta = await deadline(admin.metadata({ topics: [topic] }), "metadata");
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
    try {
      // replicas -1: the broker's default.replication.factor (1 on the default broker, 3 on the cluster).
      await deadline(admin.createTopics({ topics: [topic], partitions, replicas: -1, configs }), "creating a topic");
    } catch (err) {
      // Another client (a worker starting beside this one) created it first.
      const now = await deadline(admin.listTopics(), "listing topics").catch(() => [] as string[]);
      if (!now.includes(topic)) throw err;
    }
    // Wait until every partition is in the metadata (50 × 100 ms at most; producing waits for leaders itself).
    await retry(async () => {
      const meta = await deadline(admin.metadata({ topics: [topic], forceUpdate: true }), "metadata");
      if ((meta.topics.get(topic)?.partitionsCount ?? 0) < partitions) throw new Error(`${topic} is not complete yet`);
    }, { attempts: 50, baseMs: 100, factor: 1 }).catch(() => {});
    return "created";
  } finally {
    await closeWithin(() => admin.close(), ms);
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
  /** Deadline of connecting and of each request, in ms (default 10 s). */
  requestTimeoutMs?: number;
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
  let producer: RecordProducer;
  try {
    producer = await RecordProducer.open({
      brokers: options.brokers,
      topic: options.topic,
      clientId: "mercury-stream-producer",
      acks: -1,
      compression: options.compression ?? "none",
      inFlight: options.inFlight ?? 4,
      requestTimeoutMs: options.requestTimeoutMs,
    });
  } catch (err) {
    throw kafkaUnavailable(options.brokers, `producing to "${options.topic}"`, err);
  }
  const records = generateEvents({ ...options, count: total });
  let queued = 0;
  const t0 = performance.now();
  try {
    for (;;) {
      if (rate > 0) {
        // Pace first, then stamp: a record's timestamp is when it leaves.
        const wait = t0 + ((queued + batchSize) / rate) * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const now = Date.now();
      let n = 0;
      for (; n < batchSize; n++) {
        const r = records.next();
        if (r.done) break;
        producer.append(r.value.key, r.value.value, now);
      }
      if (n === 0) break;
      queued += n;
      await producer.send();
      options.onProgress?.(producer.acknowledged, total);
    }
    await producer.flush();
  } catch (err) {
    throw kafkaUnavailable(
      options.brokers,
      `producing to "${options.topic}", ${producer.acknowledged} records acknowledged`,
      err,
    );
  } finally {
    await producer.close();
  }
  const sent = producer.acknowledged;
  const seconds = (performance.now() - t0) / 1000;
  return { sent, seconds, eventsPerSec: sent / seconds };
}
