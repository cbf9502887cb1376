import assert from "node:assert/strict";
import { integration, ROOT } from "./_helpers.ts";

/** A port nothing listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Lab {
  child: Deno.ChildProcess;
  url: string;
  token: string;
  output: () => string;
}

/** Starts `deno task lab` and waits for the line with the URL. */
async function startLab(args: string[]): Promise<Lab> {
  const port = freePort();
  const token = `t${crypto.randomUUID().replaceAll("-", "")}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/lab.ts`, "--port", String(port), "--no-browser", "--token", token, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const read = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += dec.decode(chunk);
  };
  void read(child.stdout);
  void read(child.stderr);
  const deadline = Date.now() + 240_000; // a fresh machine installs JupyterLab first
  let exited = false;
  child.status.then(() => exited = true);
  while (!/URL:\s+(\S+)/.test(out)) {
    if (exited || Date.now() > deadline) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      throw new Error(`deno task lab did not print its URL:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = /URL:\s+(\S+)/.exec(out)![1]!;
  return { child, url, token, output: () => out };
}

/** Runs `code` in a kernel through Jupyter's kernel websocket and returns its stdout and errors. */
async function execute(base: string, token: string, kernelId: string, code: string): Promise<string> {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}api/kernels/${kernelId}/channels?token=${token}`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("kernel websocket did not open"));
  });
  const msgId = crypto.randomUUID();
  const session = crypto.randomUUID();
  let out = "";
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply from the kernel; so far: ${out}`)), 60_000);
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.parent_header?.msg_id !== msgId) return;
      if (msg.msg_type === "stream") out += msg.content.text;
      if (msg.msg_type === "error") out += `ERROR ${msg.content.ename}: ${msg.content.evalue}`;
      if (msg.msg_type === "status" && msg.content.execution_state === "idle") {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  ws.send(JSON.stringify({
    header: {
      msg_id: msgId,
      msg_type: "execute_request",
      username: "test",
      session,
      date: new Date().toISOString(),
      version: "5.3",
    },
    parent_header: {},
    metadata: {},
    content: {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    },
    channel: "shell",
  }));
  try {
    await done;
  } finally {
    ws.close();
  }
  return out;
}

for (const ui of ["lab", "classic"] as const) {
  Deno.test({
    name: `deno task lab${
      ui === "classic" ? " --classic" : ""
    }: opens a notebook through Jupyter's REST and kernel APIs, imports @mercury/core, stops on SIGTERM`,
    ...integration,
    async fn() {
      const lab = await startLab(ui === "classic" ? ["--classic"] : []);
      const base = lab.url.replace(/(lab|tree)\?token=.*$/, "");
      const auth = { authorization: `token ${lab.token}` };
      try {
        assert.match(lab.url, ui === "classic" ? /\/tree\?token=/ : /\/lab\?token=/);
        // The UI page itself is served.
        const page = await fetch(lab.url);
        assert.equal(page.status, 200);
        // The classic UI's file browser, or JupyterLab's application page.
        assert.match(await page.text(), ui === "classic" ? /id="notebook_list"/ : /<title>JupyterLab<\/title>/);
        // Without the token the API refuses.
        const refused = await fetch(`${base}api/contents/notebooks`);
        await refused.body?.cancel();
        assert.equal(refused.status, 403);

        // The notebook is there, read through the contents API.
        const nb = await (await fetch(`${base}api/contents/notebooks/00-tour.ipynb`, { headers: auth })).json();
        assert.equal(nb.type, "notebook");
        assert.equal(nb.content.metadata.kernelspec.name, "deno");

        // Opening it starts a Deno kernel in the notebook's folder.
        const res = await fetch(`${base}api/sessions`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({
            path: "notebooks/00-tour.ipynb",
            type: "notebook",
            name: "",
            kernel: { name: "deno" },
          }),
        });
        assert.equal(res.status, 201, await res.clone().text());
        const session = await res.json();
        assert.equal(session.kernel.name, "deno");

        const out = await execute(
          base,
          lab.token,
          session.kernel.id,
          `import { discoverPlugins, projectRoot } from "@mercury/core";
const plugins = await discoverPlugins({ root: projectRoot() });
console.log(JSON.stringify({ root: projectRoot(), cwd: Deno.cwd(), plugins: plugins.map((p) => p.manifest.name) }));`,
        );
        assert.doesNotMatch(out, /ERROR/);
        const seen = JSON.parse(out.trim().split("\n").pop()!);
        assert.equal(seen.root, ROOT);
        assert.equal(seen.cwd, `${ROOT}/notebooks`);
        assert.ok(seen.plugins.includes("stream") && seen.plugins.includes("olap"), out);

        const kernels = await (await fetch(`${base}api/kernels`, { headers: auth })).json();
        assert.equal(kernels.length, 1);
      } finally {
        lab.child.kill("SIGTERM");
      }
      const status = await lab.child.status;
      assert.equal(status.code, 0, lab.output());
      assert.match(lab.output(), /SIGTERM: stopping Jupyter/);
      assert.match(lab.output(), /stopped\./);
      // The server is gone: its port refuses connections.
      await assert.rejects(fetch(`${base}api/status`, { signal: AbortSignal.timeout(3000) }));
    },
  });
}

Deno.test({
  name: "deno task lab: a port in use is a usage error naming --port",
  ...integration,
  async fn() {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (l.addr as Deno.NetAddr).port;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}/tasks/lab.ts`, "--port", String(port), "--no-browser", "--no-services"],
        cwd: ROOT,
        stdin: "null",
      }).output();
      assert.equal(out.code, 64);
      assert.match(new TextDecoder().decode(out.stderr), new RegExp(`port ${port} is in use.*--port`));
    } finally {
      l.close();
    }
  },
});
