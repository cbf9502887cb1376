/**
 * `@platformatic/kafka` shape: plugins/stream/_platformatic.ts registers a topic
 * through the consumer's untyped `topics.track` and hands a transaction a
 * hand-built offset `Message`. Against the broker: a member joined that way is
 * assigned the topic's partitions, and the offset committed that way is the
 * group's committed offset. Fails loudly when the library changes either.
 */
import assert from "node:assert/strict";
import { resolveEndpoints } from "@mercury/core";
import { Consumer, Producer } from "@platformatic/kafka";
import { ensureTopic } from "@mercury/stream";
import { asMessage, offsetCommitMessage, trackTopic } from "../../plugins/stream/_platformatic.ts";
import { uniqueName } from "../_helpers.ts";

Deno.test("platformatic: a joined member tracked with trackTopic commits offsets with offsetCommitMessage", async () => {
  const brokers = resolveEndpoints().kafka.brokers;
  const topic = uniqueName("shape");
  const group = uniqueName("shape-group");
  await ensureTopic(brokers, topic, { partitions: 2 });
  const consumer = new Consumer({
    clientId: "shape-test",
    groupId: group,
    bootstrapBrokers: brokers,
    maxWaitTime: 100,
  });
  const producer = new Producer({
    clientId: "shape-test",
    bootstrapBrokers: brokers,
    transactionalId: uniqueName("shape-tx"),
    idempotent: true,
    acks: -1,
    producerId: -1n,
    producerEpoch: -1,
  });
  try {
    trackTopic(consumer, topic);
    await consumer.joinGroup({});
    const assigned = consumer.assignments?.find((a) => a.topic === topic)?.partitions ?? [];
    assert.deepEqual([...assigned].sort(), [0, 1], "the tracked topic's partitions are assigned");
    for (const k of ["groupId", "memberId", "generationId", "coordinatorId"] as const) {
      assert.ok(consumer[k] !== undefined && consumer[k] !== null, `Consumer.${k} is set after joining`);
    }
    const tx = await producer.beginTransaction();
    await tx.addConsumer(consumer);
    await tx.addOffset(asMessage(offsetCommitMessage(consumer, topic, 1, 41)));
    await tx.commit();
    // The commit's markers are written after EndTxn answers: poll until the group's offsets are stable.
    let committed: number[] = [];
    for (let i = 0; i < 100; i++) {
      committed = ((await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1] }] })).get(topic) ?? [])
        .map(Number);
      if (committed[1] === 42) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(committed, [-1, 42], "offset 41 was committed as the next offset 42");
  } finally {
    await producer.close().catch(() => {});
    await consumer.close(true).catch(() => {});
  }
});
