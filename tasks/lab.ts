/**
 * `deno task lab`: JupyterLab on Mercury's notebooks, in one command. Brings
 * the services up (`deno task services up`), makes sure JupyterLab (pinned in
 * `tasks/notebooks/lab-requirements.txt`, in a venv under `.mercury/`) and
 * Deno's kernelspec are installed, and starts the server rooted at the project
 * folder: a notebook's kernel runs in the notebook's folder, under the
 * workspace `deno.json`, so `@mercury/*` imports resolve in every notebook.
 * Prints the URL and the token; Ctrl-C (or SIGTERM) stops the server, which
 * shuts its kernels down first.
 *
 * `--classic` serves the classic notebook UI (nbclassic) instead of Lab.
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot, stateDir } from "@mercury/core";
import type { CommandSpec } from "@mercury/core";
import { sleep } from "@mercury/core/retry";
import { untilSignal } from "@mercury/core/signal";
import { ensureLab } from "./notebooks/jupyter.ts";
import { portFree } from "./services/_process.ts";

const spec: CommandSpec = {
  summary: "start JupyterLab with the Deno kernel on Mercury's notebooks (services brought up first)",
  usage: "",
  options: {
    port: { type: "int", min: 1, max: 65535, value: "PORT", description: "port to listen on", default: 8888 },
    "no-browser": { type: "boolean", description: "do not open a browser" },
    classic: { type: "boolean", description: "serve the classic notebook UI (nbclassic) instead of JupyterLab" },
    "no-services": { type: "boolean", description: "do not run `deno task services up` first" },
    token: { type: "string", value: "TOKEN", description: "the access token (default: a random one)" },
    ip: { type: "string", value: "ADDR", description: "address to listen on", default: "127.0.0.1" },
  },
  run() {},
};

/** The command line that starts the Jupyter server. */
export function serverArgs(
  options: { root: string; port: number; token: string; ip: string; classic: boolean; browser: boolean },
): string[] {
  return [
    "-m",
    options.classic ? "nbclassic" : "jupyterlab",
    `--ServerApp.root_dir=${options.root}`,
    `--ServerApp.ip=${options.ip}`,
    `--ServerApp.port=${options.port}`,
    "--ServerApp.port_retries=0",
    `--IdentityProvider.token=${options.token}`,
    `--ServerApp.open_browser=${options.browser ? "True" : "False"}`,
    // Root in containers and CI; harmless otherwise.
    "--allow-root",
    // Kernels ask for a name on a notebook without a kernelspec: ours all use Deno.
    "--MappingKernelManager.default_kernel_name=deno",
  ];
}

async function servicesUp(root: string): Promise<void> {
  console.error("bringing the services up (deno task services up)…");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}/tasks/services.ts`, "up"],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    throw new MercuryError("unavailable", `deno task services up failed: ${why}`, {
      hint: "see `deno task services status`, or start with --no-services",
    });
  }
}

/** Waits until the server answers `/api/status`, or it exits, or the deadline passes. */
async function waitReady(
  url: string,
  token: string,
  exited: Promise<Deno.CommandStatus>,
  log: string,
  ms = 90_000,
): Promise<void> {
  let done: Deno.CommandStatus | undefined;
  exited.then((s) => done = s);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (done) {
      const tail = (() => {
        try {
          return Deno.readTextFileSync(log).trim().split("\n").slice(-3).join(" | ");
        } catch {
          return "";
        }
      })();
      throw new MercuryError("unavailable", `Jupyter exited (code ${done.code}) before it served: ${tail}`, {
        where: log,
        hint: `read ${log}`,
      });
    }
    try {
      const res = await fetch(`${url}api/status`, {
        headers: { authorization: `token ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await sleep(250);
  }
  throw new MercuryError("timeout", `Jupyter did not answer within ${ms / 1000} s`, {
    where: log,
    hint: `read ${log}`,
  });
}

if (import.meta.main) {
  await main(async (argv) => {
    const args = argv.filter((a) => a !== "--verbose");
    if (args.includes("-h") || args.includes("--help")) {
      console.log(commandHelp(spec, "deno task lab"));
      return 0;
    }
    const parsed = parseCommandArgs(spec, args, "deno task lab");
    const root = projectRoot();
    const port = parsed.values.port as number;
    const ip = String(parsed.values.ip);
    const classic = Boolean(parsed.values.classic);
    if (!portFree(port)) {
      throw new MercuryError("usage", `port ${port} is in use`, { where: "--port", hint: "pick another with --port" });
    }
    if (!parsed.values["no-services"]) await servicesUp(root);
    const python = await ensureLab(root, stateDir(root));
    const token = parsed.values.token ? String(parsed.values.token) : crypto.randomUUID().replaceAll("-", "");
    const log = `${stateDir(root)}/jupyter/lab-${port}.log`;
    const logFile = await Deno.open(log, { create: true, write: true, truncate: true });
    const child = new Deno.Command(python, {
      args: serverArgs({ root, port, token, ip, classic, browser: !parsed.values["no-browser"] }),
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Jupyter logs to stderr; both streams go to the log file.
    const pipe = (s: ReadableStream<Uint8Array>) =>
      s.pipeTo(
        new WritableStream({ write: (chunk) => void logFile.writeSync(chunk) }),
      ).catch(() => {});
    const piping = Promise.all([pipe(child.stdout), pipe(child.stderr)]);
    const host = ip === "0.0.0.0" ? "127.0.0.1" : ip;
    const base = `http://${host}:${port}/`;
    const listening = new AbortController();
    const stopping = untilSignal(undefined, { signal: listening.signal });
    stopping.catch(() => {});
    try {
      await Promise.race([waitReady(base, token, child.status, log), stopping.then(() => {})]);
    } catch (err) {
      listening.abort();
      child.kill("SIGKILL");
      throw err;
    }
    const page = classic ? "tree" : "lab";
    console.log(`${classic ? "Classic notebook" : "JupyterLab"} on Mercury's notebooks (kernel: Deno)`);
    console.log(`  URL:   ${base}${page}?token=${token}`);
    console.log(`  token: ${token}`);
    console.log(`  root:  ${root}  (open notebooks/; @mercury/* imports resolve)`);
    console.log(`  log:   ${log}`);
    console.log("Ctrl-C stops it.");
    const how = await Promise.race([stopping, child.status.then((s) => s)]);
    if (typeof how !== "string") {
      listening.abort();
      throw new MercuryError("unavailable", `Jupyter exited on its own (code ${how.code})`, {
        where: log,
        hint: `read ${log}`,
      });
    }
    console.error(`${how}: stopping Jupyter (its kernels shut down first)…`);
    child.kill("SIGTERM");
    const stopped = await Promise.race([child.status, sleep(20_000).then(() => undefined)]);
    if (!stopped) {
      child.kill("SIGKILL");
      await child.status;
    }
    await piping;
    logFile.close();
    console.error("stopped.");
    return 0;
  });
}
