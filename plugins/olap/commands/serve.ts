/**
 * `olap serve`: the HTTP API and web UI until SIGINT or SIGTERM.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core";
import { STOP_SIGNALS, untilSignal } from "@mercury/core/signal";
import { Olap } from "../engine.ts";
import { serve as serveApi } from "../server.ts";
import { resolveToken } from "../access.ts";

/** Runs `olap serve`. */
export async function serve(args: CommandArgs, ctx: CommandContext): Promise<void> {
  const v = args.values;
  // The token first: a bad --token-file stops before anything is opened or created.
  const token = await resolveToken({
    file: v["token-file"] as string | undefined,
    token: v.token as string | undefined,
  });
  const olap = await Olap.open({
    dataDir: String(v["data-dir"] ?? ""),
    concurrency: v.concurrency as number,
    timeoutMs: v["timeout-ms"] as number,
    cacheBytes: (v["cache-mb"] as number) * 1024 * 1024,
    redisPrefix: v.redis as string | undefined,
    slowMs: v["slow-ms"] as number,
    logLiterals: v["log-literals"] === true,
  });
  const allow = Array.isArray(v["ingest-allow"]) ? v["ingest-allow"].map(String) : [];
  const server = serveApi(olap, {
    port: v.port as number,
    hostname: String(v.host ?? ""),
    token,
    maxBodyBytes: v["max-body-bytes"] as number,
    maxSqlChars: v["max-sql-chars"] as number,
    ingestAllow: allow,
  });
  if (v.token) {
    console.error("warning: --token shows in ps and in deno task's echo; prefer --token-file or MERCURY_OLAP_TOKEN");
  }
  // The banner never shows the token itself.
  ctx.print(
    `olap API and UI on ${server.url} (${(await olap.tables()).length} tables; ${
      token ? "writes with the token" : "read-only"
    })`,
  );
  // Until SIGINT or SIGTERM (or the server stops by itself): then the server and the engine are closed.
  const listening = new AbortController();
  await Promise.race([untilSignal(STOP_SIGNALS, { signal: listening.signal }), server.finished]);
  listening.abort();
  await server.shutdown();
  await olap.close();
}
