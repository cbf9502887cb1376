/**
 * A read-ahead spool between a query and its reader. The query's bytes are
 * pulled as fast as the engine makes them, up to `bytes` ahead of what the
 * reader has taken, so an answer that fits is computed in one go and its
 * DuckDB connection goes back to the pool whatever the reader does. A reader
 * that takes nothing for `stallMs` loses the answer: the source is cancelled
 * (which stops the query and frees its connection), the spool is dropped, and
 * the reader sees an error rather than an end. Chunks go to the reader in
 * pieces of at most 256 KiB, so a slow but steady reader is not taken for a
 * stalled one.
 *
 * @example A reader that stops reading loses the answer; one that reads gets it all
 * ```ts
 * import { readAhead } from "./spool.ts";
 * import assert from "node:assert/strict";
 *
 * const source = () =>
 *   new ReadableStream<Uint8Array>({
 *     start(ctl) {
 *       for (let i = 0; i < 10; i++) ctl.enqueue(new Uint8Array(100));
 *       ctl.close();
 *     },
 *   });
 * const all = await new Response(readAhead(source(), { bytes: 250, stallMs: 1000 })).arrayBuffer();
 * assert.equal(all.byteLength, 1000);
 *
 * let ended = "";
 * const stalled = readAhead(source(), { bytes: 250, stallMs: 50, onEnd: (how) => (ended = how) });
 * const reader = stalled.getReader();
 * await reader.read();
 * await new Promise((r) => setTimeout(r, 200));
 * assert.equal(ended, "stalled");
 * await assert.rejects(reader.read(), /took nothing for 50 ms/);
 * ```
 *
 * @module
 */
import { OlapError } from "./errors.ts";

/** Options of {@linkcode readAhead}. */
export interface ReadAheadOptions {
  /** Bytes read ahead of the reader (at least one chunk is always held). */
  bytes: number;
  /** The longest the reader may leave waiting bytes untaken (0 = no limit). */
  stallMs: number;
  /** Called once when the answer is over: all handed to the reader, failed, cancelled by it, or stalled. */
  onEnd?: (how: "done" | "failed" | "cancelled" | "stalled") => void;
}

/** The most handed to the reader at once: at 52 KB/s a reader takes one in 5 s. */
const PIECE = 256 * 1024;

/** Wraps `source` in a read-ahead spool bounded in bytes and in how long it waits for its reader. */
export function readAhead(source: ReadableStream<Uint8Array>, options: ReadAheadOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const queue: Uint8Array[] = [];
  let queued = 0;
  let done = false;
  let failed: { err: unknown } | undefined;
  let over = false;
  let filling = false;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let out!: ReadableStreamDefaultController<Uint8Array>;

  const end = (how: "done" | "failed" | "cancelled" | "stalled") => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    options.onEnd?.(how);
  };
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    disarm();
    if (over || options.stallMs <= 0 || (queue.length === 0 && (done || failed))) return;
    timer = setTimeout(() => {
      const err = new OlapError(
        408,
        "slow_reader",
        `the reader took nothing for ${options.stallMs} ms; the answer was dropped`,
        { hint: "read the answer as it comes, or ask for less (limit, a narrower query)" },
      );
      queue.length = 0;
      queued = 0;
      end("stalled");
      reader.cancel(err).catch(() => {});
      try {
        out.error(err);
      } catch { /* already closed */ }
    }, options.stallMs);
  };
  const fill = async () => {
    if (filling) return;
    filling = true;
    try {
      while (!over && !done && !failed && (queued < options.bytes || queue.length === 0)) {
        const r = await reader.read();
        if (r.done) done = true;
        else {
          queue.push(r.value);
          queued += r.value.byteLength;
        }
        wake?.();
      }
    } catch (err) {
      failed = { err };
      wake?.();
    } finally {
      filling = false;
    }
  };

  return new ReadableStream<Uint8Array>({
    start(ctl) {
      out = ctl;
      fill();
      arm(); // a reader that never reads at all is a stalled one too
    },
    async pull(ctl) {
      disarm();
      while (!over && queue.length === 0 && !done && !failed) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      if (over) return;
      let chunk = queue.shift();
      if (chunk && chunk.byteLength > PIECE) {
        // Large chunks go out in pieces, so a reader that is slow but steady takes one well within stallMs.
        queue.unshift(chunk.subarray(PIECE));
        chunk = chunk.subarray(0, PIECE);
      }
      if (chunk) {
        queued -= chunk.byteLength;
        ctl.enqueue(chunk);
        if (queue.length === 0 && done) {
          end("done");
          ctl.close();
          return;
        }
        fill();
        arm();
        return;
      }
      if (failed) {
        end("failed");
        ctl.error(failed.err);
      } else {
        end("done");
        ctl.close();
      }
    },
    cancel(reason) {
      queue.length = 0;
      queued = 0;
      end("cancelled");
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
