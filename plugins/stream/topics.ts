/**
 * `deno task mercury stream topics`: lists the broker's topics with their
 * partition counts and end offsets.
 *
 * @module
 */
import type { CommandSpec } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";

/** One topic as listed. */
export interface TopicSummary {
  topic: string;
  partitions: number;
  /** Sum of the partitions' high-water marks. */
  messages: number;
}

/** Lists topics (internal ones only with `internal`). */
export async function listTopics(brokers: string[], internal = false): Promise<TopicSummary[]> {
  const k = await connectKafka({ brokers });
  try {
    const names = (await k.admin.listTopics()).filter((t) => internal || !t.startsWith("__")).sort();
    const out: TopicSummary[] = [];
    for (const topic of names) {
      const offsets = await k.admin.fetchTopicOffsets(topic);
      out.push({
        topic,
        partitions: offsets.length,
        messages: offsets.reduce((s, o) => s + Number(o.high), 0),
      });
    }
    return out;
  } finally {
    await k.close();
  }
}

/** The `topics` command. */
export const topicsCommand: CommandSpec = {
  summary: "list Kafka topics with partitions and message counts",
  options: {
    internal: { type: "boolean", description: "include internal topics (__consumer_offsets, …)" },
    json: { type: "boolean", description: "print JSON instead of a table" },
  },
  async run(args, ctx) {
    const topics = await listTopics(ctx.endpoints().kafka.brokers, args.values.internal === true);
    if (args.values.json) {
      ctx.print(JSON.stringify(topics));
      return;
    }
    if (topics.length === 0) {
      ctx.print("no topics");
      return;
    }
    const w = Math.max(5, ...topics.map((t) => t.topic.length));
    ctx.print(`${"topic".padEnd(w)}  partitions  messages`);
    for (const t of topics) {
      ctx.print(`${t.topic.padEnd(w)}  ${String(t.partitions).padStart(10)}  ${String(t.messages).padStart(8)}`);
    }
  },
};
