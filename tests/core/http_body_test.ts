import assert from "node:assert/strict";
import { BodyError, readJsonObject } from "@mercury/core/http_body";
import { hostileHttpSuite, type RunningServer } from "../_hostile.ts";

/** A small server written the way the project's servers should be: bodies read through readJsonObject. */
function referenceServer(maxBytes: number): RunningServer {
  const big = new Uint8Array(8 << 20).fill(120);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      if (path === "/health") return Response.json({ ok: true });
      if (path === "/large") return new Response(big);
      if (path === "/echo") return Response.json(await readJsonObject(req, { maxBytes }));
      return Response.json({ error: { kind: "not_found" } }, { status: 404 });
    } catch (err) {
      if (err instanceof BodyError) {
        return Response.json({ error: { kind: err.kind, message: err.message, hint: err.hint } }, {
          status: err.status,
        });
      }
      return Response.json({ error: { kind: "internal" } }, { status: 500 });
    }
  });
  const port = (server.addr as Deno.NetAddr).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.shutdown() };
}

Deno.test("readJsonObject: a server reading bodies through it passes the hostile-input suite", async (t) => {
  await hostileHttpSuite(t, {
    name: "reference",
    start: () => Promise.resolve(referenceServer(4096)),
    json: { path: "echo" },
    maxBodyBytes: 4096,
    probe: { path: "health" },
    large: { path: "large" },
  });
});

Deno.test("hostileHttpSuite fails a server that reads any body whole", async () => {
  // The suite must be able to fail: a server with no limit answers 200 to an oversized body.
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    try {
      return Response.json(JSON.parse(await req.text()));
    } catch {
      return Response.json({ error: "bad" }, { status: 400 });
    }
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/`;
  let failedStep: string | undefined;
  const fakeContext = {
    step: async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch {
        failedStep ??= name;
      }
      return true;
    },
  } as unknown as Deno.TestContext;
  await hostileHttpSuite(fakeContext, {
    name: "naive",
    start: () => Promise.resolve({ url, close: () => server.shutdown() }),
    json: { path: "echo" },
    maxBodyBytes: 1024,
    probe: { path: "health" },
    probeWithinMs: 3000,
  });
  assert.match(failedStep ?? "", /over the limit gets 413/);
});

Deno.test("readJsonObject names what it got", async () => {
  const req = new Request("http://x/", { method: "POST", body: "null" });
  await assert.rejects(readJsonObject(req), /must be a JSON object, got null/);
  const bad = new Request("http://x/", { method: "POST", body: '{"a":' });
  await assert.rejects(readJsonObject(bad, { hint: "send {}" }), (e) => e instanceof BodyError && e.hint === "send {}");
});
