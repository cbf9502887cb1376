/**
 * Kafka → Kafka exactly-once: window results go to an output topic, each
 * partition's open-window state to a compacted changelog topic, and the
 * consumer group's offsets ride in the same Kafka transaction
 * (`sendOffsetsToTransaction`). Readers use `read_committed`, so they see a
 * checkpoint whole or not at all; a restarted worker resumes from the
 * committed offsets and the state committed with them.
 *
 * Proven exactly-once under SIGKILLs and a broker crash by
 * `tests/stream/exactly_once_kafka_test.ts`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Consumer, Producer } from "@platformatic/kafka";
import { MercuryError } from "@mercury/core";
import { retry } from "@mercury/core/retry";
import {
  closeWithin,
  DEFAULT_REQUEST_TIMEOUT_MS,
  platformaticSecurity,
  platformaticTimeouts,
  withKafkaDeadline,
} from "./kafka_deadline.ts";
import { type Fetcher, FetchError } from "./fetcher.ts";
import { topicFetcher } from "./fetch_pump.ts";
import { withCoordinator } from "./_platformatic.ts";
import type { AggregatorSnapshot, WindowResult } from "./aggregator.ts";
import {
  type CheckpointStore,
  FencedError,
  type LoadedPartition,
  type PartitionCheckpoint,
} from "./checkpoint_store.ts";
import { ensureTopic } from "./produce.ts";

/** Options of {@linkcode KafkaTransactionalSink.open}. */
export interface KafkaSinkOptions {
  brokers: string[];
  pipeline: string;
  /** Where window results go (default `<pipeline>.windows`). */
  outputTopic?: string;
  /** Transactional id suffix; one per worker instance (default: the pid). */
  instanceId?: string;
  /** Partitions of the output topic when created (default 6). */
  partitions?: number;
  /**
   * Deadline of connecting and of each request while opening (the topics'
   * admin requests) and of the producer's connection, in ms (default 10 s).
   */
  requestTimeoutMs?: number;
}

interface ChangelogValue {
  nextOffset: string;
  state: AggregatorSnapshot;
}

/**
 * Reads a whole topic with read_committed: every partition from its start to
 * its last stable offset (the end of the committed records when the call
 * starts), through the stream worker's own {@linkcode Fetcher}, which drops an
 * aborted transaction's records with the aborted-transactions list of each
 * fetch response and skips control batches. `idleMs` bounds how long the read
 * may make no progress before it fails (a broker that answers fetches with
 * nothing).
 *
 * `settleMs` (default 0: off) first waits, up to that long, until each
 * partition's last stable offset has reached its high watermark. A
 * transaction's commit markers are written to its partitions after `EndTxn`
 * returns, so right after a writer stops, one partition may already show its
 * last transaction while another does not yet: a verifier reading both the
 * results and the changelog of that transaction must settle first. A
 * transaction still open after the deadline is not awaited further. Once read
 * to the end, a settling read also asks for the last stable offsets again and
 * reads on if they moved (up to three times): the first answer may have come
 * from a partition leader that had just taken over.
 *
 * @example
 * ```ts ignore
 * for (const r of await readCommitted(["127.0.0.1:9092"], "pipeline.windows")) console.log(r.key, r.value);
 * ```
 */
export async function readCommitted(
  brokers: string[],
  topic: string,
  idleMs = 1500,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  settleMs = 0,
): Promise<{ key: string; value: string; partition: number; offset: bigint }[]> {
  const consumer = new Consumer({
    clientId: "mercury-read-committed",
    groupId: `mercury-read-${crypto.randomUUID()}`,
    bootstrapBrokers: brokers,
    ...platformaticTimeouts(requestTimeoutMs),
  });
  const out: { key: string; value: string; partition: number; offset: bigint }[] = [];
  let fetcher: Fetcher | undefined;
  try {
    const unknown = () => new MercuryError("not_found", `unknown topic "${topic}"`, { where: brokers.join(",") });
    const list = async (isolationLevel: 0 | 1) => {
      const listed = consumer.listOffsets({ topics: [topic], isolationLevel }).catch((err: Error) => {
        throw /unknown topic/i.test(err.message) ? unknown() : err;
      });
      const what = isolationLevel ? "last stable offsets" : "high watermarks";
      const got = (await withKafkaDeadline(listed, requestTimeoutMs, brokers, what)).get(topic);
      if (!got) throw unknown();
      return got;
    };
    let ends = await list(1);
    for (const until = Date.now() + settleMs; Date.now() < until;) {
      const high = await list(0);
      if (high.every((h, p) => h === ends[p])) break;
      await new Promise((r) => setTimeout(r, 100));
      ends = await list(1);
    }
    const end = ends.map(Number);
    const made = topicFetcher(consumer, {
      topic,
      clientId: "mercury-read-committed",
      maxBytes: 64 * 1024 * 1024,
      requestTimeoutMs,
    });
    fetcher = made.fetcher;
    fetcher.assign(new Map(end.flatMap((e, p) => (e > 0 ? [[p, 0] as [number, number]] : []))));
    const decoder = new TextDecoder();
    const text = (buf: Uint8Array, s: number, e: number) => (s < 0 ? "" : decoder.decode(buf.subarray(s, e)));
    const pending = () => [...fetcher!.positions].some(([p, at]) => at < end[p]!);
    let lastProgress = Date.now();
    let failures = 0;
    // A settling read checks, once read to the end, that the end has not moved on meanwhile (a partition's
    // leader moved and the first answer was a new leader's, not yet caught up): then it reads on to the new end.
    let recheck = settleMs > 0 ? 3 : 0;
    for (;;) {
      if (!pending()) {
        if (recheck-- <= 0) break;
        const now = (await list(1)).map(Number);
        if (!now.some((e, p) => e > (end[p] ?? 0))) break;
        const positions = new Map(fetcher.positions);
        now.forEach((e, p) => {
          if (e > 0 && !positions.has(p)) positions.set(p, 0);
          end[p] = Math.max(e, end[p] ?? 0);
        });
        fetcher.assign(positions);
        continue;
      }
      let response;
      try {
        response = await fetcher.next();
        failures = 0;
      } catch (err) {
        // A leader that moved or a broker restarting: refresh the leaders and retry, as the worker's pump does.
        if (!(err instanceof FetchError && err.retriable) || ++failures >= 20) throw err;
        made.forgetLeaders();
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * failures)));
        continue;
      }
      fetcher.visit(response, (partition, offset, _ts, buf, ks, ke, vs, ve) => {
        if (offset >= end[partition]!) return; // committed after this read began
        out.push({ key: text(buf, ks, ke), value: text(buf, vs, ve), partition, offset: BigInt(offset) });
      });
      if (response.partitions.some((p) => p.nextOffset > p.fetchOffset)) lastProgress = Date.now();
      else if (Date.now() - lastProgress > Math.max(idleMs, requestTimeoutMs)) {
        throw new MercuryError(
          "unavailable",
          `reading ${topic} made no progress for ${Date.now() - lastProgress} ms`,
          { where: brokers.join(","), hint: "is the broker overloaded, or a partition's leader away?" },
        );
      }
    }
  } finally {
    fetcher?.close();
    await closeWithin(() => consumer.close(true), requestTimeoutMs);
  }
  return out;
}

/** Retries `fn` while the broker refuses connections (a broker restarting): 60 attempts, 1 s apart. */
function withBrokerRetry<T>(fn: () => Promise<T>): Promise<T> {
  return retry(fn, {
    attempts: 60,
    baseMs: 1000,
    factor: 1,
    retryable: (err) =>
      /ECONNREFUSED|ECONNRESET|Connection error|not available/i.test(
        `${(err as Error).message} ${(err as { cause?: Error }).cause?.message ?? ""}`,
      ),
  });
}

/** The Kafka transactional checkpoint store. */
export class KafkaTransactionalSink implements CheckpointStore {
  readonly commitsGroupOffsets = true;
  readonly incremental = false;
  #state = new Map<string, ChangelogValue>();
  #readAt = 0;

  private constructor(
    readonly brokers: string[],
    readonly outputTopic: string,
    readonly changelogTopic: string,
    private producer: Producer,
    private readonly makeProducer: () => Producer,
    private readonly timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  /** Creates the output and changelog topics if needed and a transactional producer. */
  static async open(options: KafkaSinkOptions): Promise<KafkaTransactionalSink> {
    const outputTopic = options.outputTopic ?? `${options.pipeline}.windows`;
    const changelogTopic = `${options.pipeline}.state`;
    const ms = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    await ensureTopic(options.brokers, outputTopic, { partitions: options.partitions ?? 6, requestTimeoutMs: ms });
    // A partition's open-window state is one record and can be large.
    await ensureTopic(options.brokers, changelogTopic, {
      partitions: 1,
      compact: true,
      maxMessageBytes: 64 * 1024 * 1024,
      requestTimeoutMs: ms,
    });
    const makeProducer = () =>
      new Producer({
        clientId: `mercury-eos-${options.pipeline}`,
        bootstrapBrokers: options.brokers,
        transactionalId: `mercury-${options.pipeline}-${options.instanceId ?? Deno.pid}`,
        idempotent: true,
        acks: -1,
        // InitProducerId must say "new producer" (-1/-1): the client's default (0/0) is refused as
        // fenced once the transactional id has been used before, e.g. by a worker that was killed.
        producerId: -1n,
        producerEpoch: -1,
        connectTimeout: ms,
        timeout: ms,
        ...platformaticSecurity(),
      });
    return new KafkaTransactionalSink(options.brokers, outputTopic, changelogTopic, makeProducer(), makeProducer, ms);
  }

  describe(): string {
    return `Kafka transactions: results → ${this.outputTopic}, state → ${this.changelogTopic} (compacted), offsets in the transaction`;
  }

  async load(topic: string, partition: number): Promise<LoadedPartition> {
    // Re-read the changelog when it may be stale (after a start or a rebalance).
    if (Date.now() - this.#readAt > 1000) {
      this.#state.clear();
      for (const r of await withBrokerRetry(() => readCommitted(this.brokers, this.changelogTopic, 500))) {
        if (r.value === "") this.#state.delete(r.key);
        else this.#state.set(r.key, JSON.parse(r.value));
      }
      this.#readAt = Date.now();
    }
    const v = this.#state.get(`${topic}/${partition}`);
    return v ? { nextOffset: BigInt(v.nextOffset), state: v.state } : { nextOffset: null, state: null };
  }

  async storedOffsets(topic: string, consumer?: Consumer): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    if (!consumer) return out;
    const meta = await consumer.metadata({ topics: [topic] });
    const count = meta.topics.get(topic)?.partitionsCount ?? 0;
    const partitions = Array.from({ length: count }, (_, i) => i);
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions }] })).get(topic) ?? [];
    committed.forEach((o, p) => {
      if (o >= 0n) out.set(p, o);
    });
    return out;
  }

  async commit(results: WindowResult[], checkpoints: PartitionCheckpoint[], consumer: Consumer): Promise<void> {
    let tx: Awaited<ReturnType<Producer["beginTransaction"]>> | undefined;
    // The whole transaction under a deadline: with a cluster's leader or transaction coordinator just
    // killed, a step of the client's can wait for ever (the cluster fault test saw every later
    // checkpoint held behind one). Timed out, it is aborted and retried with a fresh producer, whose
    // InitProducerId fences the stuck one.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ms = 3 * this.timeoutMs;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the checkpoint's transaction did not finish within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.#transaction(results, checkpoints, consumer, (t) => (tx = t)), expired]);
    } catch (err) {
      await closeWithin(() => tx?.abort() ?? Promise.resolve(), this.timeoutMs);
      // A fresh producer re-initialises the transactional id: the broker aborts whatever
      // was left open (also by a killed predecessor) and bumps the epoch.
      const old = this.producer;
      await closeWithin(() => old.close(), this.timeoutMs);
      this.producer = this.makeProducer();
      const text = JSON.stringify(err, Object.getOwnPropertyNames(err as object)) + String(err);
      if (/FENCED|ILLEGAL_GENERATION|INVALID_PRODUCER_EPOCH|UNKNOWN_MEMBER_ID|REBALANCE_IN_PROGRESS/.test(text)) {
        throw new FencedError(`transaction fenced: ${(err as Error).message}`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
    for (const c of checkpoints) {
      this.#state.set(`${c.topic}/${c.partition}`, { nextOffset: c.nextOffset.toString(), state: c.state });
    }
  }

  /** One checkpoint's transaction: results, changelog, the group's offsets, commit. */
  async #transaction(
    results: WindowResult[],
    checkpoints: PartitionCheckpoint[],
    consumer: Consumer,
    begun: (tx: Awaited<ReturnType<Producer["beginTransaction"]>>) => void,
  ): Promise<void> {
    const tx = await this.producer.beginTransaction();
    begun(tx);
    const out = results.map((w) => ({
      topic: this.outputTopic,
      key: Buffer.from(w.key),
      value: Buffer.from(JSON.stringify(w)),
    }));
    // Batches stay under the broker's default message.max.bytes (1 MB per record batch).
    for (let i = 0; i < out.length; i += 1000) await tx.send({ messages: out.slice(i, i + 1000) });
    for (const c of checkpoints) {
      const value: ChangelogValue = { nextOffset: c.nextOffset.toString(), state: c.state };
      await tx.send({
        messages: [{
          topic: this.changelogTopic,
          key: Buffer.from(`${c.topic}/${c.partition}`),
          value: Buffer.from(JSON.stringify(value)),
        }],
      });
    }
    await tx.addConsumer(consumer);
    // The coordinator as the consumer knows it now (it looks it up again after its broker failed).
    const coordinatorId = await consumer.findGroupCoordinator();
    for (const c of checkpoints) if (c.lastMessage) await tx.addOffset(withCoordinator(c.lastMessage, coordinatorId));
    await tx.commit();
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}

const SETTLE_MS = 10_000;

/** Count and sum per `key|start|end` from the output topic (read_committed) plus the changelog's open windows. */
export async function kafkaSinkTotals(
  brokers: string[],
  outputTopic: string,
  changelogTopic: string,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<Map<string, { count: number; sum: number }>> {
  const totals = new Map<string, { count: number; sum: number }>();
  const add = (k: string, count: number, sum: number) => {
    const t = totals.get(k) ?? { count: 0, sum: 0 };
    t.count += count;
    t.sum += sum;
    totals.set(k, t);
  };
  // Both topics are written in the same transactions: settle (up to 10 s) so that no transaction's markers are
  // visible in one and still in flight in the other.
  for (const r of await readCommitted(brokers, outputTopic, 1500, requestTimeoutMs, SETTLE_MS)) {
    const w = JSON.parse(r.value) as WindowResult;
    add(`${w.key}|${w.start}|${w.end}`, w.count, w.sum);
  }
  const latest = new Map<string, string>();
  for (const r of await readCommitted(brokers, changelogTopic, 500, requestTimeoutMs, SETTLE_MS)) {
    latest.set(r.key, r.value);
  }
  for (const v of latest.values()) {
    if (!v) continue;
    for (const [key, start, end, acc] of (JSON.parse(v) as ChangelogValue).state.open) {
      add(`${key}|${start}|${end}`, acc.c, acc.s);
    }
  }
  return totals;
}
