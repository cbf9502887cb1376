/**
 * Dead letters of a stream worker: malformed and late records, copied out of
 * the fetch response and sent to the dead-letter topic (at least once: before
 * the checkpoint that counts them commits) with `reason` and `source` headers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Producer } from "@platformatic/kafka";

/** A record to dead-letter. */
export interface DeadLetter {
  key: Buffer | undefined;
  value: Buffer | undefined;
  reason: string;
  partition: number;
  offset: number;
}

/** Dead letters per produce request: well under the broker's `message.max.bytes`. */
const CHUNK = 500;

/**
 * The dead letter of the record at `offset` of `partition`, its key at
 * `buf[ks, ke)` and value at `buf[vs, ve)` (a negative start: none). The bytes
 * are copied: they live in the fetch response, which should not stay alive for them.
 */
export function deadLetter(
  partition: number,
  offset: number,
  buf: Uint8Array,
  ks: number,
  ke: number,
  vs: number,
  ve: number,
  reason: string,
): DeadLetter {
  const key = ks < 0 ? undefined : Buffer.from(buf.subarray(ks, ke));
  const value = vs < 0 ? undefined : Buffer.from(buf.subarray(vs, ve));
  return { key, value, reason, partition, offset };
}

/**
 * The metric label of a reason: its first three words before any colon.
 *
 * @example
 * ```ts
 * import { deadLetterLabel } from "./dead_letters.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(deadLetterLabel("late: its windows are already final"), "late");
 * assert.equal(deadLetterLabel("value is not JSON at byte 3"), "value is not");
 * ```
 */
export function deadLetterLabel(reason: string): string {
  return reason.split(":")[0]!.split(" ").slice(0, 3).join(" ");
}

/** Sends `dead` (read from `sourceTopic`) to `dlqTopic`, in chunks. */
export async function sendDeadLetters(
  producer: Producer,
  dlqTopic: string,
  sourceTopic: string,
  dead: readonly DeadLetter[],
): Promise<void> {
  for (let i = 0; i < dead.length; i += CHUNK) {
    await producer.send({
      messages: dead.slice(i, i + CHUNK).map((d) => ({
        topic: dlqTopic,
        key: d.key,
        value: d.value ?? Buffer.alloc(0),
        headers: new Map([
          [Buffer.from("reason"), Buffer.from(d.reason)],
          [Buffer.from("source"), Buffer.from(`${sourceTopic}/${d.partition}@${d.offset}`)],
        ]),
      })),
    });
  }
}
