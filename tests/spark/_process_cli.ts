/**
 * Runs the seed's job as a user does, `deno task mercury spark process …`,
 * in a subprocess, and reads its summary line.
 *
 * @module
 */
import assert from "node:assert/strict";

/** What `spark process` printed: raw rows in, clean rows out, the daily aggregate's rows. */
export interface ProcessSummary {
  raw: number;
  clean: number;
  daily: number;
}

/** `spark process --input … --products … --output … --partitions N`; fails the test on a non-zero exit. */
export async function runProcess(
  input: string,
  products: string,
  output: string,
  partitions = 2,
): Promise<ProcessSummary> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tasks/mercury.ts",
      "spark",
      "process",
      "--input",
      input,
      "--products",
      products,
      "--output",
      output,
      "--partitions",
      String(partitions),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const m = /(\d+) raw → (\d+) clean rows → (\S+) \((\d+) daily rows/.exec(text);
  assert.ok(m, text);
  return { raw: Number(m[1]), clean: Number(m[2]), daily: Number(m[4]) };
}
