/**
 * The files a command writes, checked before any work and written all or
 * nothing. {@linkcode OutputFiles.plan} checks each path when the command
 * starts (its folder exists and is writable, the path is not a folder);
 * {@linkcode OutputFiles.stage} writes a hidden temp file beside the target;
 * {@linkcode OutputFiles.commit} renames every temp file into place at the
 * end, and {@linkcode OutputFiles.discard} removes them when the command
 * failed — so a failing chart never leaves a finished CSV behind, and no
 * `*.tmp-*` file outlives the command.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { basename, dirname, resolve } from "node:path";

const conflict = (option: string, path: string, what: string, hint: string, cause?: unknown) =>
  new MercuryError("conflict", `${option} ${path}: ${what}`, { where: option, hint, cause });

/** Where {@linkcode checkOutputPath} found an output goes. */
export interface OutputTarget {
  /** The file to replace: the path, or what an existing symlink points to (so the link survives). */
  target: string;
  /** An existing target that is not a regular file (a FIFO), or any under /dev or /proc: written in place, never renamed over. */
  direct: boolean;
}

/**
 * Checks that a file can be created at `path`: the folder holding it exists,
 * is a folder and is writable, and `path` itself is not a folder. Failures are
 * `conflict` errors (exit 73) naming the option and the path.
 *
 * @example
 * ```ts
 * import { checkOutputPath } from "./output_files.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.deepEqual(await checkOutputPath("--output", `${dir}/f.csv`), { target: `${dir}/f.csv`, direct: false });
 * assert.equal((await checkOutputPath("--output", "/dev/null")).direct, true); // a device: written in place
 * await assert.rejects(() => checkOutputPath("--output", dir), /--output .*: is a folder/);
 * await assert.rejects(() => checkOutputPath("--chart", `${dir}/nodir/c.svg`), /--chart .*: folder .* does not exist/);
 * await Deno.remove(dir);
 * ```
 */
export async function checkOutputPath(option: string, path: string): Promise<OutputTarget> {
  const hint = `pass ${option} a file path in an existing, writable folder`;
  if (path === "" || path.endsWith("/")) throw conflict(option, path, "is a folder, not a file name", hint);
  const found = await Deno.stat(path).catch(() => null);
  if (found?.isDirectory) throw conflict(option, path, "is a folder, not a file", hint);
  if (found && !found.isFile) return { target: path, direct: true };
  // /dev/stdout is a regular file when the shell redirects to one (`> out.csv`, `>> log`): write through, never rename.
  if (found && /^\/(dev|proc)\//.test(path)) return { target: path, direct: true };
  const target = found ? await Deno.realPath(path) : path;
  const dir = dirname(target);
  const folder = await Deno.stat(dir).catch(() => null);
  if (!folder) throw conflict(option, path, `folder ${dir} does not exist`, `create it first, or ${hint}`);
  if (!folder.isDirectory) throw conflict(option, path, `${dir} is not a folder`, hint);
  try {
    // Permission bits do not tell (root, ACLs, read-only mounts): create and remove a file.
    const probe = await Deno.makeTempFile({ dir, prefix: `.${basename(target)}.check-` });
    await Deno.remove(probe);
  } catch (err) {
    throw conflict(option, path, `folder ${dir} is not writable (${(err as Error).name})`, hint, err);
  }
  return { target, direct: false };
}

/**
 * A command's output files: planned (checked) up front, staged as temp
 * files, then committed together or discarded.
 *
 * @example Two outputs, all or nothing
 * ```ts
 * import { OutputFiles } from "./output_files.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const out = new OutputFiles();
 * await out.plan("--output", `${dir}/a.csv`);
 * await out.plan("--errors", `${dir}/b.csv`);
 * await out.stage(`${dir}/a.csv`, "x\n1\n");
 * await out.discard(); // e.g. writing b failed
 * assert.deepEqual([...Deno.readDirSync(dir)], []);
 *
 * await OutputFiles.run(async (o) => {
 *   await o.plan("--output", `${dir}/a.csv`);
 *   await o.stage(`${dir}/a.csv`, "x\n1\n");
 * });
 * assert.equal(await Deno.readTextFile(`${dir}/a.csv`), "x\n1\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class OutputFiles {
  #planned = new Map<string, OutputTarget & { option: string; path: string }>(); // by absolute path
  #staged = new Map<string, { tmp?: string; bytes?: Uint8Array }>(); // by absolute path

  /**
   * Runs `work` with a fresh set of outputs: commits them when it returns,
   * discards them when it throws.
   */
  static async run<T>(work: (out: OutputFiles) => Promise<T>): Promise<T> {
    const out = new OutputFiles();
    try {
      const result = await work(out);
      await out.commit();
      return result;
    } finally {
      await out.discard();
    }
  }

  /** Checks the path an option will write (see {@linkcode checkOutputPath}); two options may not share one. */
  async plan(option: string, path: string): Promise<void> {
    const other = this.#planned.get(resolve(path));
    if (other !== undefined && other.option !== option) {
      throw new MercuryError("usage", `${option} and ${other.option} both name ${path}`, {
        where: option,
        hint: "give each output its own file",
      });
    }
    this.#planned.set(resolve(path), { ...await checkOutputPath(option, path), option, path });
  }

  #get(path: string) {
    const p = this.#planned.get(resolve(path));
    if (!p) throw new Error(`OutputFiles: ${path} was not planned`);
    return p;
  }

  /** Writes the content of a planned path to a temp file beside it (kept in memory for a device or FIFO). */
  async stage(path: string, data: string | Uint8Array): Promise<void> {
    const p = this.#get(path);
    const key = resolve(path);
    const earlier = this.#staged.get(key)?.tmp;
    if (earlier !== undefined) await Deno.remove(earlier).catch(() => {});
    this.#staged.delete(key);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (p.direct) return void this.#staged.set(key, { bytes });
    // Named here, not by Deno.makeTempFile, so the file gets the usual mode (umask), not 0600.
    const tmp = `${dirname(p.target)}/.${basename(p.target)}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.#staged.set(key, { tmp });
    try {
      await Deno.writeFile(tmp, bytes, { createNew: true });
    } catch (err) {
      throw conflict(
        p.option,
        path,
        `cannot write (${(err as Error).message})`,
        "check the folder and free space",
        err,
      );
    }
  }

  /** Renames every staged temp file into place (and writes devices in place). */
  async commit(): Promise<void> {
    for (const [key, staged] of this.#staged) {
      const p = this.#planned.get(key)!;
      try {
        if (staged.tmp !== undefined) await Deno.rename(staged.tmp, p.target);
        // Appending: a redirected /dev/stdout (`>> log`) keeps what is already there.
        else await Deno.writeFile(p.target, staged.bytes!, { append: true });
      } catch (err) {
        throw conflict(p.option, p.path, `cannot write (${(err as Error).message})`, "check the path", err);
      }
      this.#staged.delete(key);
    }
  }

  /** Removes the temp files not committed. */
  async discard(): Promise<void> {
    for (const { tmp } of this.#staged.values()) if (tmp !== undefined) await Deno.remove(tmp).catch(() => {});
    this.#staged.clear();
  }
}
