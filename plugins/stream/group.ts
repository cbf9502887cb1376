/**
 * Group membership shared by the one-thread `Processor` and the
 * `ThreadedProcessor`: the group member's client and timings, its assigned
 * partitions, starting again after a group error, and the checks made before
 * joining (the input topic exists; the group's offsets are not ahead of the
 * checkpoints).
 *
 * @module
 */
import { Admin, Consumer } from "@platformatic/kafka";
import { MercuryError } from "@mercury/core";
import { retry } from "@mercury/core/retry";
import type { CheckpointStore } from "./checkpoint_store.ts";
import { trackTopic } from "./_platformatic.ts";
import {
  closeWithin,
  DEFAULT_REQUEST_TIMEOUT_MS,
  kafkaUnavailable,
  platformaticSecurity,
  platformaticTimeouts,
  withKafkaDeadline,
} from "./kafka_deadline.ts";

/** The partitions of `topic` the consumer group assigned to `consumer`. */
export function assignedPartitions(consumer: Consumer, topic: string): number[] {
  return (consumer.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions);
}

/** Partitions for a log line: `0,2,5`, or `none`. */
export function partitionList(partitions: readonly number[]): string {
  return [...partitions].sort((a, b) => a - b).join(",") || "none";
}

/**
 * The group member of a worker (`Processor` or `ThreadedProcessor`): its
 * session, heartbeat and rebalance timings. Records come through the
 * worker's own fetch path; the client keeps the group protocol.
 */
export function groupConsumer(
  brokers: string[],
  pipeline: string,
  group: string,
  instanceId?: string,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Consumer {
  return new Consumer({
    // The deadline, with the client's own retries kept: a long-lived member rides out a coordinator moving.
    timeout: requestTimeoutMs,
    connectTimeout: requestTimeoutMs,
    clientId: `mercury-stream-${pipeline}-${Deno.pid}`,
    groupId: group,
    ...(instanceId ? { groupInstanceId: instanceId } : {}),
    bootstrapBrokers: brokers,
    ...platformaticSecurity(),
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 20_000,
    maxWaitTime: 100,
    maxBytes: 16 * 1024 * 1024,
  });
}

/**
 * Starts (joins the group) again after a group error, waiting 200 ms, then
 * twice as long each time up to 2 s; after 30 failures `fail` gets the last
 * error. Once `stopped()`, no further start is made.
 */
export async function retryStart(
  start: () => Promise<void>,
  stopped: () => boolean,
  fail: (err: unknown) => void,
): Promise<void> {
  try {
    await retry(async () => {
      if (!stopped()) await start();
    }, { attempts: 30, baseMs: 200, maxMs: 2000 });
  } catch (err) {
    fail(err);
  }
}

/**
 * An unknown input topic is an error before anything is created; a broker
 * that does not answer within `requestTimeoutMs` (default 10 s) is an
 * `unavailable` one naming it.
 */
export async function checkTopic(
  brokers: string[],
  topic: string,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<void> {
  const admin = new Admin({
    clientId: "mercury-stream-check",
    bootstrapBrokers: brokers,
    ...platformaticTimeouts(requestTimeoutMs),
  });
  let topics: string[];
  try {
    topics = await withKafkaDeadline(admin.listTopics(), requestTimeoutMs, brokers, "listing topics");
  } catch (err) {
    throw kafkaUnavailable(brokers, "listing topics", err);
  } finally {
    await closeWithin(() => admin.close(), requestTimeoutMs);
  }
  if (!topics.includes(topic)) {
    throw new MercuryError("not_found", `unknown topic "${topic}"`, {
      where: brokers.join(","),
      hint: "create it first, e.g. `deno task mercury stream produce --topic " + topic + "`",
    });
  }
}

/**
 * Refuses to start when the group's Kafka offsets are ahead of the store's
 * checkpoints: records in between would be skipped (e.g. checkpoints deleted
 * by hand without resetting the group).
 */
export async function checkGroupOffsets(
  consumer: Consumer,
  store: CheckpointStore,
  topic: string,
  group: string,
): Promise<void> {
  const meta = await consumer.metadata({ topics: [topic] });
  const count = meta.topics.get(topic)?.partitionsCount ?? 0;
  const partitions = Array.from({ length: count }, (_, i) => i);
  const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions }] })).get(topic) ?? [];
  const stored = await store.storedOffsets(topic, consumer);
  for (const p of partitions) {
    const k = committed[p] ?? -1n;
    if (k > (stored.get(p) ?? 0n)) {
      throw new MercuryError(
        "conflict",
        `the consumer group's offset for ${topic}/${p} (${k}) is ahead of the pipeline's checkpoint (${
          stored.get(p) ?? "none"
        })`,
        {
          where: `group ${group}`,
          hint:
            "checkpoints were removed without resetting the group: reset both (`deno task mercury stream reset`) or use a new --pipeline",
        },
      );
    }
  }
}

/** Options of {@linkcode joinGroup}. */
export interface JoinGroupOptions {
  brokers: string[];
  topic: string;
  group: string;
  /** The checkpoint store whose offsets the group's must not be ahead of. */
  store: CheckpointStore;
  /** Deadline of each request (default 10 s); the join also waits up to 20 s more for the others' rebalance. */
  requestTimeoutMs?: number;
  /** Called once the offsets are checked, before joining: the caller makes `consumer` its current member. */
  checked: () => void;
}

/**
 * Joins the group as `consumer`: checks the group's offsets against the
 * store's checkpoints, tracks the topic (the group protocol — join,
 * heartbeats, assignment — stays with the client; records come through the
 * worker's own fetch path) and joins, each within its deadline.
 */
export async function joinGroup(consumer: Consumer, options: JoinGroupOptions): Promise<void> {
  const { brokers, topic } = options;
  const ms = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  await withKafkaDeadline(
    checkGroupOffsets(consumer, options.store, topic, options.group),
    ms,
    brokers,
    "group offsets",
  );
  options.checked();
  trackTopic(consumer, topic);
  // The join waits for the other members' rebalance (up to the rebalance timeout) besides the request deadline.
  await withKafkaDeadline(consumer.joinGroup({}), ms + 20_000, brokers, "joining the group");
}
