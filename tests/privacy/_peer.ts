/**
 * The accountant peers (Google's dp-accounting, Opacus's analysis/rdp.py,
 * mpmath) in a venv under .mercury/, installed on first use:
 * `bench/peers/dp_accounting/requirements.txt`, then Opacus alone with
 * `--no-deps` (its accountant needs only numpy and scipy, not torch).
 */
import { ensureVenv } from "../../tasks/python.ts";

const root = new URL("../../", import.meta.url).pathname;
const venv = `${root}.mercury/peers/dp_accounting/venv`;

/** The venv's python, with dp-accounting, mpmath and (no-deps) Opacus installed. */
export async function peerPython(): Promise<string> {
  const python = await ensureVenv(venv, `${root}bench/peers/dp_accounting/requirements.txt`, "dp-accounting");
  const nodeps = `${root}bench/peers/dp_accounting/requirements-nodeps.txt`;
  const want = (await Deno.readTextFile(nodeps)).trim();
  const stamp = `${venv}/.nodeps`;
  let have = "";
  try {
    have = (await Deno.readTextFile(stamp)).trim();
  } catch { /* first use */ }
  if (have !== want) {
    const r = await new Deno.Command(python, {
      args: ["-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "-r", nodeps],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(`pip install --no-deps opacus failed: ${new TextDecoder().decode(r.stderr)}`);
    await Deno.writeTextFile(stamp, want);
  }
  return python;
}

/** One peer answer per case (see bench/peers/dp_accounting/accountant_peer.py for the kinds). */
export async function askPeer(cases: Record<string, unknown>[]): Promise<number[]> {
  const python = await peerPython();
  const child = new Deno.Command(python, {
    args: [`${root}bench/peers/dp_accounting/accountant_peer.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(cases)));
  await w.close();
  const r = await child.output();
  if (!r.success) throw new Error(`accountant peer failed: ${new TextDecoder().decode(r.stderr)}`);
  return JSON.parse(new TextDecoder().decode(r.stdout));
}
