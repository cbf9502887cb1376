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

/** A server whose POST /items checks its fields (`strict`) or takes any JSON object (not `strict`). */
function itemsServer(strict: boolean): RunningServer {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname === "/health") return Response.json({ ok: true });
    try {
      const body = await readJsonObject(req, { maxBytes: 4096 });
      if (strict) {
        const unknown = Object.keys(body).find((k) => k !== "name" && k !== "n" && k !== "tags");
        const bad = unknown ??
          (typeof body.name !== "string"
            ? "name"
            : !Number.isSafeInteger(body.n) || (body.n as number) < 0
            ? "n"
            : !Array.isArray(body.tags) || body.tags.some((t) => typeof t !== "string")
            ? "tags"
            : undefined);
        if (bad) return Response.json({ error: `${bad} is not right`, where: bad }, { status: 400 });
      }
      return Response.json({ ok: true });
    } catch (err) {
      return Response.json({ error: (err as Error).message }, { status: (err as BodyError).status ?? 500 });
    }
  });
  return { url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/`, close: () => server.shutdown() };
}

Deno.test("hostileHttpSuite's field cases pass a route that checks its fields and fail one that does not", async () => {
  const run = async (strict: boolean) => {
    const failed: string[] = [];
    const ctx = {
      step: async (name: string, fn: () => Promise<void>) => {
        await fn().catch((err: Error) => failed.push(`${name}: ${err.message.split("\n")[0]}`));
        return true;
      },
    } as unknown as Deno.TestContext;
    await hostileHttpSuite(ctx, {
      name: strict ? "strict" : "lax",
      start: () => Promise.resolve(itemsServer(strict)),
      probe: { path: "health" },
      fields: [{ path: "items", valid: { name: "a", n: 3, tags: ["x"] } }],
    });
    return failed;
  };
  assert.deepEqual(await run(true), []);
  const lax = await run(false);
  assert.equal(lax.length, 1);
  assert.match(lax[0]!, /refuses each hostile field.*an unknown field: got 200/);
});
