import assert from "node:assert/strict";
import { onSignal, untilSignal } from "@mercury/core/signal";
import { ROOT } from "../_helpers.ts";

/** Starts a script that waits with untilSignal, then reports. */
async function waiter(code: string) {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, code.replaceAll("$CORE", `file://${ROOT}/lib/signal.ts`));
  const child = new Deno.Command(Deno.execPath(), { args: ["run", "-A", file], stdout: "piped", stderr: "piped" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  return {
    child,
    async rest() {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      const status = await child.status;
      await child.stderr.cancel();
      await Deno.remove(file);
      return { out, code: status.code, signal: status.signal };
    },
  };
}

Deno.test("untilSignal: a waiting program stays alive until SIGTERM, gets its name and exits cleanly", async () => {
  const w = await waiter(`
    import { untilSignal } from "$CORE";
    console.log("ready");
    console.log("got", await untilSignal());
  `);
  await new Promise((r) => setTimeout(r, 300)); // it must still be waiting: nothing else holds the loop open
  w.child.kill("SIGTERM");
  const { out, code } = await w.rest();
  assert.equal(out, "ready\ngot SIGTERM\n");
  assert.equal(code, 0);
});

Deno.test("untilSignal: the listeners are removed afterwards, so a second SIGINT is the default (death by signal)", async () => {
  const w = await waiter(`
    import { untilSignal } from "$CORE";
    console.log("ready");
    console.log("got", await untilSignal(["SIGINT"]));
    console.log("ready");
    await new Promise((r) => setTimeout(r, 10_000));
    console.log("survived");
  `);
  await new Promise((r) => setTimeout(r, 300));
  w.child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 500));
  w.child.kill("SIGINT");
  const { out, signal } = await w.rest();
  assert.equal(out, "ready\ngot SIGINT\nready\n");
  assert.equal(signal, "SIGINT");
});

Deno.test("onSignal: calls the handler per signal until disposed", async () => {
  const seen: string[] = [];
  {
    using _ = onSignal((s) => seen.push(s), ["SIGUSR1", "SIGUSR2"]);
    Deno.kill(Deno.pid, "SIGUSR1");
    Deno.kill(Deno.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(seen.sort(), ["SIGUSR1", "SIGUSR2"]);
  // Still listening to SIGUSR1 here would be a leaked listener; another onSignal proves the process handles it.
  const more: string[] = [];
  const l = onSignal((s) => more.push(s), ["SIGUSR1"]);
  Deno.kill(Deno.pid, "SIGUSR1");
  await new Promise((r) => setTimeout(r, 200));
  l.remove();
  l.remove(); // idempotent
  assert.deepEqual(more, ["SIGUSR1"]);
  assert.equal(seen.length, 2);
});

Deno.test("untilSignal: an abort stops listening and rejects with the reason", async () => {
  const ac = new AbortController();
  const p = untilSignal(["SIGUSR1"], { signal: ac.signal });
  ac.abort(new Error("server closed"));
  await assert.rejects(p, /server closed/);
  await assert.rejects(untilSignal(["SIGUSR1"], { signal: AbortSignal.abort(new Error("early")) }), /early/);
});
