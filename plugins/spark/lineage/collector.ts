/**
 * The OpenLineage collector: a small HTTP server the Spark listener posts
 * run events to (`spark.openlineage.transport.type=http`, endpoint
 * `/api/v1/lineage`, what the Connect server is started with). Each event is
 * checked, stored in PostgreSQL ({@linkcode LineageStore}) and answered 201;
 * `GET /api/v1/lineage/graph` returns the graph as JSON and `GET /graph.svg`
 * draws it. A body that is not a run event is refused with 400 and one line
 * naming the missing field; a body over 8 MiB with 413.
 *
 * @example
 * ```ts ignore
 * import { connectPostgres } from "@mercury/core/services/postgres";
 * import { LineageStore, serveLineage } from "@mercury/spark/lineage";
 * const pg = await connectPostgres();
 * const store = new LineageStore(pg.sql);
 * await store.init();
 * const server = serveLineage(store, { port: 55003 });
 * // … Spark jobs run …
 * await server.shutdown();
 * ```
 *
 * @module
 */
import { BodyError, readJsonObject } from "@mercury/core/http_body";
import { MercuryError } from "@mercury/core";
import { lineageFromEvents, parseOlEvent } from "./graph.ts";
import type { LineageStore } from "./store.ts";
import { lineageSvg } from "./svg.ts";

/** Options of {@linkcode serveLineage}. */
export interface CollectorOptions {
  port: number;
  hostname?: string;
  /** Told of each stored event (the CLI prints one line per event). */
  onEvent?: (e: { eventType: string; job: string; inputs: string[]; outputs: string[] }) => void;
  /** Told of a refused or failed request. */
  onError?: (message: string) => void;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** Starts the collector (see the module doc). */
export function serveLineage(store: LineageStore, options: CollectorOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { port: options.port, hostname: options.hostname ?? "127.0.0.1", onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      try {
        if (req.method === "POST" && url.pathname === "/api/v1/lineage") {
          const e = parseOlEvent(
            await readJsonObject(req, { maxBytes: 8 << 20, hint: "POST one OpenLineage RunEvent" }),
          );
          await store.add(e);
          options.onEvent?.({
            eventType: e.eventType,
            job: e.job.name,
            inputs: (e.inputs ?? []).map((d) => d.name),
            outputs: (e.outputs ?? []).map((d) => d.name),
          });
          return json(201, { stored: true });
        }
        if (req.method === "GET" && (url.pathname === "/api/v1/lineage/graph" || url.pathname === "/graph.svg")) {
          const limit = Number(url.searchParams.get("limit") ?? 200);
          const g = lineageFromEvents(await store.events({ limit: Number.isFinite(limit) ? limit : 200 }));
          return url.pathname.endsWith(".svg")
            ? new Response(lineageSvg(g), { headers: { "content-type": "image/svg+xml" } })
            : json(200, g);
        }
        if (req.method === "GET" && url.pathname === "/health") return json(200, { ok: true });
        return json(404, { error: `no route ${req.method} ${url.pathname}`, hint: "POST /api/v1/lineage" });
      } catch (err) {
        const status = err instanceof BodyError
          ? err.status
          : err instanceof MercuryError && err.code === "usage"
          ? 400
          : 500;
        const message = (err as Error).message;
        options.onError?.(`${status} ${req.method} ${url.pathname}: ${message}`);
        return json(status, { error: message });
      }
    },
  );
}
