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
 * await checkOutputPath("--output", `${dir}/f.csv`);
 * await assert.rejects(() => checkOutputPath("--output", dir), /--output .*: is a folder/);
 * await assert.rejects(() => checkOutputPath("--chart", `${dir}/nodir/c.svg`), /--chart .*: folder .* does not exist/);
 * await Deno.remove(dir);
 * ```
 */
export async function checkOutputPath(option: string, path: string): Promise<void> {
  const hint = `pass ${option} a file path in an existing, writable folder`;
  if (path === "" || path.endsWith("/")) throw conflict(option, path, "is a folder, not a file name", hint);
  const target = await Deno.stat(path).catch(() => null);
  if (target?.isDirectory) throw conflict(option, path, "is a folder, not a file", hint);
  const dir = dirname(path);
  const folder = await Deno.stat(dir).catch(() => null);
  if (!folder) throw conflict(option, path, `folder ${dir} does not exist`, `create it first, or ${hint}`);
  if (!folder.isDirectory) throw conflict(option, path, `${dir} is not a folder`, hint);
  try {
    // Permission bits do not tell (root, ACLs, read-only mounts): create and remove a file.
    const probe = await Deno.makeTempFile({ dir, prefix: `.${basename(path)}.check-` });
    await Deno.remove(probe);
  } catch (err) {
    throw conflict(option, path, `folder ${dir} is not writable (${(err as Error).name})`, hint, err);
  }
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
  #planned = new Map<string, string>(); // absolute path → option
  #staged = new Map<string, string>(); // path → temp file

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
    if (other !== undefined && other !== option) {
      throw new MercuryError("usage", `${option} and ${other} both name ${path}`, {
        where: option,
        hint: "give each output its own file",
      });
    }
    await checkOutputPath(option, path);
    this.#planned.set(resolve(path), option);
  }

  #option(path: string): string {
    return this.#planned.get(resolve(path)) ?? "output";
  }

  /** Writes the content of a planned path to a temp file beside it. */
  async stage(path: string, data: string | Uint8Array): Promise<void> {
    const option = this.#option(path);
    const earlier = this.#staged.get(path);
    if (earlier !== undefined) await Deno.remove(earlier).catch(() => {});
    let tmp: string | undefined;
    try {
      // Named here, not by Deno.makeTempFile, so the file gets the usual mode (umask), not 0600.
      tmp = `${dirname(path)}/.${basename(path)}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
      this.#staged.set(path, tmp);
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      await Deno.writeFile(tmp, bytes, { createNew: true });
    } catch (err) {
      throw conflict(option, path, `cannot write (${(err as Error).message})`, "check the folder and free space", err);
    }
  }

  /** Renames every staged temp file into place. */
  async commit(): Promise<void> {
    for (const [path, tmp] of this.#staged) {
      try {
        await Deno.rename(tmp, path);
      } catch (err) {
        throw conflict(this.#option(path), path, `cannot write (${(err as Error).message})`, "check the path", err);
      }
      this.#staged.delete(path);
    }
  }

  /** Removes the temp files not committed. */
  async discard(): Promise<void> {
    for (const tmp of this.#staged.values()) await Deno.remove(tmp).catch(() => {});
    this.#staged.clear();
  }
}
