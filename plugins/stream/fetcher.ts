/**
 * The stream worker's fetch path: Kafka Fetch (v11) requests on one TCP
 * connection per partition leader, and the record batches of each response
 * walked in place — no object, no `Buffer` and no `bigint` per record.
 *
 * Measured against `@platformatic/kafka`'s consumer stream (which the worker
 * used before): decoding a record into a `Message` cost about a third of the
 * worker's CPU and much of its garbage. The group protocol (join, heartbeats,
 * assignment) stays with `@platformatic/kafka`; this module only fetches.
 *
 * What it handles: record batches v2 (Kafka ≥ 0.11; the only format Kafka 4
 * writes), all five compression codecs (through `@platformatic/kafka`'s
 * codecs), `read_committed` (records of aborted transactions and control
 * batches are skipped, with the aborted-transaction list the broker sends),
 * `LogAppendTime` topics, partial batches at the end of a response, and batches
 * that start before the requested offset. Leader moves and unknown partitions
 * surface as {@linkcode FetchError}s with `retriable: true`.
 *
 * @example
 * ```ts ignore
 * const f = new Fetcher({ topic: "events", clientId: "me", leader: async () => ({ host: "127.0.0.1", port: 9092 }) });
 * f.assign(new Map([[0, 0], [1, 0]]));
 * const response = await f.next();
 * f.visit(response, (partition, offset, timestamp, buf, _ks, _ke, vs, ve) => {
 *   console.log(partition, offset, timestamp, new TextDecoder().decode(buf.subarray(vs, ve)));
 * });
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { compressionsAlgorithmsByBitmask } from "@platformatic/kafka";
import { type BrokerAddress, ConnectionPool, groupByBroker, int64, RequestWriter } from "./wire.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, kafkaSecurity } from "./kafka_deadline.ts";
import type { KafkaSecurity } from "@mercury/core";

/**
 * Called once per record of a response, in offset order within a partition.
 * Key and value are `buf[start, end)`; a null key or value has `start = end = -1`.
 */
export type RecordVisitor = (
  partition: number,
  offset: number,
  timestamp: number,
  buf: Uint8Array,
  keyStart: number,
  keyEnd: number,
  valueStart: number,
  valueEnd: number,
) => void;

/** One partition's part of a fetch response. */
export interface FetchedPartition {
  partition: number;
  /** The offset this fetch asked for. */
  fetchOffset: number;
  /** The offset after the last complete batch (the next fetch's offset). */
  nextOffset: number;
  highWatermark: number;
  /** Aborted transactions in this range (read_committed), ordered by first offset. */
  aborted: { producerId: number; firstOffset: number }[] | null;
  buf: Uint8Array;
  start: number;
  end: number;
}

/** A fetch response: the partitions that returned records. */
export interface FetchResponse {
  partitions: FetchedPartition[];
  /** Record bytes in the response (for back-pressure). */
  bytes: number;
}

/** A failed fetch; `retriable` ones (leader moved, broker away) go away by refreshing metadata and retrying. */
export class FetchError extends Error {
  override name = "FetchError";
  constructor(message: string, readonly code: number, readonly retriable: boolean, readonly partition?: number) {
    super(message);
  }
}

/** Options of {@linkcode Fetcher}. */
export interface FetcherOptions {
  topic: string;
  clientId: string;
  /** Where a partition's leader is (from the group client's metadata). */
  leader: (partition: number) => Promise<BrokerAddress>;
  /** 1 = read_committed (default), 0 = read_uncommitted. */
  isolationLevel?: 0 | 1;
  /** The broker waits this long for `minBytes` (default 100 ms). */
  maxWaitMs?: number;
  /** The broker answers once it has this many bytes, or `maxWaitMs` passed (default 1). */
  minBytes?: number;
  /** Response size limit (default 4 MiB). */
  maxBytes?: number;
  /** Per-partition limit (default 1 MiB). */
  partitionMaxBytes?: number;
  /**
   * Deadline of connecting and of a fetch's answer beyond `maxWaitMs` (default
   * 10 s): a silent broker fails the fetch (retriable) and its connection is dropped.
   */
  requestTimeoutMs?: number;
  /** TLS and SASL (default: the resolved endpoint's, environment > services file). */
  security?: KafkaSecurity;
}

/** A leader's fetch once it settled: its response or its failure. */
type Settled = { ok: true; response: FetchResponse } | { ok: false; error: unknown };

const FETCH = 1;
const FETCH_VERSION = 11;
const RETRIABLE = new Set([3, 5, 6, 9, 13, 56, 74, 75]); // unknown partition, leader moves, replica away, network

/** Fetches a topic's assigned partitions from their leaders, one request in flight per leader. */
export class Fetcher {
  readonly options: FetcherOptions;
  #offsets = new Map<number, number>();
  #pool: ConnectionPool;
  #pending = new Map<string, Promise<void>>();
  /**
   * Fetches that settled, in the order they did, waiting to be handed out. A
   * response that settles while no caller is waiting must wait here: its
   * partitions' positions have already moved past its records (before, a
   * response that settled right after another leader's failure was dropped, and
   * its partition stalled for good — seen when a cluster's leader was killed).
   */
  #settled: Settled[] = [];
  #wake: (() => void) | undefined;
  #correlation = 0;
  #topicBytes: Uint8Array;
  #clientBytes: Uint8Array;

  constructor(options: FetcherOptions) {
    this.options = options;
    this.#pool = new ConnectionPool(
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      "security" in options ? options.security : kafkaSecurity(),
    );
    this.#topicBytes = new TextEncoder().encode(options.topic);
    this.#clientBytes = new TextEncoder().encode(options.clientId);
  }

  /** Sets the partitions to fetch and the offset each starts at (partitions left out stop). */
  assign(offsets: Map<number, number>): void {
    this.#offsets = new Map(offsets);
  }

  /** The partitions fetched and their next offsets. */
  get positions(): ReadonlyMap<number, number> {
    return this.#offsets;
  }

  /** Moves one partition's position (e.g. to the log start after an out-of-range error). */
  seek(partition: number, offset: number): void {
    if (this.#offsets.has(partition)) this.#offsets.set(partition, offset);
  }

  /**
   * The next response with records (or an empty one after the brokers' wait).
   * A partition's next fetch is sent as soon as its previous response arrives,
   * so the network works while the caller processes.
   */
  async next(): Promise<FetchResponse> {
    if (this.#offsets.size === 0) {
      await new Promise((r) => setTimeout(r, this.options.maxWaitMs ?? 100));
      return { partitions: [], bytes: 0 };
    }
    // Group partitions by leader and make sure each leader has a request in flight.
    const leaders: [BrokerAddress, number][] = [];
    for (const p of this.#offsets.keys()) leaders.push([await this.options.leader(p), p]);
    for (const { broker, items: parts } of groupByBroker(leaders)) {
      const id = ConnectionPool.key(broker);
      if (this.#pending.has(id)) continue;
      // Settled either way, a leader's fetch leaves the map and joins the settled queue:
      // each response is handed out once, in order, and a failure is reported once (the next call retries).
      const settle = (outcome: Settled) => {
        this.#pending.delete(id);
        this.#settled.push(outcome);
        this.#wake?.();
      };
      const fetch = this.#fetchFrom(broker, parts).then(
        (response) => settle({ ok: true, response }),
        (error) => settle({ ok: false, error }),
      );
      this.#pending.set(id, fetch);
    }
    while (this.#settled.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    this.#wake = undefined;
    const outcome = this.#settled.shift()!;
    if (!outcome.ok) throw outcome.error;
    return outcome.response;
  }

  async #fetchFrom(broker: BrokerAddress, partitions: number[]): Promise<FetchResponse> {
    const id = ConnectionPool.key(broker);
    const asked = partitions.map((p) => [p, this.#offsets.get(p)!] as const);
    let frame: Uint8Array;
    try {
      frame = await (await this.#pool.get(broker)).request(this.#request(asked), this.options.maxWaitMs ?? 100);
    } catch (err) {
      this.#pool.drop(broker);
      throw new FetchError(`fetch from ${id} failed: ${(err as Error).message}`, -1, true);
    }
    const response = this.#parse(frame, new Map(asked));
    // Advance positions now (records are skipped by offset if a partition was re-assigned meanwhile).
    for (const part of response.partitions) {
      if (this.#offsets.get(part.partition) === part.fetchOffset) this.#offsets.set(part.partition, part.nextOffset);
    }
    return response;
  }

  #request(partitions: (readonly [number, number])[]): Uint8Array {
    const w = new RequestWriter(
      FETCH,
      FETCH_VERSION,
      ++this.#correlation,
      this.#clientBytes,
      128 + partitions.length * 28,
    )
      .int32(-1) // replica id
      .int32(this.options.maxWaitMs ?? 100)
      .int32(this.options.minBytes ?? 1)
      .int32(this.options.maxBytes ?? 4 * 1024 * 1024)
      .int8(this.options.isolationLevel ?? 1)
      .int32(0) // session id: no fetch session
      .int32(-1) // session epoch
      .int32(1) // one topic
      .string(this.#topicBytes)
      .int32(partitions.length);
    for (const [p, offset] of partitions) {
      w.int32(p)
        .int32(-1) // current leader epoch: unknown
        .int64(offset)
        .int64(-1) // log start offset (followers only)
        .int32(this.options.partitionMaxBytes ?? 1024 * 1024);
    }
    return w.int32(0) // forgotten topics
      .int16(0) // rack id ""
      .done();
  }

  #parse(frame: Uint8Array, asked: Map<number, number>): FetchResponse {
    const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    let i = 4; // correlation id
    i += 4; // throttle time
    const error = v.getInt16(i);
    i += 2;
    if (error !== 0) throw new FetchError(`fetch failed with Kafka error ${error}`, error, RETRIABLE.has(error));
    i += 4; // session id
    const topics = v.getInt32(i);
    i += 4;
    const partitions: FetchedPartition[] = [];
    let bytes = 0;
    for (let t = 0; t < topics; t++) {
      i += 2 + v.getInt16(i);
      const n = v.getInt32(i);
      i += 4;
      for (let k = 0; k < n; k++) {
        const partition = v.getInt32(i);
        const code = v.getInt16(i + 4);
        const highWatermark = int64(v, i + 6);
        i += 6 + 8 + 8 + 8; // high watermark, last stable offset, log start offset
        const abortedCount = v.getInt32(i);
        i += 4;
        let aborted: FetchedPartition["aborted"] = null;
        if (abortedCount > 0) {
          aborted = [];
          for (let a = 0; a < abortedCount; a++, i += 16) {
            aborted.push({ producerId: int64(v, i), firstOffset: int64(v, i + 8) });
          }
          aborted.sort((x, y) => x.firstOffset - y.firstOffset);
        }
        i += 4; // preferred read replica
        const length = v.getInt32(i);
        i += 4;
        const start = i;
        const end = length > 0 ? i + length : i;
        i = end;
        if (code !== 0) {
          throw new FetchError(
            code === 1
              ? `offset ${asked.get(partition)} of ${this.options.topic}/${partition} is out of range`
              : `fetch of ${this.options.topic}/${partition} failed with Kafka error ${code}`,
            code,
            RETRIABLE.has(code) || code === 1,
            partition,
          );
        }
        const fetchOffset = asked.get(partition) ?? 0;
        const nextOffset = scanBatches(v, start, end, fetchOffset);
        bytes += end - start;
        partitions.push({ partition, fetchOffset, nextOffset, highWatermark, aborted, buf: frame, start, end });
      }
    }
    return { partitions, bytes };
  }

  /** Walks every record of a response (see {@linkcode RecordVisitor}). */
  visit(response: FetchResponse, visitor: RecordVisitor): void {
    for (const part of response.partitions) visitPartition(part, visitor);
  }

  /** Closes the connections (a request in flight fails). */
  close(): void {
    void this.#pool.close();
  }
}

/** The offset after the last complete batch in `[start, end)` (or `from` when there is none). */
function scanBatches(v: DataView, start: number, end: number, from: number): number {
  let next = from;
  for (let pos = start; pos + 61 <= end;) {
    const batchEnd = pos + 12 + v.getInt32(pos + 8);
    if (batchEnd > end) break;
    next = Math.max(next, int64(v, pos) + v.getInt32(pos + 23) + 1);
    pos = batchEnd;
  }
  return next;
}

// The varint reader's position (module-level: no object per read).
let at = 0;

function varint(b: Uint8Array): number {
  let byte = b[at++]!;
  if (byte < 0x80) return (byte >>> 1) ^ -(byte & 1);
  let value = byte & 0x7f;
  let mul = 128;
  do {
    byte = b[at++]!;
    value += (byte & 0x7f) * mul;
    mul *= 128;
  } while (byte >= 0x80);
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

function visitPartition(part: FetchedPartition, visitor: RecordVisitor): void {
  const { buf, end, partition, fetchOffset, aborted } = part;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const abortedNow = new Set<number>();
  let nextAborted = 0;
  for (let pos = part.start; pos + 61 <= end;) {
    const batchEnd = pos + 12 + v.getInt32(pos + 8);
    if (batchEnd > end) break; // a partial batch: the next fetch starts at it
    const baseOffset = int64(v, pos);
    const magic = buf[pos + 16];
    if (magic !== 2) {
      throw new FetchError(`record batch of magic ${magic} at ${partition}@${baseOffset}: only v2 is read`, -1, false);
    }
    const attributes = v.getInt16(pos + 21);
    const lastOffset = baseOffset + v.getInt32(pos + 23);
    const baseTimestamp = int64(v, pos + 27);
    const maxTimestamp = int64(v, pos + 35);
    const producerId = int64(v, pos + 43);
    const count = v.getInt32(pos + 57);
    const transactional = (attributes & 16) !== 0;
    const control = (attributes & 32) !== 0;
    if (aborted) {
      while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= lastOffset) {
        abortedNow.add(aborted[nextAborted++]!.producerId);
      }
    }
    if (control) {
      // An abort marker ends the producer's aborted transaction.
      if (transactional && abortedNow.has(producerId) && controlType(buf, pos + 61) === 0) {
        abortedNow.delete(producerId);
      }
      pos = batchEnd;
      continue;
    }
    if ((transactional && abortedNow.has(producerId)) || lastOffset < fetchOffset) {
      pos = batchEnd;
      continue;
    }
    const codec = attributes & 7;
    let rb = buf;
    at = pos + 61;
    let recordsEnd = batchEnd;
    if (codec !== 0) {
      const algorithm = compressionsAlgorithmsByBitmask[codec];
      if (!algorithm) throw new FetchError(`unknown compression ${codec} at ${partition}@${baseOffset}`, -1, false);
      // The codecs want a Buffer (a view, not a copy).
      const compressed = Buffer.from(buf.buffer, buf.byteOffset + pos + 61, batchEnd - pos - 61);
      const inflated = algorithm.decompressSync(compressed) as unknown as Uint8Array;
      rb = inflated;
      at = 0;
      recordsEnd = inflated.length;
    }
    const logAppendTime = (attributes & 8) !== 0;
    for (let r = 0; r < count && at < recordsEnd; r++) {
      const length = varint(rb);
      const recordEnd = at + length;
      at++; // record attributes
      const tsDelta = varint(rb);
      const offset = baseOffset + varint(rb);
      const keyLength = varint(rb);
      const keyStart = keyLength >= 0 ? at : -1;
      if (keyLength > 0) at += keyLength;
      const keyEnd = keyLength >= 0 ? at : -1;
      const valueLength = varint(rb);
      const valueStart = valueLength >= 0 ? at : -1;
      const valueEnd = valueLength >= 0 ? at + valueLength : -1;
      at = recordEnd; // headers are not read
      if (offset < fetchOffset) continue;
      visitor(
        partition,
        offset,
        logAppendTime ? maxTimestamp : baseTimestamp + tsDelta,
        rb,
        keyStart,
        keyEnd,
        valueStart,
        valueEnd,
      );
    }
    pos = batchEnd;
  }
}

/** A control record's type (0 abort, 1 commit) from its key; -1 if unreadable. */
function controlType(buf: Uint8Array, recordsAt: number): number {
  at = recordsAt;
  varint(buf); // length
  at++; // attributes
  varint(buf); // timestamp delta
  varint(buf); // offset delta
  const keyLength = varint(buf);
  if (keyLength < 4) return -1;
  return (buf[at + 2]! << 8) | buf[at + 3]!;
}
