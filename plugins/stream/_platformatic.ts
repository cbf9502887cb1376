/**
 * The one place where the stream plugin reaches past `@platformatic/kafka`'s
 * public API. Two things: the worker joins a group without consuming through
 * the library, so it registers its topic with the consumer's (untyped)
 * `topics.track` before `joinGroup` ({@linkcode trackTopic}); and it builds the
 * `Message` a transaction's `addOffset` takes to commit a partition's offset
 * with the consumer group. The worker reads records with its own Fetcher, so it has no
 * library `Message` to hand; `addOffset` reads only `topic`, `partition`,
 * `offset` (committing `offset + 1`) and `metadata.consumer`'s group id,
 * member id, generation id and coordinator id, taken from the group member.
 * tests/stream/platformatic_shape_test.ts joins a group and commits an offset
 * this way against the broker, and fails loudly when the library changes
 * what it reads.
 *
 * @example
 * ```ts
 * import { offsetCommitMessage } from "./_platformatic.ts";
 * import assert from "node:assert/strict";
 *
 * const member = { groupId: "g", memberId: "m-1", generationId: 3, coordinatorId: 1 };
 * const m = offsetCommitMessage(member, "events", 2, 41);
 * assert.equal(m.offset, 41n);
 * assert.equal(m.metadata.consumer.groupId, "g");
 * ```
 *
 * @module
 */
import type { Consumer, Message } from "@platformatic/kafka";

/** What is read of a group member (a `@platformatic/kafka` `Consumer` once it has joined). */
export interface GroupMember {
  groupId: string;
  memberId: string | null;
  generationId: number;
  coordinatorId: number | null;
}

/** The `Message` fields `Transaction.addOffset` relies on. */
export interface OffsetCommitMessage {
  topic: string;
  partition: number;
  offset: bigint;
  metadata: { consumer: GroupMember };
}

/**
 * What a Kafka transaction needs to commit `lastOffset + 1` for `topic`/`partition`
 * with `member`'s group (`tx.addOffset(offsetCommitMessage(…) as Message)`; see {@linkcode asMessage}).
 */
export function offsetCommitMessage(
  member: GroupMember,
  topic: string,
  partition: number,
  lastOffset: number,
): OffsetCommitMessage {
  const { groupId, memberId, generationId, coordinatorId } = member;
  return {
    topic,
    partition,
    offset: BigInt(lastOffset),
    metadata: { consumer: { groupId, memberId, generationId, coordinatorId } },
  };
}

/**
 * `message` with the group coordinator's node id replaced: `addOffset` sends the
 * offset commit to `metadata.consumer.coordinatorId`, and one taken when the
 * checkpoint was cut names a dead broker once the coordinator's broker is
 * killed (its retries then never reached the new coordinator).
 */
export function withCoordinator(message: Message, coordinatorId: number): Message {
  const m = message as unknown as OffsetCommitMessage;
  return {
    ...m,
    metadata: { ...m.metadata, consumer: { ...m.metadata.consumer, coordinatorId } },
  } as unknown as Message;
}

/** The library's type for {@linkcode offsetCommitMessage}'s result (the only cast of a hand-built object). */
export function asMessage(m: OffsetCommitMessage): Message {
  return m as unknown as Message;
}

/**
 * Registers `topic` with a consumer that will `joinGroup` without `consume`, so
 * the group assignment includes its partitions (the library's `consumer.topics`
 * has `track` at run time, not in its types). Throws when it no longer does.
 */
export function trackTopic(consumer: Consumer, topic: string): void {
  const topics = consumer.topics as unknown as { track?: (topic: string) => boolean };
  if (typeof topics?.track !== "function") {
    throw new Error("@platformatic/kafka's Consumer.topics has no track(): update plugins/stream/_platformatic.ts");
  }
  topics.track(topic);
}
