/**
 * The long-running stream commands stop on SIGINT/SIGTERM through core's
 * untilSignal/onSignal: they close what they opened and exit 0, and a typed
 * --duration ends autoscale without a signal.
 */
import assert from "node:assert/strict";
import { ensureTopic, PostgresSink } from "@mercury/stream";
import { resolveEndpoints } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import { ROOT, uniqueName } from "../_helpers.ts";

/** Starts `mercury stream …args`, waits for `ready` on stdout or stderr, and returns the child. */
async function start(args: string[], ready: RegExp) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, "stream", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) out += chunk;
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  void child.status.then(() => (exited = true));
  const t0 = Date.now();
  while (!ready.test(out) && !exited && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, ready, "never became ready");
  return {
    child,
    async finish() {
      const status = await child.status;
      await done;
      return { code: status.code, out };
    },
  };
}

Deno.test({
  name: "stream dashboard and autoscale exit 0 on SIGTERM / SIGINT; autoscale also at the end of --duration",
  async fn(t) {
    const pipeline = uniqueName("stopsig");
    const pg = await connectPostgres({ max: 1 });
    const sink = await PostgresSink.open(pg.sql, pipeline);
    await ensureTopic(resolveEndpoints().kafka.brokers, pipeline, { partitions: 1 });
    try {
      await t.step("dashboard, SIGTERM", async () => {
        const p = await start(["dashboard", "--port", "0", "--topic", pipeline], /dashboard for .* on http/);
        p.child.kill("SIGTERM");
        const { code, out } = await p.finish();
        assert.equal(code, 0, out);
      });
      await t.step("autoscale, SIGINT", async () => {
        const p = await start(["autoscale", "--max", "1", "--topic", pipeline], /\] /);
        await new Promise((r) => setTimeout(r, 500));
        p.child.kill("SIGINT");
        const { code, out } = await p.finish();
        assert.equal(code, 0, out);
        assert.ok(Array.isArray(JSON.parse(out.split("\n").filter((l) => l.startsWith("[")).at(-1)!)), out);
      });
      await t.step("autoscale, --duration 2s", async () => {
        const t0 = performance.now();
        const p = await start(["autoscale", "--max", "1", "--topic", pipeline, "--duration", "2s"], /\] /);
        const { code, out } = await p.finish();
        assert.equal(code, 0, out);
        const took = performance.now() - t0;
        assert.ok(took >= 2000 && took < 20_000, `took ${took} ms`);
      });
    } finally {
      await sink.reset();
      await pg.close();
    }
  },
});
