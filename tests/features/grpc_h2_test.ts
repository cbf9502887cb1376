/** Mercury's unary gRPC layer on node:http2: client deadlines and senders that stop part-way. */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { GrpcCallError, GrpcStatus, grpcTimeoutMs, serveUnary, unaryClient } from "../../plugins/features/grpc_h2.ts";

const echo = (delayMs = 0) => ({
  decode: (b: Uint8Array) => b,
  encode: (b: Uint8Array) => b,
  handle: async (b: Uint8Array) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return b;
  },
});

Deno.test("grpc-timeout: parsed as gRPC specifies it; malformed values are ignored", () => {
  assert.equal(grpcTimeoutMs("100m"), 100);
  assert.equal(grpcTimeoutMs("2S"), 2000);
  assert.equal(grpcTimeoutMs("1M"), 60_000);
  assert.equal(grpcTimeoutMs("1H"), 3_600_000);
  assert.equal(grpcTimeoutMs("5000u"), 5);
  assert.equal(grpcTimeoutMs("7000000n"), 7);
  for (const bad of [undefined, "", "100", "123456789m", "1.5S", "-1S", "10x"]) {
    assert.equal(grpcTimeoutMs(bad), undefined);
  }
});

Deno.test("a call past its client's deadline is DEADLINE_EXCEEDED, on time, and the server keeps serving", async () => {
  const server = await serveUnary({ "/t.S/Slow": echo(3000), "/t.S/Fast": echo() }, {
    host: "127.0.0.1",
    port: 0,
    maxMessageBytes: 1024,
  });
  const client = unaryClient(`127.0.0.1:${server.port}`);
  try {
    const t0 = performance.now();
    const err = await client.call("/t.S/Slow", new Uint8Array([1]), { "grpc-timeout": "150m" }).then(
      () => null,
      (e) => e,
    );
    const took = performance.now() - t0;
    assert.ok(err instanceof GrpcCallError, String(err));
    assert.equal(err.code, GrpcStatus.DEADLINE_EXCEEDED);
    assert.ok(took >= 140 && took < 2000, `answered after ${took.toFixed(0)} ms`);
    assert.deepEqual([...await client.call("/t.S/Fast", new Uint8Array([2, 3]), { "grpc-timeout": "5S" })], [2, 3]);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("senders that stop part-way are cut off with CANCELLED and do not starve other calls", async () => {
  const server = await serveUnary({ "/t.S/Echo": echo() }, {
    host: "127.0.0.1",
    port: 0,
    maxMessageBytes: 1024,
    idleMs: 300,
  });
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  session.on("error", () => {});
  const client = unaryClient(`127.0.0.1:${server.port}`);
  try {
    // Twelve calls announce a 10-byte message and send 3 bytes of it, then nothing.
    const stalled = Array.from({ length: 12 }, () =>
      new Promise<string | undefined>((resolve) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/t.S/Echo",
          "content-type": "application/grpc",
          te: "trailers",
        });
        let status: string | undefined;
        req.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
        req.on("trailers", (h) => (status ??= h["grpc-status"] as string | undefined));
        req.on("close", () => resolve(status));
        req.on("error", () => {});
        const head = Buffer.alloc(8);
        head.writeUInt32BE(10, 1);
        req.write(head);
      }));
    // Meanwhile a whole call is answered at once.
    const t0 = performance.now();
    assert.deepEqual([...await client.call("/t.S/Echo", new Uint8Array([9]))], [9]);
    assert.ok(performance.now() - t0 < 250, "a complete call waits for nobody");
    const statuses = await Promise.race([
      Promise.all(stalled),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("stalled calls were never cut off")), 5000)),
    ]);
    assert.deepEqual(statuses, statuses.map(() => String(GrpcStatus.CANCELLED)));
  } finally {
    client.close();
    session.close();
    await server.close();
  }
});
