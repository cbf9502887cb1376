/**
 * Set-up shared by the privacy tests: the plugin's CLI in-process (as the
 * `mercury` entry point dispatches it), a ledger in a schema of its own that
 * is dropped afterwards, and a temporary directory that is removed.
 *
 * @module
 */
import { dispatch, formatError, resolveEndpoints } from "@mercury/core";
import { manifest } from "@mercury/privacy/manifest";
import { Ledger } from "@mercury/privacy/ledger";

const root = new URL("../../plugins/privacy", import.meta.url).pathname;

/** What a CLI call printed and its exit code. */
export interface CliRun {
  code: number;
  lines: string[];
}

/** Runs `mercury privacy …argv` in-process; an error is thrown (with its `exitCode`) as `dispatch` throws it. */
export async function cli(argv: string[]): Promise<CliRun> {
  const lines: string[] = [];
  const context = { root, verbose: false, endpoints: () => resolveEndpoints(), print: (l: string) => lines.push(l) };
  const plugins = [{ manifest, packageName: "@mercury/privacy", module: "manifest.ts" }];
  return { code: await dispatch(["privacy", ...argv], { plugins, context }), lines };
}

/** Like {@link cli}, but an error becomes what the CLI's main() prints: one line and the error's exit code. */
export async function runCli(argv: string[]): Promise<CliRun> {
  const lines: string[] = [];
  const context = { root, verbose: false, endpoints: () => resolveEndpoints(), print: (l: string) => lines.push(l) };
  const plugins = [{ manifest, packageName: "@mercury/privacy", module: "manifest.ts" }];
  try {
    return { code: await dispatch(["privacy", ...argv], { plugins, context }), lines };
  } catch (err) {
    const { text, exitCode } = formatError(err);
    return { code: exitCode, lines: [...lines, text] };
  }
}

/** Runs `fn` with a ledger in a fresh schema (dropped afterwards); `max` is its connection pool size. */
export async function withLedger<T>(fn: (ledger: Ledger, schema: string) => Promise<T>, max = 4): Promise<T> {
  const schema = `privacy_test_${crypto.randomUUID().slice(0, 8)}`;
  const ledger = await Ledger.open({ schema, max });
  try {
    return await fn(ledger, schema);
  } finally {
    await ledger.dropSchema();
    await ledger.close();
  }
}

/** Runs `fn` with a temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "mercury-privacy-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
