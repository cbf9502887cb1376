/**
 * A stream worker's fetch path: a {@linkcode Fetcher} for the topic (leaders
 * from the group client's metadata, cached until a fetch fails), and the pump
 * that fetches into a bounded queue of responses while the fetcher is the
 * worker's current one.
 *
 * @module
 */
import type { Consumer } from "@platformatic/kafka";
import { Fetcher, FetchError, type FetchResponse } from "./fetcher.ts";

/** Fetched responses waiting to be processed hold at most this many record bytes. */
export const QUEUE_BYTES = 24 * 1024 * 1024;

/** Fetched responses waiting to be processed, and their record bytes. */
export class ResponseQueue {
  #items: FetchResponse[] = [];
  #bytes = 0;

  get length(): number {
    return this.#items.length;
  }

  /** Whether the pump should wait before fetching more. */
  get full(): boolean {
    return this.#bytes >= QUEUE_BYTES;
  }

  push(response: FetchResponse): void {
    this.#items.push(response);
    this.#bytes += response.bytes;
  }

  shift(): FetchResponse | undefined {
    const response = this.#items.shift();
    if (response) this.#bytes -= response.bytes;
    return response;
  }

  clear(): void {
    this.#items = [];
    this.#bytes = 0;
  }
}

/** Options of {@linkcode topicFetcher}. */
export interface TopicFetcherOptions {
  topic: string;
  clientId: string;
  maxBytes: number;
  requestTimeoutMs: number;
}

/** A read_committed fetcher of `topic`, finding leaders through `consumer`; `forgetLeaders` drops the cache. */
export function topicFetcher(
  consumer: Consumer,
  options: TopicFetcherOptions,
): { fetcher: Fetcher; forgetLeaders: () => void } {
  const { topic } = options;
  let leaders: Map<number, { host: string; port: number }> | undefined;
  // Set once leaders were forgotten (a fetch failed: NOT_LEADER_OR_FOLLOWER, a broker gone): the next lookup
  // must ask a broker, not the client's metadata cache, which still names the old leader.
  let stale = false;
  const fetcher = new Fetcher({
    topic,
    clientId: options.clientId,
    isolationLevel: 1, // read_committed
    maxWaitMs: 100,
    maxBytes: options.maxBytes,
    requestTimeoutMs: options.requestTimeoutMs,
    leader: async (p) => {
      if (!leaders?.has(p)) {
        const meta = await consumer.metadata({ topics: [topic], forceUpdate: stale || leaders !== undefined });
        stale = false;
        leaders = new Map();
        meta.topics.get(topic)?.partitions.forEach((part, i) => {
          const b = meta.brokers.get(part.leader);
          if (b) leaders!.set(i, { host: b.host, port: b.port });
        });
        if (!leaders.has(p)) throw new FetchError(`no leader known for ${topic}/${p}`, 5, true, p);
      }
      return leaders.get(p)!;
    },
  });
  return {
    fetcher,
    forgetLeaders: () => {
      leaders = undefined;
      stale = true;
    },
  };
}

/** What {@linkcode pump} asks of the worker. */
export interface PumpHooks {
  queue: ResponseQueue;
  /** Whether this fetcher is still the worker's. */
  current(): boolean;
  /** Whether to go on fetching: not stopped, and this fetcher is still the worker's. */
  running(): boolean;
  /** Each partition's first offset still in the log. */
  logStarts(): Promise<number[]>;
  /** The records of partition `p` below `start` were deleted before they were processed: go on from `start`. */
  skipTo(p: number, start: number): void;
  forgetLeaders(): void;
  /** How far behind the partition's end the fetch is. */
  lag(p: number, behind: number): void;
  /** A response was queued. */
  queued(): void;
  /** Fetching failed for good: restart the stream. */
  failed(): void;
  log(line: string): void;
}

/** Fetches into the queue while `hooks.running()`, pausing while the queue is full. */
export async function pump(fetcher: Fetcher, hooks: PumpHooks): Promise<void> {
  let failures = 0;
  // One leader away while the others answer resets `failures` on every response: say it at most once a second.
  let loggedAt = 0;
  while (hooks.running()) {
    if (hooks.queue.full) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    let response: FetchResponse;
    try {
      response = await fetcher.next();
      failures = 0;
    } catch (err) {
      if (!hooks.current()) return;
      const e = err as FetchError;
      if (e instanceof FetchError && e.code === 1 && e.partition !== undefined) {
        // The checkpoint's offset is gone from the log (retention): go on from the log's start, and say so.
        const start = (await hooks.logStarts().catch(() => []))[e.partition] ?? 0;
        hooks.log(`${e.message}; records were deleted before they were processed, resuming at ${start}`);
        hooks.skipTo(e.partition, start);
        fetcher.seek(e.partition, start);
        continue;
      }
      if (e instanceof FetchError && e.retriable && ++failures < 60) {
        if ((failures === 1 && Date.now() - loggedAt >= 1000) || failures % 10 === 0) {
          loggedAt = Date.now();
          hooks.log(`${e.message}; retrying`);
        }
        hooks.forgetLeaders();
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * failures)));
        continue;
      }
      hooks.log(`fetch failed: ${(err as Error).message}; restarting the stream`);
      hooks.failed();
      return;
    }
    if (!hooks.current()) return;
    for (const part of response.partitions) {
      hooks.lag(part.partition, Math.max(0, part.highWatermark - part.nextOffset));
    }
    if (response.bytes === 0) continue;
    hooks.queue.push(response);
    hooks.queued();
  }
}
