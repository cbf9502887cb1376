/**
 * Labels from Kafka: a consumer of `observe.labels` (group `observe-labels`)
 * that hands each batch to the server's label join. A record that is not
 * `{"id": "…", "label": <number>}` JSON is refused and counted like a bad
 * HTTP label; offsets are committed after the batch is joined and stored.
 *
 * @module
 */
import type { KafkaConnection } from "@mercury/core/services/kafka";
import { LABELS_TOPIC } from "./topics.ts";

/** Something that joins labels (the server). */
export interface LabelSink {
  addLabels(list: unknown[]): Promise<{ accepted: number; rejected: { id: unknown; reason: string }[] }>;
}

/** Starts consuming; returns a function that stops the consumer. */
export async function consumeLabels(
  k: KafkaConnection,
  sink: LabelSink,
  options: { groupId?: string; fromBeginning?: boolean; topic?: string } = {},
): Promise<() => Promise<void>> {
  const consumer = k.kafka.consumer({ groupId: options.groupId ?? "observe-labels" });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic ?? LABELS_TOPIC, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const list: unknown[] = batch.messages.map((m) => {
        try {
          return JSON.parse(m.value?.toString() ?? "");
        } catch {
          return { id: m.key?.toString() ?? null, label: "not JSON" };
        }
      });
      await sink.addLabels(list);
    },
  });
  return async () => await consumer.disconnect();
}
