/**
 * `deno task mercury stream topics`: lists the broker's topics with their
 * partition counts and end offsets.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { connectKafka } from "@mercury/core/services/kafka";
import { closeWithin, DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutMs, withKafkaDeadline } from "./kafka_deadline.ts";

/** One topic as listed. */
export interface TopicSummary {
  topic: string;
  partitions: number;
  /** Sum of the partitions' high-water marks. */
  messages: number;
}

/**
 * Lists topics (internal ones only with `internal`); connecting and each
 * request have `timeoutMs` (default 10 s), after which it is an `unavailable`
 * error naming the brokers.
 */
export async function listTopics(
  brokers: string[],
  internal = false,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<TopicSummary[]> {
  const deadline = <T>(p: Promise<T>, what: string) => withKafkaDeadline(p, timeoutMs, brokers, what);
  const k = await deadline(connectKafka({ brokers, timeoutMs }), "connecting");
  try {
    const listed = await deadline(k.admin.listTopics(), "listing topics");
    const names = listed.filter((t) => internal || !t.startsWith("__")).sort();
    const out: TopicSummary[] = [];
    for (const topic of names) {
      const offsets = await deadline(k.admin.fetchTopicOffsets(topic), `offsets of ${topic}`);
      out.push({
        topic,
        partitions: offsets.length,
        messages: offsets.reduce((s, o) => s + Number(o.high), 0),
      });
    }
    return out;
  } finally {
    await closeWithin(() => k.close(), timeoutMs);
  }
}

/** Runs `stream topics` (its options are in manifest.ts). */
export async function topics(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const timeoutMs = requestTimeoutMs(args.values["request-timeout"]);
  const topics = await listTopics(ctx.endpoints().kafka.brokers, args.values.internal === true, timeoutMs);
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
}
