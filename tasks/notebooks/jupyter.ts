/**
 * Makes sure real Jupyter can run notebooks with Deno's kernel: a Python venv
 * under `.mercury/jupyter/venv` with nbclient and nbconvert (pinned in
 * `requirements.txt`), and the Deno kernelspec (`deno jupyter --install`).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { run } from "../services/_process.ts";
import { ensureVenv } from "../python.ts";

/** Paths of the runner's Python side. */
export interface Jupyter {
  python: string;
  executeScript: string;
}

/** Installs what is missing (venv, pip packages, kernelspec) and returns the interpreter to use. */
export async function ensureJupyter(root: string, state: string): Promise<Jupyter> {
  const python = await ensureVenv(
    `${state}/jupyter/venv`,
    `${root}/tasks/notebooks/requirements.txt`,
    "Jupyter (nbclient, nbconvert)",
  );
  await installDenoKernel();
  return { python, executeScript: `${root}/tasks/notebooks/execute.py` };
}

/** Installs Deno's own kernelspec (`deno jupyter --install`), pointing at the Deno running this task. */
export async function installDenoKernel(): Promise<void> {
  const k = await run(Deno.execPath(), ["jupyter", "--install", "--force"]);
  if (k.code !== 0) {
    throw new MercuryError("unavailable", `deno jupyter --install failed: ${k.stderr.trim().split("\n").pop()}`, {
      hint: "run `deno jupyter --install` by hand to see why",
    });
  }
}

/**
 * JupyterLab (and the classic notebook UI, nbclassic) for `deno task lab`: a
 * venv of its own under `.mercury/jupyter/lab-venv`, pinned in
 * `lab-requirements.txt`, so the headless runner's venv stays small. Returns
 * its interpreter.
 */
export async function ensureLab(root: string, state: string): Promise<string> {
  const python = await ensureVenv(
    `${state}/jupyter/lab-venv`,
    `${root}/tasks/notebooks/lab-requirements.txt`,
    "JupyterLab",
  );
  await installDenoKernel();
  return python;
}
