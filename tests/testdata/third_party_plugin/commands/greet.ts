/** The `greet` command: loaded only when it runs. @module */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";

/** Prints `hello, <name>` `--times` times. */
export function greet(args: CommandArgs, ctx: CommandContext): void {
  const name = args.positionals[0];
  if (!name) throw new MercuryError("usage", "greet needs a name", { hint: "greet <name>" });
  const line = `hello, ${name}`;
  for (let i = 0; i < Number(args.values.times); i++) {
    ctx.print(args.values.style === "loud" ? line.toUpperCase() : line);
  }
}
