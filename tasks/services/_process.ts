/**
 * Process helpers for the native launcher: run a command, start a detached
 * server writing to a log file, check pids and ports.
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import process from "node:process";
import { MercuryError } from "@mercury/core";
import { sleep } from "@mercury/core/retry";

/** Output of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a missing binary is a `not_found` error. */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd: options.cwd, env: options.env, stdin: "null" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new MercuryError("not_found", `cannot run ${cmd}: not installed`, { hint: `install ${cmd}`, cause: err });
    }
    throw err;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command and throws with its stderr when it fails. */
export async function runOk(
  cmd: string,
  args: string[],
  what: string,
  options: { cwd?: string; logFile?: string } = {},
): Promise<string> {
  const r = await run(cmd, args, options);
  if (options.logFile) {
    await Deno.writeTextFile(options.logFile, `$ ${cmd} ${args.join(" ")}\n${r.stdout}${r.stderr}\n`, { append: true });
  }
  if (r.code !== 0) {
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new MercuryError("unavailable", `${what} failed (exit ${r.code}): ${tail}`, {
      where: options.logFile ?? `${cmd} ${args.join(" ")}`,
      hint: options.logFile ? `read ${options.logFile}` : "run the command by hand to see its output",
    });
  }
  return r.stdout;
}

/** Whether `name` is on the PATH. */
export async function onPath(name: string): Promise<string | undefined> {
  const r = await run("sh", ["-c", `command -v "$0"`, name]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * Starts `cmd args` in its own session (so it outlives this process and the
 * shell's job control), stdout and stderr appended to `logFile`, and returns
 * its pid. With `user` (when running as root) it runs as that user.
 */
export async function spawnDetached(
  cmd: string,
  args: string[],
  logFile: string,
  options: { cwd?: string; user?: string } = {},
): Promise<number> {
  const argv = options.user ? ["runuser", "-u", options.user, "--", cmd, ...args] : [cmd, ...args];
  // `setsid` from a non-leader execs in place, so $! is the server's own pid
  // (or runuser's, which waits on it and passes signals on).
  const script = `setsid "$@" >>"$LOGFILE" 2>&1 </dev/null & echo $!`;
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", ...argv],
    cwd: options.cwd,
    env: { LOGFILE: logFile },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const pid = Number(new TextDecoder().decode(out.stdout).trim());
  if (out.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
    throw new MercuryError("unavailable", `cannot start ${cmd}`, { where: logFile, hint: `read ${logFile}` });
  }
  return pid;
}

/** Whether a process with `pid` exists (and, if given, its command line contains `marker`). */
export function alive(pid: number | undefined, marker?: string): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!marker) return true;
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    if (/^\d+ \(.*\) Z /.test(stat)) return false; // a zombie is not running
    return cmdline.includes(marker);
  } catch {
    return true;
  }
}

/** Sends `signal`, waits up to `graceMs` for exit, then SIGKILLs. */
export async function stopPid(pid: number, signal: Deno.Signal = "SIGTERM", graceMs = 30_000): Promise<void> {
  try {
    Deno.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
    while (alive(pid)) await sleep(50);
  }
}

/**
 * Stops a server started by {@linkcode spawnDetached} together with the
 * children it forked (its session's process group): `signal` to the group,
 * then SIGKILL after `graceMs`.
 */
export async function stopGroup(pid: number, signal: Deno.Signal = "SIGTERM", graceMs = 30_000): Promise<void> {
  try {
    Deno.kill(-pid, signal);
  } catch {
    return await stopPid(pid, signal, graceMs);
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch { /* the group is gone */ }
  while (alive(pid)) await sleep(50);
}

/** Whether nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): boolean {
  try {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    l.close();
    return true;
  } catch {
    return false;
  }
}

/** Who listens on `port`, from `ss`, if it can tell. */
export async function portHolder(port: number): Promise<string | undefined> {
  try {
    const r = await run("ss", ["-ltnpH", `sport = :${port}`]);
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout);
    return m ? `${m[1]} (pid ${m[2]})` : undefined;
  } catch {
    return undefined;
  }
}

/** The last `n` lines of a file, or "" when it cannot be read. */
export function tail(path: string, n: number): string {
  try {
    const lines = Deno.readTextFileSync(path).trimEnd().split("\n");
    return lines.slice(-n).join("\n");
  } catch {
    return "";
  }
}

/** Whether this process runs as root. */
export function isRoot(): boolean {
  return Deno.uid?.() === 0;
}

/** Writes a file atomically: a temp file beside it, then rename (core's `writeFileAtomic`). */
export const writeAtomic: (path: string, text: string) => Promise<void> = writeFileAtomic;

let aptUpdated = false;
/** apt-get runs one at a time: services start in parallel, and dpkg takes one lock for the machine. */
let aptQueue: Promise<unknown> = Promise.resolve();
/** Options that make apt-get wait for a lock another program holds (up to 5 minutes) instead of failing at once. */
const APT_WAIT = ["-o", "DPkg::Lock::Timeout=300"];

/**
 * Installs Debian packages when running as root with apt-get; otherwise
 * throws a `not_found` error that says exactly what to install. Calls are
 * serialised, and apt-get waits for a dpkg lock held elsewhere.
 */
export function aptInstall(packages: string[], why: string): Promise<void> {
  const next = aptQueue.then(() => aptInstallNow(packages, why));
  aptQueue = next.catch(() => {});
  return next;
}

async function aptInstallNow(packages: string[], why: string): Promise<void> {
  const hint = `install it: sudo apt-get install -y ${packages.join(" ")}`;
  if (!isRoot() || !(await onPath("apt-get"))) {
    throw new MercuryError("not_found", `${why} is not installed`, { hint });
  }
  console.error(`installing ${packages.join(" ")} with apt-get (${why})…`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    await run("apt-get", [...APT_WAIT, "update", "-q"], { env });
    aptUpdated = true;
  }
  const r = await run("apt-get", [...APT_WAIT, "install", "-y", "-q", "--no-install-recommends", ...packages], {
    env,
  });
  if (r.code !== 0) {
    throw new MercuryError(
      "unavailable",
      `apt-get install ${packages.join(" ")} failed: ${r.stderr.trim().split("\n").pop()}`,
      {
        hint,
      },
    );
  }
}

/**
 * Runs `fn` holding an exclusive lock on the file `path` (created if missing): other processes, and other test files
 * of a parallel `deno test` run, wait for it. The kernel releases the lock if the holder dies, so none is left stale.
 *
 * @example
 * ```ts ignore
 * await withFileLock(".mercury/peers/polars/venv.lock", () => installPolars());
 * ```
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || ".", { recursive: true });
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}

/** Hex SHA-256 of a text (stamps for installed jars and packages). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The major version of the `java` on the PATH (8 for `1.8.0_…`), or undefined when there is none. */
export async function javaMajor(): Promise<number | undefined> {
  if (!(await onPath("java"))) return undefined;
  const r = await run("java", ["-version"]);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr + r.stdout);
  if (!m) return undefined;
  return m[1] === "1" ? Number(m[2]) : Number(m[1]);
}

/** Installs Java 17+ (Debian's `openjdk-17-jre-headless`) when `java` is missing or older; `what` says who needs it. */
export async function ensureJava(what: string): Promise<void> {
  const major = await javaMajor();
  if (major === undefined || major < 17) {
    await aptInstall(["openjdk-17-jre-headless"], `Java 17+ for ${what} (found ${major ?? "none"})`);
  }
}
