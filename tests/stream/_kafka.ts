/**
 * The reference reader of the wire-path tests: what `@platformatic/kafka`'s own
 * consumer reads from a topic, as plain records.
 */
import { Buffer } from "node:buffer";
import { resolveEndpoints } from "@mercury/core";
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import { uniqueName } from "../_helpers.ts";

/** A record as the tests compare them (text key and value; null when absent). */
export interface Rec {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
}

/** The first `count` records of `topic` from the client's consumer (a fresh group, from the earliest offsets). */
export async function readWithClient(topic: string, count: number, isolationLevel: 0 | 1 = 1): Promise<Rec[]> {
  const c = new Consumer({
    clientId: "wire-test-reference",
    groupId: uniqueName("ref"),
    bootstrapBrokers: resolveEndpoints().kafka.brokers,
    isolationLevel,
  });
  const out: Rec[] = [];
  try {
    const stream = await c.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    for await (const m of stream) {
      out.push({
        partition: m.partition,
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: m.key?.length ? Buffer.from(m.key as Uint8Array).toString() : null,
        value: m.value === undefined || m.value === null ? null : Buffer.from(m.value as Uint8Array).toString(),
      });
      if (out.length >= count) break;
    }
  } finally {
    await c.close(true);
  }
  return out;
}
