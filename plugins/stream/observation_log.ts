/**
 * The observation log: between two state snapshots, a checkpoint stores the
 * observations a partition's aggregator took (one text line each, after
 * parsing and enrichment) instead of every window they changed. A few hundred
 * kilobytes of appended text per checkpoint replace thousands of upserted
 * accumulators, so commits stay short under load; a worker that takes the
 * partition over restores the last snapshot and replays the log after it.
 *
 * Replay is exact because the aggregator is deterministic: its state after a
 * sequence of `add()`s does not depend on when `advance()` ran (final windows
 * are never reopened), and the logged observations carry the event time the
 * worker used (the processing time, for processing-time windows) and the
 * enrichment attributes it saw. Windows that close during replay were
 * already emitted and committed, so they are dropped.
 *
 * @module
 */
import type { Observation, WindowAggregator } from "./aggregator.ts";

const SPECIAL = /[\t\n\\]/;

/**
 * One observation as a log line: key, ts, value, distinct and (optionally)
 * the attributes as JSON, tab-separated, with tab/newline/backslash escaped.
 *
 * @example Round trip
 * ```ts
 * import { decodeObservations, encodeObservation } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const o = { key: "u\t1", ts: 1767225600000, value: 12.34, distinct: "d\\1", attrs: { tier: "gold" } };
 * const lines = [encodeObservation(o), encodeObservation({ key: "u2", ts: 5, value: 0.1, distinct: "d" })];
 * assert.deepEqual(decodeObservations(lines.join("\n")), [o, { key: "u2", ts: 5, value: 0.1, distinct: "d" }]);
 * ```
 */
export function encodeObservation(o: Observation): string {
  const line = `${escape(o.key)}\t${o.ts}\t${o.value}\t${escape(o.distinct)}`;
  if (!o.attrs) return line;
  // Enrichment shares one attrs object per entity: encode it once.
  let json = attrsJson.get(o.attrs);
  if (json === undefined) attrsJson.set(o.attrs, json = escape(JSON.stringify(o.attrs)));
  return `${line}\t${json}`;
}

const attrsJson = new WeakMap<Record<string, string>, string>();

/** Decodes lines written by {@linkcode encodeObservation} (joined by newlines). */
export function decodeObservations(text: string): Observation[] {
  if (text === "") return [];
  return text.split("\n").map((line) => {
    const [key, ts, value, distinct, attrs] = line.split("\t");
    const o: Observation = { key: unescape(key!), ts: Number(ts), value: Number(value), distinct: unescape(distinct!) };
    if (attrs !== undefined) o.attrs = JSON.parse(unescape(attrs));
    return o;
  });
}

/**
 * Replays logged observations (oldest chunk first) into an aggregator restored
 * from the snapshot the log follows; the windows that close on the way were
 * emitted before and are dropped. Returns the number of observations replayed.
 */
export function replayObservations(agg: WindowAggregator, chunks: readonly string[]): number {
  let n = 0;
  for (const chunk of chunks) {
    for (const o of decodeObservations(chunk)) {
      agg.add(o);
      n++;
    }
  }
  agg.advance();
  return n;
}

function escape(s: string): string {
  return SPECIAL.test(s) ? s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n") : s;
}

function unescape(s: string): string {
  return s.includes("\\") ? s.replace(/\\(.)/g, (_, c: string) => (c === "t" ? "\t" : c === "n" ? "\n" : c)) : s;
}
