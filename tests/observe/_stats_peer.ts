/**
 * Runs a Python snippet in the Evidently/shap/scikit-learn venv
 * (`bench/peers/evidently/requirements.txt`, made on first use) with a JSON
 * value on stdin and returns the JSON it prints. Shared by the observe
 * statistics parity tests.
 */
import { ensureVenv } from "../../tasks/python.ts";

const root = new URL("../../", import.meta.url).pathname;

/** The venv's python, installed on first call. */
export function statsPython(): Promise<string> {
  return ensureVenv(
    `${root}.mercury/peers/evidently/venv`,
    `${root}bench/peers/evidently/requirements.txt`,
    "Evidently, shap and scikit-learn (observe parity tests)",
  );
}

/** Runs `code` with `input` as JSON on stdin (`data = json.load(sys.stdin)`); returns what it prints as JSON. */
export async function runPython<T>(code: string, input: unknown): Promise<T> {
  const python = await statsPython();
  const child = new Deno.Command(python, {
    args: ["-c", `import json, sys, warnings\nwarnings.filterwarnings("ignore")\ndata = json.load(sys.stdin)\n${code}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(input)));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`python failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!;
  return JSON.parse(text) as T;
}
