/** Helpers shared by the test suites. */

/** The project root (the folder holding the workspace deno.json). */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Output of a finished subprocess. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A <script> …args` from the project root. */
export async function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/${script}`, ...args],
    cwd: ROOT,
    env,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A name unique to this run, for topics, tables and keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Test options for suites whose clients keep sockets and timers between steps. */
export const integration = { sanitizeOps: false, sanitizeResources: false } as const;

/**
 * A time bound for a test's timing assertion, stretched by the machine's load: `ms` on a machine whose 1-minute load
 * average is at most its core count, `ms × load / cores` (up to 10×) above that. A bound that guards against a hang
 * or starvation stays strict on a quiet machine, and a busy shared machine (load 30 on 2 cores) does not fail it.
 */
export function loadBound(ms: number): number {
  let load = 0;
  try {
    load = Deno.loadavg()[0] ?? 0;
  } catch { /* no sys permission: no stretch */ }
  const cores = navigator.hardwareConcurrency || 1;
  return Math.round(ms * Math.min(10, Math.max(1, load / cores)));
}
