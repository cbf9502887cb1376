/** The hono routes of the olap API: every field of every body is checked, and the error names it in `where`. */
import assert from "node:assert/strict";
import { serve } from "@mercury/olap";
import { salesEngine } from "./_fixtures.ts";

const TOKEN = "routes-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };

Deno.test({
  name: "olap API routes: a malformed field is a 400 whose `where` names it, on every route with a body",
  async fn() {
    const env = await salesEngine();
    const server = serve(env.olap, { port: 0, token: TOKEN });
    try {
      const cases: [string, string, unknown, string, RegExp][] = [
        ["POST", "query", { sql: 5 }, "sql", /^sql must be a string/],
        ["POST", "query", { sql: "select 1", queryId: 5 }, "queryId", /^queryId must be a string/],
        ["POST", "query", { sql: "select 1", limit: "many" }, "limit", /^limit must be a non-negative number/],
        ["POST", "query", { sql: "select 1", offset: -1 }, "offset", /^offset must be a non-negative number/],
        ["POST", "query", { sql: "select 1", params: null }, "params", /^params must be a list or an object/],
        ["POST", "explain", { sql: "select 1", analyze: 1 }, "analyze", /^analyze must be true or false/],
        ["POST", "chart", { sql: "select 1 as a", color: 3 }, "color", /^color must be a string/],
        ["POST", "tables/t/ingest", { source: "" }, "source", /^source must be a path/],
        ["POST", "rollups", { name: "r", table: "sales", dimensions: [] }, "dimensions", /^dimensions must be/],
        [
          "POST",
          "rollups",
          { name: "r", table: "sales", dimensions: ["region"], measures: [{ agg: "sum", column: 7 }] },
          "measures[0].column",
          /^measures\[0\]\.column must be a column name/,
        ],
        ["GET", "query?sql=select%201&timeoutMs=soon", undefined, "timeoutMs", /^timeoutMs must be/],
        ["GET", "query?sql=select%201&params=%5B1", undefined, "params", /params query parameter is not JSON/],
        ["GET", "rollups/suggest?min=0", undefined, "min", /^min must be a positive integer/],
      ];
      for (const [method, path, body, where, message] of cases) {
        const r = await fetch(`${server.url}${path}`, {
          method,
          headers: AUTH,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const j = await r.json();
        assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(j)}`);
        assert.equal(j.error.where, where, `${method} ${path} ${JSON.stringify(body)}`);
        assert.match(j.error.message, message);
      }
      // Unknown routes and table names that are no identifiers are JSON 404s; the server keeps serving.
      for (const path of ["nope", "tables/Bad-Name", "tables/sales/drop"]) {
        const r = await fetch(`${server.url}${path}`);
        assert.equal(r.status, 404, path);
        assert.equal((await r.json()).error.kind, "not_found");
      }
      const ok = await fetch(`${server.url}query`, {
        method: "POST",
        body: JSON.stringify({ sql: "select 2 as two" }),
      });
      assert.deepEqual((await ok.json()).rows, [[2]]);
    } finally {
      await server.shutdown();
      await env.close();
    }
  },
});
