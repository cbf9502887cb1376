/**
 * The observe plugin's Kafka topics and how they are made.
 *
 * @module
 */
import type { KafkaConnection } from "@mercury/core/services/kafka";

/** Every prediction the server logs (key: prediction id; value: JSON). */
export const PREDICTIONS_TOPIC = "observe.predictions";
/** Labels arriving later: `{"id": "…", "label": 1}` per record. */
export const LABELS_TOPIC = "observe.labels";

/** Creates the topics when missing (3 partitions each). */
export async function ensureTopics(k: KafkaConnection, partitions = 3): Promise<void> {
  const have = new Set(await k.admin.listTopics());
  const topics = [PREDICTIONS_TOPIC, LABELS_TOPIC].filter((t) => !have.has(t));
  if (topics.length) {
    await k.admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      waitForLeaders: true,
    });
  }
}
