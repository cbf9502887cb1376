/**
 * The load generator's lean produce path: records are encoded straight into
 * per-partition record batches (v2, CRC-32C, optional compression) and sent as
 * Produce (v7) requests, several in flight on one connection per leader — no
 * `Buffer` and no object per record. Idempotent: the broker hands out a
 * producer id (InitProducerId) and every batch carries its partition's
 * sequence, so a duplicate is recognised by the broker.
 *
 * `@platformatic/kafka`'s producer spent most of its time copying `Buffer`s
 * under Deno's Node layer; measured side by side in `bench:stream-clients`.
 * Keys are partitioned as Kafka's Java client does (murmur2, positive, modulo
 * the partition count); keyless records go to one partition per request
 * (sticky), the next request to the next partition.
 *
 * Retries: batches refused with a passing error (leader moved or not yet
 * elected, a timeout, too few replicas, an out-of-order sequence, a dropped
 * connection) are resent in sequence order with the same producer id, so the
 * broker keeps each exactly once — up to 30 times in a row, with a growing
 * pause (50 ms × attempt, at most 1 s), and while a leader is unreachable for
 * no longer than three request deadlines. InitProducerId is retried while the
 * coordinator is loading. Any other broker error, or a passing one that does
 * not pass, ends the run with a {@linkcode ProduceError} naming the partition
 * and the error; the records not acknowledged are then reported, never
 * counted as sent. Transactions are not supported (the Kafka sink keeps
 * `@platformatic/kafka`'s transactional producer).
 *
 * @example
 * ```ts ignore
 * const p = await RecordProducer.open({ brokers: ["127.0.0.1:9092"], topic: "events" });
 * p.append("u1", '{"id":"1","user":"u1","device":"d","amount":1,"ts":1}', Date.now());
 * await p.flush();
 * await p.close();
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Admin, type CompressionAlgorithmValue, compressionsAlgorithms } from "@platformatic/kafka";
import { type BrokerAddress, ConnectionPool, groupByBroker, KafkaConnection, RequestWriter } from "./wire.ts";
import {
  closeWithin,
  DEFAULT_REQUEST_TIMEOUT_MS,
  kafkaSecurity,
  platformaticSecurity,
  platformaticTimeouts,
  withKafkaDeadline,
} from "./kafka_deadline.ts";
import type { KafkaSecurity } from "@mercury/core";

/** The options' security, or the resolved endpoint's when none was given. */
function securityOf(options: RecordProducerOptions): KafkaSecurity | undefined {
  return "security" in options ? options.security : kafkaSecurity();
}
import { retry } from "@mercury/core/retry";

/** Options of {@linkcode RecordProducer.open}. */
export interface RecordProducerOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
  /** -1 = all in-sync replicas (default), 1 = the leader. */
  acks?: -1 | 1;
  compression?: CompressionAlgorithmValue;
  /** Produce requests in flight per leader (default 5, Kafka's limit for idempotence). */
  inFlight?: number;
  /** Broker-side timeout of a produce request (default 30 s). */
  timeoutMs?: number;
  /**
   * Client-side deadline of connecting and of each request (default 10 s; a
   * produce request also gets `timeoutMs`). A broker silent for longer fails
   * the run instead of hanging it; a leader unreachable for about three times
   * this long ends the run (its batches are resent meanwhile).
   */
  requestTimeoutMs?: number;
  /**
   * A partition's batch is closed at about this many bytes (default 256 KiB,
   * under the broker's 1 MiB `max.message.bytes`); keyless records then move on
   * to the next partition.
   */
  batchBytes?: number;
  /** TLS and SASL (default: the resolved endpoint's, environment > services file). */
  security?: KafkaSecurity;
}

/** A broker refused a batch (or the connection failed); nothing after it was counted as sent. */
export class ProduceError extends Error {
  override name = "ProduceError";
  constructor(message: string, readonly code: number, readonly partition?: number) {
    super(message);
  }
}

const DEBUG = Deno.env.get("MERCURY_DEBUG") === "1";
const PRODUCE = 0;
const PRODUCE_VERSION = 7;
const INIT_PRODUCER_ID = 22;
const BATCH_HEADER = 61;
/**
 * Produce errors that pass: unknown partition or no leader yet, leader moved, timeout, too few replicas, and an
 * out-of-order sequence (what follows a refused batch on the same partition; resent in order it goes through).
 */
const RESEND = new Set([3, 5, 6, 7, 19, 20, 45, 74, 75]);
const MAX_RETRIES = 30;
/** InitProducerId errors that pass (timeouts, the coordinator loading or moving, a connection refused). */
const INIT_RETRIABLE = new Set([-1, 7, 14, 15, 16, 51]);
const ERROR_NAMES: Record<number, string> = {
  14: "COORDINATOR_LOAD_IN_PROGRESS",
  15: "COORDINATOR_NOT_AVAILABLE",
  16: "NOT_COORDINATOR",
  2: "CORRUPT_MESSAGE",
  3: "UNKNOWN_TOPIC_OR_PARTITION",
  6: "NOT_LEADER_OR_FOLLOWER",
  7: "REQUEST_TIMED_OUT",
  10: "MESSAGE_TOO_LARGE",
  19: "NOT_ENOUGH_REPLICAS",
  45: "OUT_OF_ORDER_SEQUENCE_NUMBER",
  47: "INVALID_PRODUCER_EPOCH",
  87: "INVALID_RECORD",
};

/** A closed batch, ready to send. */
interface Sealed {
  bytes: Uint8Array;
  count: number;
  sequence: number;
}

/** One partition's batch being filled. */
class OpenBatch {
  buf = new Uint8Array(64 * 1024);
  at = BATCH_HEADER;
  count = 0;
  baseTimestamp = 0;
  maxTimestamp = 0;
  sequence = 0;

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
  }
}

/** Each partition's leader; a partition without one yet (a topic just created, a broker restarting) is waited for. */
async function leadersOf(options: RecordProducerOptions): Promise<{ host: string; port: number }[]> {
  const ms = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const admin = new Admin({
    clientId: options.clientId ?? "mercury-producer",
    bootstrapBrokers: options.brokers,
    ...platformaticTimeouts(ms),
    ...platformaticSecurity(securityOf(options)),
  });
  try {
    // A missing leader (LEADER_NOT_AVAILABLE, 5) is asked again every 200 ms, 50 times; other errors end it.
    return await retry(async () => {
      const metadata = admin.metadata({ topics: [options.topic], forceUpdate: true });
      const meta = await withKafkaDeadline(metadata, ms, options.brokers, "metadata").catch((err: Error) => {
        throw /unknown topic/i.test(err.message)
          ? new ProduceError(`unknown topic "${options.topic}"`, 3)
          : new ProduceError(`cannot read the metadata of "${options.topic}": ${err.message}`, -1);
      });
      const topic = meta.topics.get(options.topic);
      if (!topic) throw new ProduceError(`unknown topic "${options.topic}"`, 3);
      const leaders = topic.partitions.map((p) => meta.brokers.get(p.leader));
      const missing = leaders.findIndex((b) => !b);
      if (missing >= 0) throw new ProduceError(`no leader for ${options.topic}/${missing}`, 5, missing);
      return leaders.map((b) => ({ host: b!.host, port: b!.port }));
    }, { attempts: 50, baseMs: 200, factor: 1, retryable: (err) => err instanceof ProduceError && err.code === 5 });
  } finally {
    await closeWithin(() => admin.close(), ms);
  }
}

/** A lean, idempotent producer for one topic. */
export class RecordProducer {
  readonly options: RecordProducerOptions;
  #partitions: number;
  #leaders: { host: string; port: number }[];
  #producerId: bigint;
  #epoch: number;
  #batches: OpenBatch[];
  /** Closed batches per partition, oldest first, waiting for a request (one per partition per request). */
  #ready: Sealed[][];
  #pool: ConnectionPool;
  /** When requests started failing for want of a connection (none since the last acknowledged one). */
  #unreachableSince: number | undefined;
  #unreachable: Error | undefined;
  #inflight = new Set<Promise<void>>();
  /** Batches to send again (a passing error), collected from the requests in flight. */
  #retry: [number, Sealed][] = [];
  #retries = 0;
  /** Partitions whose first batch the broker acknowledged, and those whose first batch is in flight. */
  #firstAcked: boolean[];
  #firstInFlight = new Set<number>();
  #failed: Error | undefined;
  #correlation = 0;
  #sticky = 0;
  #client: Uint8Array;
  #topic: Uint8Array;
  /** Records acknowledged by the broker. */
  acknowledged = 0;

  private constructor(
    options: RecordProducerOptions,
    leaders: { host: string; port: number }[],
    producerId: bigint,
    epoch: number,
  ) {
    this.options = options;
    this.#pool = new ConnectionPool(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, securityOf(options));
    this.#partitions = leaders.length;
    this.#leaders = leaders;
    this.#producerId = producerId;
    this.#epoch = epoch;
    this.#batches = leaders.map(() => new OpenBatch());
    this.#ready = leaders.map(() => []);
    this.#firstAcked = leaders.map(() => false);
    this.#client = new TextEncoder().encode(options.clientId ?? "mercury-producer");
    this.#topic = new TextEncoder().encode(options.topic);
  }

  /** Looks the topic's leaders up and obtains a producer id. */
  static async open(options: RecordProducerOptions): Promise<RecordProducer> {
    const leaders = await leadersOf(options);
    // InitProducerId v1 at the first partition's leader: a fresh id and epoch (no transactional id).
    // Right after a broker start its coordinator may still be loading: retried for up to ~30 s.
    // A leader that cannot be reached (no answer, closed, garbage) is retried within the request deadline only.
    const first = leaders[0]!;
    const ms = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const giveUpAt = Date.now() + ms;
    const unreachable = new WeakSet<object>();
    return await retry(async () => {
      let v: DataView;
      try {
        const conn = await KafkaConnection.open(first.host, first.port, ms, securityOf(options));
        try {
          const req = new RequestWriter(INIT_PRODUCER_ID, 1, 1, new TextEncoder().encode(options.clientId ?? "mercury"))
            .int16(-1) // transactional id: null
            .int32(60_000)
            .done();
          v = new DataView((await conn.request(req)).buffer);
        } finally {
          conn.close();
        }
      } catch (err) {
        const e = new ProduceError(`cannot reach ${first.host}:${first.port}: ${(err as Error).message}`, -1);
        unreachable.add(e);
        throw e;
      }
      const error = v.getInt16(8);
      if (error !== 0) {
        throw new ProduceError(`InitProducerId failed: ${ERROR_NAMES[error] ?? "Kafka error"} (${error})`, error);
      }
      return new RecordProducer(options, leaders, v.getBigInt64(10), v.getInt16(18));
    }, {
      attempts: 60,
      baseMs: 500,
      factor: 1,
      retryable: (err) =>
        err instanceof ProduceError && (unreachable.has(err) ? Date.now() < giveUpAt : INIT_RETRIABLE.has(err.code)),
    });
  }

  /** The partition Kafka's Java client would pick for this key. */
  partitionOf(key: Data | null): number {
    if (key === null) return this.#sticky;
    return (murmur2(key) & 0x7fffffff) % this.#partitions;
  }

  /**
   * Appends one record to its partition's open batch (sent by the next
   * {@linkcode RecordProducer.send}). Key and value are strings (UTF-8 on the
   * wire) or bytes (copied as they are).
   */
  append(key: Data | null, value: Data | null, timestamp: number): void {
    const limit = this.options.batchBytes ?? 256 * 1024;
    let p = this.partitionOf(key);
    if (key === null && this.#batches[p]!.at >= limit) p = this.#sticky = (this.#sticky + 1) % this.#partitions;
    if (this.#batches[p]!.at >= limit) this.#ready[p]!.push(this.#seal(p));
    const b = this.#batches[p]!;
    if (b.count === 0) b.baseTimestamp = b.maxTimestamp = timestamp;
    else if (timestamp > b.maxTimestamp) b.maxTimestamp = timestamp;
    const keyBytes = key === null ? -1 : byteLength(key);
    const valueBytes = value === null ? -1 : byteLength(value);
    const tsDelta = timestamp - b.baseTimestamp;
    const body = 1 + varintSize(tsDelta) + varintSize(b.count) + varintSize(keyBytes) + Math.max(0, keyBytes) +
      varintSize(valueBytes) + Math.max(0, valueBytes) + 1;
    b.room(body + 5);
    const buf = b.buf;
    let at = writeVarint(buf, b.at, body);
    buf[at++] = 0; // attributes
    at = writeVarint(buf, at, tsDelta);
    at = writeVarint(buf, at, b.count);
    at = writeVarint(buf, at, keyBytes);
    if (key !== null) at = writeData(buf, at, key, keyBytes);
    at = writeVarint(buf, at, valueBytes);
    if (value !== null) at = writeData(buf, at, value, valueBytes);
    buf[at++] = 0; // no headers
    b.at = at;
    b.count++;
  }

  /**
   * Sends every open batch (one Produce request per leader). Resolves once the
   * request is on its way; waits first while `inFlight` requests are unanswered.
   * Throws the first broker error of an earlier request.
   */
  async send(): Promise<void> {
    if (this.#failed) throw this.#failed;
    this.#sticky = (this.#sticky + 1) % this.#partitions;
    // Close the open batches, then send requests until every closed batch is out:
    // at most one batch per partition in a request, a partition's batches in order.
    this.#batches.forEach((b, p) => {
      if (b.count) this.#ready[p]!.push(this.#seal(p));
    });
    for (;;) {
      if (this.#retry.length) await this.#requeue();
      if (!this.#ready.some((q) => q.length)) return;
      const round: [BrokerAddress, [number, Sealed]][] = [];
      this.#ready.forEach((q, p) => {
        // A broker with no state for this producer takes any first sequence: until a partition's
        // first batch is acknowledged, no later one may overtake it (it would be refused on resend).
        if (this.#firstInFlight.has(p)) return;
        const batch = q.shift();
        if (!batch) return;
        if (!this.#firstAcked[p]) this.#firstInFlight.add(p);
        round.push([this.#leaders[p]!, [p, batch]]);
      });
      if (round.length === 0) {
        // Only first batches in flight: wait for one (a refused one ends the run).
        if (this.#inflight.size === 0) throw this.#failed ?? new ProduceError("no batch in flight to wait for", -1);
        await Promise.race(this.#inflight);
        if (this.#failed) throw this.#failed;
        continue;
      }
      for (const { broker, items: sealed } of groupByBroker(round)) {
        while (this.#inflight.size >= (this.options.inFlight ?? 5)) await Promise.race(this.#inflight);
        if (this.#failed) throw this.#failed;
        const done = this.#request(broker, sealed).then(
          (failed) => {
            if (failed.length) this.#retry.push(...failed);
            else this.#retries = 0; // a passing error that passed
            if (!failed.length) this.#unreachableSince = undefined;
          },
          (err) => void (this.#failed ??= err),
        );
        this.#inflight.add(done);
        void done.finally(() => this.#inflight.delete(done));
      }
    }
  }

  /** Sends what is open and waits until every request is acknowledged. */
  async flush(): Promise<void> {
    await this.send();
    for (;;) {
      while (this.#inflight.size) await Promise.all(this.#inflight);
      if (this.#failed) throw this.#failed;
      if (!this.#retry.length) return;
      await this.send();
    }
  }

  /**
   * Puts batches a broker refused with a passing error (leader moved or not yet
   * elected, a timeout, a dropped connection) back at the front of their
   * partitions' queues, in sequence order, once nothing is in flight: resent
   * with the same producer id and sequences, the broker keeps each exactly once.
   */
  async #requeue(): Promise<void> {
    while (this.#inflight.size) await Promise.all(this.#inflight);
    if (this.#failed) throw this.#failed;
    const ms = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (this.#unreachableSince !== undefined && Date.now() - this.#unreachableSince > 3 * ms) {
      throw this.#failed = new ProduceError(
        `producing to ${this.options.topic} failed: ${this.#unreachable?.message ?? "no connection"}`,
        -1,
      );
    }
    if (++this.#retries > MAX_RETRIES) {
      const [p] = this.#retry[0]!;
      throw this.#failed = new ProduceError(
        `producing to ${this.options.topic}/${p} still fails after ${MAX_RETRIES} retries`,
        -1,
        p,
      );
    }
    const failed = this.#retry.splice(0).sort(([pa, a], [pb, b]) => pa - pb || a.sequence - b.sequence);
    for (let i = failed.length - 1; i >= 0; i--) this.#ready[failed[i]![0]]!.unshift(failed[i]![1]);
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * this.#retries)));
    this.#leaders = await leadersOf(this.options).catch(() => this.#leaders);
  }

  /** Sends one request; resolves with the batches to resend (passing errors), throws on the others. */
  async #request(broker: BrokerAddress, sealed: [number, Sealed][]): Promise<[number, Sealed][]> {
    const w = new RequestWriter(
      PRODUCE,
      PRODUCE_VERSION,
      ++this.#correlation,
      this.#client,
      64 + sealed.reduce((n, [, b]) => n + b.bytes.length + 8, 0),
    )
      .int16(-1) // transactional id: null
      .int16(this.options.acks ?? -1)
      .int32(this.options.timeoutMs ?? 30_000)
      .int32(1)
      .string(this.#topic)
      .int32(sealed.length);
    for (const [p, b] of sealed) w.int32(p).int32(b.bytes.length).bytes(b.bytes);
    // One connection per leader (the pool's): requests on it keep their order, as sequences must.
    let frame: Uint8Array;
    try {
      frame = await (await this.#pool.get(broker)).request(w.done(), this.options.timeoutMs ?? 30_000);
    } catch (err) {
      // The connection is gone: everything on it is resent on a new one.
      this.#unreachableSince ??= Date.now();
      this.#unreachable = err as Error;
      for (const [p] of sealed) this.#firstInFlight.delete(p);
      this.#pool.drop(broker);
      return sealed;
    }
    const batches = new Map(sealed);
    const resend: [number, Sealed][] = [];
    const v = new DataView(frame.buffer);
    let i = 4;
    const topics = v.getInt32(i);
    i += 4;
    for (let t = 0; t < topics; t++) {
      i += 2 + v.getInt16(i);
      const n = v.getInt32(i);
      i += 4;
      for (let k = 0; k < n; k++, i += 30) {
        const partition = v.getInt32(i);
        const error = v.getInt16(i + 4);
        const batch = batches.get(partition)!;
        // 46 DUPLICATE_SEQUENCE_NUMBER: the broker already has this batch.
        this.#firstInFlight.delete(partition);
        if (error === 0 || error === 46) {
          this.acknowledged += batch.count;
          this.#firstAcked[partition] = true;
        } else if (RESEND.has(error)) {
          if (DEBUG) {
            console.error(
              `produce ${this.options.topic}/${partition} seq ${batch.sequence}: error ${error}, resending`,
            );
          }
          resend.push([partition, batch]);
        } else {
          throw new ProduceError(
            `the broker refused a batch for ${this.options.topic}/${partition}: ${
              ERROR_NAMES[error] ?? "error"
            } (${error})`,
            error,
            partition,
          );
        }
      }
    }
    return resend;
  }

  /** Finishes partition `p`'s open batch (header, CRC, compression) and starts a new one. */
  #seal(p: number): Sealed {
    const b = this.#batches[p]!;
    this.#batches[p] = new OpenBatch();
    this.#batches[p].sequence = (b.sequence + b.count) % 2147483648;
    let bytes = b.buf.subarray(0, b.at);
    let attributes = 0;
    const codec = this.options.compression ?? "none";
    if (codec !== "none") {
      const algorithm = compressionsAlgorithms[codec];
      const records = Buffer.from(b.buf.buffer, BATCH_HEADER, b.at - BATCH_HEADER);
      const compressed = algorithm.compressSync(records) as unknown as Uint8Array;
      const out = new Uint8Array(BATCH_HEADER + compressed.length);
      out.set(compressed, BATCH_HEADER);
      bytes = out;
      attributes = algorithm.bitmask;
    }
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    v.setBigInt64(0, 0n); // base offset (the broker assigns)
    v.setInt32(8, bytes.length - 12); // batch length
    v.setInt32(12, -1); // partition leader epoch
    v.setInt8(16, 2); // magic
    v.setInt16(21, attributes);
    v.setInt32(23, b.count - 1); // last offset delta
    v.setBigInt64(27, BigInt(b.baseTimestamp));
    v.setBigInt64(35, BigInt(b.maxTimestamp));
    v.setBigInt64(43, this.#producerId);
    v.setInt16(51, this.#epoch);
    v.setInt32(53, b.sequence);
    v.setInt32(57, b.count);
    v.setUint32(17, crc32c(bytes, 21, bytes.length));
    return { bytes, count: b.count, sequence: b.sequence };
  }

  /** Closes the connections (unsent records are dropped: call {@linkcode RecordProducer.flush} first). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

function varintSize(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Writes a zigzag varint; returns the position after it. */
function writeVarint(buf: Uint8Array, at: number, n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 128) {
    buf[at++] = (z & 0x7f) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[at++] = z;
  return at;
}

const encoder = new TextEncoder();

/** UTF-8 length of a string (its length when ASCII). */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return encoder.encode(s).length;
  }
  return s.length;
}

/** A key or value: text (sent as UTF-8) or bytes. */
export type Data = string | Uint8Array;

function byteLength(d: Data): number {
  return typeof d === "string" ? utf8Length(d) : d.length;
}

function writeData(buf: Uint8Array, at: number, d: Data, bytes: number): number {
  if (typeof d === "string") return writeUtf8(buf, at, d, bytes);
  buf.set(d, at);
  return at + bytes;
}

function writeUtf8(buf: Uint8Array, at: number, s: string, bytes: number): number {
  if (bytes === s.length) {
    for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
    return at + bytes;
  }
  encoder.encodeInto(s, buf.subarray(at, at + bytes));
  return at + bytes;
}

/** Kafka's murmur2 (Java client `Utils.murmur2`) over a key's bytes (a string's UTF-8 bytes). */
function murmur2(key: Data): number {
  const data = typeof key !== "string" ? key : utf8Length(key) === key.length ? null : encoder.encode(key);
  const length = data ? data.length : key.length;
  const at = data ? (i: number) => data[i]! : (i: number) => (key as string).charCodeAt(i);
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const fours = length & ~3;
  for (let i = 0; i < fours; i += 4) {
    let k = at(i) | (at(i + 1) << 8) | (at(i + 2) << 16) | (at(i + 3) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= at(fours + 2) << 16;
    // falls through
    case 2:
      h ^= at(fours + 1) << 8;
    // falls through
    case 1:
      h ^= at(fours);
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** CRC-32C tables for slicing by 8. */
const CRC_TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t[0]![t[k - 1]![n]! & 0xff]!;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `buf[from, to)`, as record batches carry it. */
export function crc32c(buf: Uint8Array, from = 0, to = buf.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = 0xffffffff;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    const a = (crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    crc = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < to; i++) crc = t0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
