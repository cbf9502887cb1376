/**
 * Catalog routes: `GET /tables`, `GET /tables/:name`, and the writes
 * `POST /tables/:name/ingest` (files only under the data dir and
 * `ingestAllow`) and `POST /tables/:name/compact`, both needing the token.
 *
 * @module
 */
import { Hono } from "hono";
import { ingestBody } from "../http_input.ts";
import { parseSource, sandboxSource } from "../sources.ts";
import { jsonBody } from "./body.ts";
import { type ApiEnv, type ApiState, json, requireToken } from "./context.ts";

const NAME = ":name{[a-z_][a-z0-9_]*}";

/** The catalog routes over `s`. */
export function tableRoutes(s: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/tables", async () => json({ tables: await s.olap.tables() }));
  app.get(`/tables/${NAME}`, async (c) => json(await s.olap.describe(c.req.param("name"))));
  // The token is checked before the body is read.
  app.post(`/tables/${NAME}/ingest`, (c, next) => (requireToken(s, c), next()), jsonBody(s, ingestBody), async (c) => {
    const { source, format, ...options } = c.get("body");
    const src = await sandboxSource(parseSource(source, format), s.ingestRoots);
    return json(await s.olap.ingest(c.req.param("name"), src, options));
  });
  app.post(`/tables/${NAME}/compact`, async (c) => {
    requireToken(s, c);
    return json(await s.olap.compact(c.req.param("name")));
  });
  return app;
}
