/**
 * Files written whole or not at all: a temp file in the same folder, then a
 * rename over the target (atomic on one file system), so a reader — or a
 * crash — never sees half a file. One implementation for every plugin and
 * task (reports, checkpoints, state files, Prometheus targets).
 *
 * @module
 */
import { MercuryError } from "./errors.ts";

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteAtomicOptions {
  /** Create the target's folder (and its parents) when missing (default true). */
  mkdir?: boolean;
  /** The hint of the error when it cannot be written (default: check that the folder is writable). */
  hint?: string;
}

/**
 * Writes `data` to `path` through a temp file beside it and a rename; the temp
 * file is removed when anything fails. Failures are `conflict` errors (exit
 * 73, "cannot create") naming the path.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "@mercury/core/files";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/sub/a.json`, '{"ok":true}\n');
 * assert.equal(await Deno.readTextFile(`${dir}/sub/a.json`), '{"ok":true}\n');
 * assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["a.json"]); // no temp file left
 * await assert.rejects(() => writeFileAtomic(`${dir}/sub`, "x"), /cannot write .*sub/); // a folder is in the way
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicOptions = {},
): Promise<void> {
  const cut = path.lastIndexOf("/");
  const dir = cut < 0 ? "." : cut === 0 ? "/" : path.slice(0, cut);
  const name = path.slice(cut + 1);
  const fail = (err: unknown) =>
    new MercuryError("conflict", `cannot write ${path}: ${(err as Error).message}`, {
      where: path,
      hint: options.hint ?? "check that the folder exists and is writable",
      cause: err,
    });
  if (options.mkdir ?? true) await Deno.mkdir(dir, { recursive: true }).catch((err) => Promise.reject(fail(err)));
  const tmp = `${dir}/.${name}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw fail(err);
  }
}
