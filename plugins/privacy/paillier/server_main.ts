/**
 * The encrypted-analytics server as its own process: `deno run
 * server_main.ts` prints `listening <port>` and serves `PUT /tables/<name>`
 * (public key + encrypted table, JSON) and `POST /query/<name>`. It never
 * holds a private key: whatever it computes stays encrypted.
 *
 * @module
 */
import { BodyError, readJsonObject } from "@mercury/core/http_body";
import { encryptedGroupSums, type EncryptedQuery, type EncryptedTable } from "./aggregate.ts";
import type { PublicKeyJson } from "./key_holder.ts";

const tables = new Map<string, { publicKey: PublicKeyJson; table: EncryptedTable }>();
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, async (req) => {
  const url = new URL(req.url);
  const [, kind, name] = url.pathname.split("/");
  try {
    if (req.method === "PUT" && kind === "tables" && name) {
      const body = await readJsonObject(req, { maxBytes: 256 << 20 });
      tables.set(name, body as unknown as { publicKey: PublicKeyJson; table: EncryptedTable });
      return Response.json({ ok: true });
    }
    if (req.method === "POST" && kind === "query" && name) {
      const t = tables.get(name);
      if (!t) return Response.json({ error: `no table ${name}` }, { status: 404 });
      const q = await readJsonObject(req) as unknown as EncryptedQuery;
      const started = performance.now();
      const result = encryptedGroupSums(t.publicKey, t.table, q);
      return Response.json({ result, ms: performance.now() - started });
    }
    if (req.method === "POST" && kind === "stop") {
      setTimeout(() => server.shutdown(), 10);
      return Response.json({ ok: true });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  } catch (err) {
    const status = err instanceof BodyError ? err.status : 400;
    return Response.json({ error: (err as Error).message }, { status });
  }
});
