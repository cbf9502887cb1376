/**
 * The observation log: between two state snapshots, a checkpoint stores the
 * observations a partition's aggregator took (after parsing and enrichment)
 * instead of every window they changed. A compact binary chunk per checkpoint
 * replaces thousands of upserted accumulators, so commits stay short under
 * load; a worker that takes the partition over restores the last snapshot and
 * replays the log after it.
 *
 * Replay is exact because the aggregator is deterministic: its state after a
 * sequence of `add()`s does not depend on when `advance()` ran (final windows
 * are never reopened), and the logged observations carry the event time the
 * worker used (the processing time, for processing-time windows) and the
 * enrichment attributes it saw. Windows that close during replay were
 * already emitted and committed, so they are dropped.
 *
 * A chunk ({@linkcode ObservationLog.take}) is `MOL1`, the observation count,
 * the byte length of a JSON array of the chunk's distinct attributes (each as
 * JSON), the byte length of the text section, that JSON, then, 8-byte
 * aligned: times and values as float64, each observation's attributes as an
 * int32 (index + 1, or 0), and its key and distinct value, each as a varint
 * of length · 2 + wide and then its UTF-16 code units, one byte each (all
 * at most 0xff) or two (wide); all little-endian. Numbers stay
 * exact (no text round trip) and appending allocates nothing: no number
 * becomes text, no string is hashed (looking the keys up in a table cost more
 * than copying them). Chunks written before it, text lines, are still read.
 *
 * @module
 */
import type { Observation, WindowAggregator } from "./aggregator.ts";

const SPECIAL = /[\t\n\\]/;

/**
 * One observation as a text log line (the format before binary chunks; still read): key, ts, value, distinct and (optionally)
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
 * A partition's observations since its last checkpoint, in columns.
 *
 * @example Round trip
 * ```ts
 * import { decodeObservationChunk, ObservationLog } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const log = new ObservationLog();
 * const tier = { tier: "gold" };
 * log.append({ key: "u1", ts: 1767225600000, value: 12.34, distinct: "d1", attrs: tier });
 * log.append({ key: "u2", ts: 1767225600007, value: 0.1, distinct: "d1" });
 * assert.equal(log.length, 2);
 * const chunk = log.take();
 * assert.equal(log.length, 0);
 * assert.deepEqual(decodeObservationChunk(chunk), [
 *   { key: "u1", ts: 1767225600000, value: 12.34, distinct: "d1", attrs: { tier: "gold" } },
 *   { key: "u2", ts: 1767225600007, value: 0.1, distinct: "d1" },
 * ]);
 * ```
 */
export class ObservationLog {
  /** Enrichment shares one attrs object per entity: each is encoded once per chunk. */
  #attrs = new Map<Record<string, string>, number>();
  #attrsJson: string[] = [];
  #numbers = new Float64Array(2 * 1024);
  #refs = new Int32Array(1024);
  #text = new Uint8Array(16 * 1024);
  #textLength = 0;
  #length = 0;

  /** Observations appended since the last {@linkcode ObservationLog.take}. */
  get length(): number {
    return this.#length;
  }

  /** Appends one observation (its fields are copied: the object can be reused). */
  append(o: Observation): void {
    const n = this.#length;
    if (n === this.#refs.length) this.#grow();
    this.#numbers[2 * n] = o.ts;
    this.#numbers[2 * n + 1] = o.value;
    let a = 0;
    if (o.attrs) {
      a = this.#attrs.get(o.attrs) ?? 0;
      if (a === 0) {
        this.#attrsJson.push(JSON.stringify(o.attrs));
        this.#attrs.set(o.attrs, a = this.#attrsJson.length);
      }
    }
    this.#refs[n] = a;
    // The strings' code units, copied as they are: no hashing, no encoding.
    this.#write(o.key);
    this.#write(o.distinct);
    this.#length = n + 1;
  }

  /** A string as varint(length · 2 + wide), then its code units: one byte each, or two if any is above 0xff. */
  #write(s: string): void {
    const n = s.length;
    let at = this.#textLength;
    if (at + 5 + 2 * n > this.#text.length) {
      const text = new Uint8Array(Math.max(this.#text.length * 2, at + 5 + 2 * n));
      text.set(this.#text.subarray(0, at));
      this.#text = text;
    }
    const text = this.#text;
    // The header has the same length either way (2n and 2n + 1 cross no 7-bit boundary).
    const header = at;
    for (let v = n * 2;; v = Math.floor(v / 128)) {
      if (v < 128) {
        text[at++] = v;
        break;
      }
      text[at++] = (v & 127) | 128;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) {
        this.#writeWide(s, header, at);
        return;
      }
      text[at + i] = c;
    }
    this.#textLength = at + n;
  }

  /** {@linkcode ObservationLog.#write} again with two bytes per code unit. */
  #writeWide(s: string, header: number, at: number): void {
    const text = this.#text;
    text[header] = text[header]! | 1; // the wide flag is the varint's lowest bit
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      text[at++] = c & 0xff;
      text[at++] = c >>> 8;
    }
    this.#textLength = at;
  }

  #grow(): void {
    const numbers = new Float64Array(this.#numbers.length * 2);
    numbers.set(this.#numbers);
    this.#numbers = numbers;
    const refs = new Int32Array(this.#refs.length * 2);
    refs.set(this.#refs);
    this.#refs = refs;
  }

  /** The chunk of everything appended since the last call; the log starts empty again. */
  take(): Uint8Array {
    const n = this.#length;
    const json = encoder.encode(JSON.stringify(this.#attrsJson));
    const at = Math.ceil((16 + json.length) / 8) * 8;
    const out = new Uint8Array(at + 20 * n + this.#textLength);
    const view = new DataView(out.buffer);
    out.set(MAGIC, 0);
    view.setUint32(4, n, true);
    view.setUint32(8, json.length, true);
    view.setUint32(12, this.#textLength, true);
    out.set(json, 16);
    out.set(new Uint8Array(this.#numbers.buffer, 0, 16 * n), at);
    out.set(new Uint8Array(this.#refs.buffer, 0, 4 * n), at + 16 * n);
    out.set(this.#text.subarray(0, this.#textLength), at + 20 * n);
    this.#attrs.clear();
    this.#attrsJson = [];
    this.#textLength = 0;
    this.#length = 0;
    return out;
  }
}

const MAGIC = new Uint8Array([0x4d, 0x4f, 0x4c, 0x31]); // "MOL1"
const encoder = new TextEncoder();
const textDecoder = new TextDecoder();
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("the observation log's binary chunks assume a little-endian machine");
}

/** Decodes a chunk written by {@linkcode ObservationLog.take}. */
export function decodeObservationChunk(chunk: Uint8Array): Observation[] {
  const where = "observation log chunk";
  if (chunk.length < 16 || MAGIC.some((b, i) => chunk[i] !== b)) throw new Error(`${where}: not a MOL1 chunk`);
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const n = view.getUint32(4, true);
  const jsonLength = view.getUint32(8, true);
  const textLength = view.getUint32(12, true);
  const at = Math.ceil((16 + jsonLength) / 8) * 8;
  const expected = at + 20 * n + textLength;
  if (chunk.length !== expected) throw new Error(`${where}: ${chunk.length} bytes, expected ${expected}`);
  const attrs = (JSON.parse(textDecoder.decode(chunk.subarray(16, 16 + jsonLength))) as string[])
    .map((j) => JSON.parse(j) as Record<string, string>);
  // Copies: where the database driver put the chunk need not be aligned for float64.
  const numbers = new Float64Array(chunk.slice(at, at + 16 * n).buffer);
  const refs = new Int32Array(chunk.slice(at + 16 * n, at + 20 * n).buffer);
  const text = chunk.subarray(at + 20 * n);
  let t = 0;
  const read = () => {
    let v = 0;
    for (let shift = 1;; shift *= 128) {
      if (t >= text.length) throw new Error(`${where}: a string runs past the end`);
      const b = text[t++]!;
      v += (b & 127) * shift;
      if (b < 128) break;
    }
    const length = Math.floor(v / 2);
    const bytes = v % 2 ? 2 * length : length;
    if (t + bytes > text.length) throw new Error(`${where}: a string runs past the end`);
    const units = text.subarray(t, t + bytes);
    t += bytes;
    if (v % 2) return utf16.decode(units);
    let out = "";
    for (let i = 0; i < units.length; i += 4096) {
      out += String.fromCharCode(...units.subarray(i, i + 4096));
    }
    return out;
  };
  const out: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const o: Observation = { key: read(), ts: numbers[2 * i]!, value: numbers[2 * i + 1]!, distinct: read() };
    const a = refs[i]!;
    if (a > 0) o.attrs = attrs[a - 1];
    out.push(o);
  }
  return out;
}

const utf16 = new TextDecoder("utf-16le");

/**
 * Replays logged observations (oldest chunk first: binary chunks, or text
 * written by {@linkcode encodeObservation}) into an aggregator restored from
 * the snapshot the log follows; the windows that close on the way were
 * emitted before and are dropped. Returns the number of observations replayed.
 */
export function replayObservations(agg: WindowAggregator, chunks: readonly (string | Uint8Array)[]): number {
  let n = 0;
  for (const chunk of chunks) {
    for (const o of typeof chunk === "string" ? decodeObservations(chunk) : decodeObservationChunk(chunk)) {
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
