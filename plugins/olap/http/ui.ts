/**
 * `GET /` and `GET /ui`: the web UI, one static HTML page read once.
 *
 * @module
 */
import { Hono } from "hono";
import type { ApiEnv } from "./context.ts";

let UI_HTML: string | undefined;
async function ui(): Promise<string> {
  UI_HTML ??= await Deno.readTextFile(new URL("../ui/index.html", import.meta.url));
  return UI_HTML;
}

/** The UI routes. */
export function uiRoutes(): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const page = async () => new Response(await ui(), { headers: { "content-type": "text/html; charset=utf-8" } });
  app.get("/", page);
  app.get("/ui", page);
  return app;
}
