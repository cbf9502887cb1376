/**
 * Rollup routes: `GET /rollups`, `POST /rollups` (token) and
 * `GET /rollups/suggest?min=N`.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { parseInput, rollupBody } from "../http_input.ts";
import type { Measure } from "../rollups.ts";
import { jsonBody } from "./body.ts";
import { type ApiEnv, type ApiState, json, requireToken } from "./context.ts";

const suggestQuery = z.object({
  min: z.preprocess(
    (v) => v === undefined ? 2 : Number(v),
    z.number(err()).int(err()).min(1, err()),
  ),
});
function err() {
  return { error: "must be a positive integer" };
}

/** The rollup routes over `s`. */
export function rollupRoutes(s: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/rollups", async () => json({ rollups: await s.olap.rollups() }));
  app.post("/rollups", (c, next) => (requireToken(s, c), next()), jsonBody(s, rollupBody), async (c) => {
    const r = c.get("body");
    return json(await s.olap.declareRollup({ ...r, measures: r.measures as Measure[] }));
  });
  app.get("/rollups/suggest", async (c) => {
    const { min } = parseInput(suggestQuery, c.req.query());
    return json({ suggestions: await s.olap.suggestRollups(min) });
  });
  return app;
}
