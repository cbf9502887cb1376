/**
 * Atomic file writes: the text goes to a temporary file beside the target,
 * then is renamed over it, so a reader never sees half a report.
 *
 * @module
 */
import { dirname } from "node:path";
import { MercuryError } from "@mercury/core/plugin";

/**
 * Writes `data` to `path` atomically (temp file in the same directory, then rename).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello");
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new MercuryError("input", `cannot create the directory of ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "choose a writable output path",
      cause: err,
    });
  }
  const tmp = `${dir}/.${crypto.randomUUID()}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw new MercuryError("input", `cannot write ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "choose a writable output path",
      cause: err,
    });
  }
}
