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
  if (args.values.executor === "spark") return await querySpark(sql, args);
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

/** `--executor spark`: the query runs on the cluster over the tables' Parquet copies; no cache or rollups. */
async function querySpark(sql: string, args: CommandArgs): Promise<void> {
  const format = parseFormat(String(args.values.format ?? ""));
  if (args.values.explain || format === "parquet") {
    throw new MercuryError(
      "usage",
      `--executor spark does not support ${args.values.explain ? "--explain" : "--format parquet"}`,
      {
        where: "olap query --executor spark",
        hint: "use --format json, ndjson, csv, arrow or xlsx, or --executor duckdb",
      },
    );
  }
  const { SparkExecutor } = await import("../spark_executor.ts");
  const { encode } = await import("../formats.ts");
  const ex = await SparkExecutor.create({ dataDir: String(args.values["data-dir"] ?? "") });
  try {
    await encode(format, await ex.stream(sql)).pipeTo(Deno.stdout.writable, { preventClose: true });
  } finally {
    await ex.close();
  }
}
