/**
 * Operations routes: `GET /log` and `GET /slow` (statements of token holders,
 * and writes, are shown to token holders only; literals are redacted by the
 * engine unless it logs them), `GET /metrics` (Prometheus) and `GET /health`.
 *
 * @module
 */
import { Hono } from "hono";
import type { LogEntry } from "../engine.ts";
import { type ApiEnv, type ApiState, authorised, json } from "./context.ts";

/** The operations routes over `s`. */
export function logRoutes(s: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const visible = (req: Request) => {
    if (authorised(s, req)) return () => true;
    return (e: LogEntry) => e.kind === "select" && !e.token;
  };
  app.all("/health", async () => json({ ok: true, tables: (await s.olap.tables()).length }));
  app.all("/metrics", () => s.olap.metricsResponse());
  app.all("/log", (c) => json({ queries: s.olap.log.filter(visible(c.req.raw)).slice(-200).reverse() }));
  app.all(
    "/slow",
    (c) => json({ slowMs: s.olap.options.slowMs, queries: s.olap.slowLog.filter(visible(c.req.raw)).reverse() }),
  );
  return app;
}
