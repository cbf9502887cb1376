/**
 * `olap serve`: the HTTP API and web UI until SIGINT or SIGTERM.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { Olap } from "../engine.ts";
import { serve as serveApi } from "../server.ts";
import { resolveToken } from "../access.ts";
import { int, str } from "./_args.ts";

/** Runs `olap serve`. */
export async function serve(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  const olap = await Olap.open({
    dataDir: str(v["data-dir"]),
    concurrency: int(v.concurrency, "concurrency"),
    timeoutMs: int(v["timeout-ms"], "timeout-ms"),
    cacheBytes: int(v["cache-mb"], "cache-mb") * 1024 * 1024,
    redisPrefix: str(v.redis) || undefined,
    slowMs: int(v["slow-ms"], "slow-ms"),
    logLiterals: v["log-literals"] === true,
  });
  const token = await resolveToken({ file: str(v["token-file"]) || undefined, token: str(v.token) || undefined });
  const allow = Array.isArray(v["ingest-allow"]) ? v["ingest-allow"].map(String) : [];
  const server = serveApi(olap, {
    port: int(v.port, "port"),
    hostname: str(v.host),
    token,
    maxBodyBytes: int(v["max-body-bytes"], "max-body-bytes"),
    maxSqlChars: int(v["max-sql-chars"], "max-sql-chars"),
    ingestAllow: allow,
  });
  if (str(v.token)) {
    console.error("warning: --token shows in ps and in deno task's echo; prefer --token-file or MERCURY_OLAP_TOKEN");
  }
  // The banner never shows the token itself.
  ctx.print(
    `olap API and UI on ${server.url} (${(await olap.tables()).length} tables; ${
      token ? "writes with the token" : "read-only"
    })`,
  );
  const stop = async () => {
    await server.shutdown();
    await olap.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
}
