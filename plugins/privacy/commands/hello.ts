/**
 * The `hello` command, loaded only when it runs.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";

/**
 * Prints a greeting `--times` times.
 *
 * @example
 * ```ts
 * import { hello } from "./hello.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: (l: string) => lines.push(l) };
 * hello({ values: { times: 2 }, positionals: ["you"] }, ctx);
 * assert.deepEqual(lines, ["hello, you", "hello, you"]);
 * ```
 */
export function hello(args: CommandArgs, ctx: CommandContext): void {
  const who = args.positionals[0] ?? "world";
  for (let i = 0; i < Number(args.values.times ?? 1); i++) ctx.print(`hello, ${who}`);
}
