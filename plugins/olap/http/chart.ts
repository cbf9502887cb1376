/**
 * `POST /chart` `{sql, params, mark, x, y, color, width}`: a vega-lite chart
 * of (at most 5000 rows of) the result, rendered to SVG.
 *
 * @module
 */
import { Hono } from "hono";
import { chartSvg } from "@mercury/core/display";
import type { TopLevelSpec } from "vega-lite";
import { chartBody, checkSqlLength } from "../http_input.ts";
import { jsonBody } from "./body.ts";
import type { ApiEnv, ApiState } from "./context.ts";

/** The chart route over `s`. */
export function chartRoutes(s: ApiState): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.post("/chart", jsonBody(s, chartBody), async (c) => {
    const q = c.get("body");
    checkSqlLength(q.sql, s.maxSqlChars);
    const rows = await s.olap.rows(q.sql, q.params, { limit: 5000 });
    const enc = (f: unknown, t: string) => (typeof f === "string" && f ? { field: f, type: t } : undefined);
    const sample = rows[0] ?? {};
    const typeOf = (f: unknown) =>
      typeof f !== "string"
        ? "nominal"
        : typeof sample[f] === "number"
        ? "quantitative"
        : typeof sample[f] === "string" && /^\d{4}-\d\d-\d\d/.test(sample[f] as string)
        ? "temporal"
        : "nominal";
    const spec = {
      width: Math.min(1600, Math.max(200, Number(q.width) || 560)),
      height: 280,
      data: { values: rows },
      mark: { type: q.mark, tooltip: true },
      encoding: {
        x: enc(q.x, typeOf(q.x)),
        y: enc(q.y, typeOf(q.y)),
        ...(q.color ? { color: enc(q.color, typeOf(q.color)) } : {}),
      },
    } as unknown as TopLevelSpec;
    return new Response(await chartSvg(spec), { headers: { "content-type": "image/svg+xml" } });
  });
  return app;
}
