/**
 * Makes sure real Jupyter can run notebooks with Deno's kernel: a Python venv
 * under `.mercury/jupyter/venv` with nbclient and nbconvert (pinned in
 * `requirements.txt`), and the Deno kernelspec (`deno jupyter --install`).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { aptInstall, onPath, run, runOk, sha256Hex } from "../services/_process.ts";

/** Paths of the runner's Python side. */
export interface Jupyter {
  python: string;
  executeScript: string;
}

/** Installs what is missing (venv, pip packages, kernelspec) and returns the interpreter to use. */
export async function ensureJupyter(root: string, state: string): Promise<Jupyter> {
  const dir = `${state}/jupyter`;
  const venv = `${dir}/venv`;
  const python = `${venv}/bin/python`;
  const requirements = `${root}/tasks/notebooks/requirements.txt`;
  const stampFile = `${venv}/.requirements-sha256`;
  const stamp = await sha256Hex(await Deno.readTextFile(requirements));
  let have = "";
  try {
    have = (await Deno.readTextFile(stampFile)).trim();
  } catch { /* not installed yet */ }

  if (have !== stamp) {
    const system = (await onPath("python3")) ?? (await aptInstall(["python3", "python3-venv"], "Python 3"), "python3");
    await Deno.mkdir(dir, { recursive: true });
    let made = await run(system, ["-m", "venv", "--clear", venv]);
    if (made.code !== 0) {
      await aptInstall(["python3-venv"], "Python's venv module (for Jupyter's nbclient and nbconvert)");
      made = await run(system, ["-m", "venv", "--clear", venv]);
    }
    if (made.code !== 0) {
      throw new MercuryError("not_found", `cannot create a Python venv: ${made.stderr.trim().split("\n").pop()}`, {
        where: venv,
        hint: "install python3-venv (apt-get install python3-venv)",
      });
    }
    console.error("installing Jupyter (nbclient, nbconvert) into .mercury/jupyter/venv…");
    await runOk(
      python,
      ["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements],
      "pip install",
      {
        logFile: `${dir}/pip.log`,
      },
    );
    await Deno.writeTextFile(stampFile, stamp);
  }
  // Deno's own kernelspec, pointing at the Deno running this task.
  const k = await run(Deno.execPath(), ["jupyter", "--install", "--force"]);
  if (k.code !== 0) {
    throw new MercuryError("unavailable", `deno jupyter --install failed: ${k.stderr.trim().split("\n").pop()}`, {
      hint: "run `deno jupyter --install` by hand to see why",
    });
  }
  return { python, executeScript: `${root}/tasks/notebooks/execute.py` };
}
