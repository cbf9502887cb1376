/**
 * `olap query`: one query, the answer on standard output.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { Olap } from "../engine.ts";
import { parseFormat } from "../formats.ts";

/** Runs `olap query <sql>`. */
export async function query(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const sql = args.positionals.join(" ");
  if (!sql) throw new MercuryError("usage", "query needs <sql>");
  // stallMs 0: stdout piped into a pager may be read slowly, and this process holds no one else's connection.
  const olap = await Olap.open({ dataDir: String(args.values["data-dir"] ?? ""), stallMs: 0 });
  try {
    if (args.values.explain) {
      ctx.print((await olap.explain(sql, { analyze: true })).text);
      return;
    }
    const a = await olap.query(sql, { format: parseFormat(String(args.values.format ?? "")) });
    const body = a.body instanceof Uint8Array ? ReadableStream.from([a.body]) : a.body;
    await body.pipeTo(Deno.stdout.writable, { preventClose: true });
  } finally {
    await olap.close();
  }
}
