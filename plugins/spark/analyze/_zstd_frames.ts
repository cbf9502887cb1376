/**
 * Splits a zstd stream into its frames. Spark's event-log writer ends a frame
 * at every flush, so a log is thousands of concatenated frames (9,405 in an
 * 11.7 MB log here); `node:zlib`'s zstd decoder stops after the first frame of
 * a buffer, and a pure-JS decoder took 8.8 s on that log where splitting and
 * decoding frame by frame with `node:zlib` took 1.2 s. A frame cut short (a
 * log still being written) ends the list.
 *
 * @module
 */
import { zstdDecompressSync } from "node:zlib";

const FRAME_MAGIC = 0xfd2fb528;

/** `[start, end)` of each complete frame (skippable frames are skipped). */
export function zstdFrames(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  const u32 = (p: number) => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  let p = 0;
  while (p + 8 <= b.length) {
    const start = p;
    const magic = u32(p);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      p += 8 + u32(p + 4);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new SyntaxError(`Cannot read zstd: no frame magic at byte ${p}`);
    const fhd = b[p + 4]!;
    p += 5;
    const single = (fhd >> 5) & 1;
    p += (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [single, 2, 4, 8][fhd >> 6]!;
    let last = 0;
    while (!last) {
      if (p + 3 > b.length) return out;
      const h = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
      p += 3;
      last = h & 1;
      p += ((h >> 1) & 3) === 1 ? 1 : h >>> 3; // an RLE block holds one byte
    }
    if ((fhd >> 2) & 1) p += 4; // content checksum
    if (p > b.length) return out;
    out.push([start, p]);
  }
  return out;
}

/** Decodes each complete frame of `b` in turn. */
export function* zstdDecodeFrames(b: Uint8Array): Generator<Uint8Array> {
  for (const [s, e] of zstdFrames(b)) yield zstdDecompressSync(b.subarray(s, e));
}
