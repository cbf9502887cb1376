/**
 * Publishing a finished output on the lake's file systems. Spark writes a job's
 * Parquet into a staging folder next to the output; only when the job has
 * succeeded does {@linkcode publish} put it in the output's place, so a failed
 * job leaves the old output whole (Spark's own `overwrite` deletes the old
 * output before it writes the new one).
 *
 * - local paths (`/…`, `file://…`): two renames, atomic for readers;
 * - `hdfs://…`: the same two renames through the NameNode's WebHDFS REST API
 *   (HDFS renames are atomic). The WebHDFS address is `MERCURY_WEBHDFS_URL`,
 *   else Mercury's native NameNode's HTTP port when the RPC port is its, else
 *   Hadoop 3's default `http://host:9870`;
 * - `s3a://bucket/…` / `s3://bucket/…`: S3 has no rename. The staged objects
 *   are copied into place server-side (CopyObject), the old output's `_SUCCESS`
 *   marker is removed first and the new one copied last, then the old objects
 *   that the new output does not replace are deleted. A failed job still leaves
 *   the old output whole; during the publish itself a reader that does not
 *   check `_SUCCESS` can see old and new files together (`--format delta` is
 *   atomic on S3: it commits through its log).
 *
 * @example A staged local folder replaces the output
 * ```ts
 * import assert from "node:assert/strict";
 * import { lakeFs } from "@mercury/spark/lake_fs";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/out.staging`);
 * await Deno.writeTextFile(`${dir}/out.staging/part-0.parquet`, "new");
 * await lakeFs(`${dir}/out`).publish(`${dir}/out.staging`, `${dir}/out`);
 * assert.equal(await Deno.readTextFile(`${dir}/out/part-0.parquet`), "new");
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { DEFAULT_PORTS, MercuryError } from "@mercury/core";
import { connectS3 } from "@mercury/core/services/s3";

/** The operations a staged write needs from one file system. */
export interface LakeFs {
  /** `local`, `hdfs` or `s3`. */
  readonly kind: "local" | "hdfs" | "s3";
  /** Whether {@linkcode LakeFs.publish} replaces the output in one step for readers. */
  readonly atomic: boolean;
  /** Replaces `target` with the finished folder `staging`; `staging` is gone afterwards. */
  publish(staging: string, target: string): Promise<void>;
  /** Removes a folder and everything under it; no error when it is not there. */
  remove(path: string): Promise<void>;
}

/** Whether a path is on this machine's file system (no scheme, or `file:`). */
export function isLocal(path: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || path.startsWith("file://");
}

/** The path without `file://`. */
export function localPath(path: string): string {
  return path.startsWith("file://") ? path.slice("file://".length) : path;
}

/** A staging folder name next to `target` (same parent, so a rename stays inside one file system). */
export function stagingPath(target: string): string {
  return `${target.replace(/\/+$/, "")}.staging-${crypto.randomUUID().slice(0, 8)}`;
}

/** The file system `path` lives on; a `usage` error for a scheme it cannot publish to. */
export function lakeFs(path: string): LakeFs {
  if (isLocal(path)) return localFs;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)![1]!.toLowerCase();
  if (scheme === "hdfs") return hdfsFs;
  if (scheme === "s3a" || scheme === "s3") return s3Fs;
  throw new MercuryError("usage", `cannot write Parquet atomically to ${scheme}:// (${path})`, {
    where: "--output",
    hint: "use a local path, hdfs://… or s3a://…, or --format delta (atomic through its log on any store)",
  });
}

const localFs: LakeFs = {
  kind: "local",
  atomic: true,
  async publish(staging, target) {
    const to = localPath(target);
    const old = `${to}.old-${crypto.randomUUID().slice(0, 8)}`;
    let hadOld = true;
    try {
      await Deno.rename(to, old);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      hadOld = false;
    }
    try {
      await Deno.rename(localPath(staging), to);
    } catch (err) {
      if (hadOld) await Deno.rename(old, to).catch(() => {});
      throw err;
    }
    if (hadOld) await Deno.remove(old, { recursive: true });
  },
  async remove(path) {
    await Deno.remove(localPath(path), { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  },
};

/** `hdfs://host:port/a/b` → the WebHDFS URL of `/a/b`. */
export function webhdfsUrl(path: string, env = Deno.env.get("MERCURY_WEBHDFS_URL")): string {
  const u = new URL(path);
  const port = u.port ? Number(u.port) : 8020;
  const base = env?.replace(/\/+$/, "") ??
    `http://${u.hostname}:${port === DEFAULT_PORTS.hdfs ? DEFAULT_PORTS.hdfsHttp : 9870}`;
  return `${base}/webhdfs/v1${u.pathname.replace(/\/+$/, "")}`;
}

async function webhdfs(path: string, op: string, method: string, params: Record<string, string> = {}) {
  const q = new URLSearchParams({ op, "user.name": Deno.env.get("USER") ?? "root", ...params });
  const url = `${webhdfsUrl(path)}?${q}`;
  let r: Response;
  try {
    r = await fetch(url, { method, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new MercuryError("unavailable", `WebHDFS ${op} ${path}: ${(err as Error).message}`, {
      where: url.replace(/\?.*$/, ""),
      hint: "set MERCURY_WEBHDFS_URL to the NameNode's HTTP address (http://host:9870)",
    });
  }
  const body = await r.text();
  if (r.status === 404 && op === "GETFILESTATUS") return undefined;
  if (!r.ok) {
    let message = body;
    try {
      message = JSON.parse(body).RemoteException?.message ?? body;
    } catch { /* not JSON */ }
    throw new MercuryError("unavailable", `WebHDFS ${op} ${path}: ${r.status} ${message}`.slice(0, 500), {
      where: url.replace(/\?.*$/, ""),
    });
  }
  return JSON.parse(body) as Record<string, unknown>;
}

async function hdfsRename(from: string, to: string): Promise<void> {
  const r = await webhdfs(from, "RENAME", "PUT", { destination: new URL(to).pathname.replace(/\/+$/, "") });
  if (r?.boolean !== true) {
    throw new MercuryError("unavailable", `HDFS refused to rename ${from} to ${to}`, {
      where: from,
      hint: "does the target's parent folder exist, and is the target free?",
    });
  }
}

const hdfsFs: LakeFs = {
  kind: "hdfs",
  atomic: true,
  async publish(staging, target) {
    const old = `${target.replace(/\/+$/, "")}.old-${crypto.randomUUID().slice(0, 8)}`;
    const hadOld = (await webhdfs(target, "GETFILESTATUS", "GET")) !== undefined;
    if (hadOld) await hdfsRename(target, old);
    try {
      await hdfsRename(staging, target);
    } catch (err) {
      if (hadOld) await hdfsRename(old, target).catch(() => {});
      throw err;
    }
    if (hadOld) await hdfsFs.remove(old);
  },
  async remove(path) {
    await webhdfs(path, "DELETE", "DELETE", { recursive: "true" });
  },
};

/** `s3a://bucket/a/b` → bucket and key prefix (`a/b/`). */
export function s3Location(path: string): { bucket: string; prefix: string } {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/i.exec(path);
  if (!m) throw new MercuryError("usage", `not an S3 path: ${path}`, { where: "--output" });
  const key = m[2]!.replace(/\/+$/, "");
  if (!key) {
    throw new MercuryError("usage", `${path} is a whole bucket; write to a folder in it`, {
      where: "--output",
      hint: `e.g. ${path.replace(/\/*$/, "")}/events`,
    });
  }
  return { bucket: m[1]!, prefix: key ? `${key}/` : "" };
}

const s3Fs: LakeFs = {
  kind: "s3",
  atomic: false,
  async publish(staging, target) {
    const from = s3Location(staging);
    const to = s3Location(target);
    if (from.bucket !== to.bucket) {
      throw new MercuryError("usage", `staging ${staging} and output ${target} are in different buckets`, {
        where: "--output",
      });
    }
    await using s3 = await connectS3();
    const staged = await s3.list(from.bucket, from.prefix);
    const old = await s3.list(to.bucket, to.prefix);
    const marker = (key: string) => key.endsWith("/_SUCCESS") || key === "_SUCCESS";
    // Readers that honour the marker see "not complete" from here until the new marker lands.
    for (const o of old) if (marker(o.key.slice(to.prefix.length))) await s3.delete(to.bucket, o.key);
    const written = new Set<string>();
    for (const o of staged.filter((o) => !marker(o.key.slice(from.prefix.length)))) {
      const key = to.prefix + o.key.slice(from.prefix.length);
      await s3.copy(to.bucket, o.key, key);
      written.add(key);
    }
    for (const o of old) {
      if (!written.has(o.key) && !marker(o.key.slice(to.prefix.length))) await s3.delete(to.bucket, o.key);
    }
    for (const o of staged.filter((o) => marker(o.key.slice(from.prefix.length)))) {
      await s3.copy(to.bucket, o.key, to.prefix + o.key.slice(from.prefix.length));
    }
    await s3.deletePrefix(from.bucket, from.prefix);
  },
  async remove(path) {
    const { bucket, prefix } = s3Location(path);
    await using s3 = await connectS3();
    await s3.deletePrefix(bucket, prefix);
  },
};
