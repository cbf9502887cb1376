/**
 * Python virtual environments the project makes for itself: Jupyter's runner
 * (`tasks/notebooks/requirements.txt`) and the Python peers the benchmarks
 * measure against (`bench/peers/<name>/requirements.txt`: feast, statsforecast,
 * polars…). Each venv lives under `.mercury/`, is made from a pinned
 * requirements file and is rebuilt only when that file changes.
 *
 * @example
 * ```ts ignore
 * import { ensureVenv } from "./python.ts";
 * const python = await ensureVenv(".mercury/peers/polars/venv", "bench/peers/polars/requirements.txt", "Polars");
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { dirname } from "node:path";
import { aptInstall, onPath, run, runOk, sha256Hex, withFileLock } from "./services/_process.ts";

/**
 * Makes (or reuses) the venv at `venv` with the packages of `requirements`
 * installed, and returns its `python`. `label` names it in progress lines.
 */
export async function ensureVenv(venv: string, requirements: string, label: string): Promise<string> {
  const python = `${venv}/bin/python`;
  const stampFile = `${venv}/.requirements-sha256`;
  const stamp = await sha256Hex(await Deno.readTextFile(requirements));
  const installed = async () => (await Deno.readTextFile(stampFile).catch(() => "")).trim() === stamp;
  if (await installed()) return python;
  // One installer at a time (test files run in parallel share the peers' venvs); the others then find it made.
  return await withFileLock(`${venv}.lock`, async () => {
    if (await installed()) return python;
    await makeVenv(venv, requirements, label);
    await Deno.writeTextFile(stampFile, stamp);
    return python;
  });
}

async function makeVenv(venv: string, requirements: string, label: string): Promise<void> {
  const python = `${venv}/bin/python`;
  const system = (await onPath("python3")) ?? (await aptInstall(["python3", "python3-venv"], "Python 3"), "python3");
  await Deno.mkdir(dirname(venv), { recursive: true });
  let made = await run(system, ["-m", "venv", "--clear", venv]);
  if (made.code !== 0) {
    await aptInstall(["python3-venv"], `Python's venv module (for ${label})`);
    made = await run(system, ["-m", "venv", "--clear", venv]);
  }
  if (made.code !== 0) {
    throw new MercuryError("not_found", `cannot create a Python venv: ${made.stderr.trim().split("\n").pop()}`, {
      where: venv,
      hint: "install python3-venv (apt-get install python3-venv)",
    });
  }
  console.error(`installing ${label} into ${venv}…`);
  await runOk(
    python,
    ["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements],
    "pip install",
    {
      logFile: `${dirname(venv)}/pip.log`,
    },
  );
}
