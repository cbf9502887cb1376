/**
 * `GET /` and `GET /ui`: the web UI, one static HTML page; `GET /ui/app.js` and `GET /ui/chart.js`: its scripts,
 * bundled ahead of time into `ui/dist/` (CodeMirror; vega and vega-lite), so the page needs no network. Each file
 * is read once.
 *
 * @module
 */
import { Hono } from "hono";
import type { ApiEnv } from "./context.ts";

const FILES: Record<string, [path: string, type: string]> = {
  page: ["../ui/index.html", "text/html; charset=utf-8"],
  "app.js": ["../ui/dist/app.js", "text/javascript; charset=utf-8"],
  "chart.js": ["../ui/dist/chart.js", "text/javascript; charset=utf-8"],
};
const cache = new Map<string, Promise<Uint8Array>>();

async function asset(name: string): Promise<Response> {
  const [path, type] = FILES[name]!;
  if (!cache.has(name)) cache.set(name, Deno.readFile(new URL(path, import.meta.url)));
  return new Response(await cache.get(name)! as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": type, "cache-control": "no-cache" },
  });
}

/** The UI routes. */
export function uiRoutes(): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/", () => asset("page"));
  app.get("/ui", () => asset("page"));
  app.get("/ui/app.js", () => asset("app.js"));
  app.get("/ui/chart.js", () => asset("chart.js"));
  return app;
}
