/**
 * Soda Core (soda-core-duckdb, pip) as a second peer of `bench/quality_bench.ts`:
 * the same SodaCL check lines run through Soda's DuckDB data source and
 * through dq-validate's SodaCL-like shorthand; outcome and metric value are
 * compared check by check.
 *
 * @module
 */
import { ensureVenv } from "../../../tasks/python.ts";
import type { ExpectationResult } from "../../../plugins/quality/types.ts";

const HERE = new URL(".", import.meta.url).pathname;

/** Check lines both understand (Soda's metric names; stddev is the sample deviation in both). `duplicate_count` is left out: Soda counts duplicated values, the GX-style check counts duplicated rows. */
export const SODA_CHECKS = [
  "row_count > 0",
  "missing_count(email) = 0",
  "missing_percent(email) < 5",
  "min(amount) >= 0",
  "max(amount) <= 1000",
  "avg(amount) between 0 and 600",
  "sum(qty) > 0",
  "stddev(amount) < 1000",
  "avg_length(status) between 3 and 8",
];

/** Makes (or reuses) the Soda venv; returns its python. */
export function sodaPython(): Promise<string> {
  return ensureVenv(".mercury/peers/soda/venv", `${HERE}requirements.txt`, "Soda Core");
}

/** One Soda check's outcome. */
export interface SodaCheck {
  definition: string;
  outcome: string;
  value: unknown;
}

/** Runs the checks through Soda Core over `path`; returns outcomes, wall and CPU seconds. */
export async function runSoda(
  python: string,
  path: string,
  timeBin: string,
): Promise<{ checks: SodaCheck[]; wallS: number; cpuS: number; maxRssKb: number }> {
  const checks = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(checks, `checks for data:\n${SODA_CHECKS.map((c) => `  - ${c}`).join("\n")}\n`);
  const rss = await Deno.makeTempFile();
  const t0 = performance.now();
  const out = await new Deno.Command(timeBin, {
    args: ["-f", "%M %U %S", "-o", rss, python, `${HERE}run_soda.py`, path, checks],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallS = (performance.now() - t0) / 1000;
  if (!out.success) {
    throw new Error(
      `Soda Core failed: ${new TextDecoder().decode(out.stderr).split("\n").filter(Boolean).slice(-3).join(" | ")}`,
    );
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  const [m, u, s] = (await Deno.readTextFile(rss)).trim().split("\n").pop()!.split(" ").map(Number);
  await Deno.remove(rss);
  await Deno.remove(checks);
  return { checks: json.checks, wallS, cpuS: u! + s!, maxRssKb: m! };
}

/** Pairs our shorthand results with Soda's by check line. */
export function compareSoda(
  ours: ExpectationResult[],
  soda: SodaCheck[],
): { check: string; ours: [boolean, unknown]; soda: [string, unknown]; equal: boolean }[] {
  return SODA_CHECKS.map((line) => {
    const o = ours.find((r) => r.expectation_config.meta?.shorthand === line)!;
    const s = soda.find((c) => (c.definition ?? "").includes(line)) ??
      { outcome: "missing", value: null, definition: line };
    const ov = o.result.observed_value ?? o.result.unexpected_count;
    const same = typeof ov === "number" && typeof s.value === "number"
      ? Math.abs(ov - s.value) <= 1e-6 * Math.max(1, Math.abs(ov))
      : ov === s.value;
    return {
      check: line,
      ours: [o.success, ov],
      soda: [s.outcome, s.value],
      equal: o.success === (s.outcome === "pass") && same,
    };
  });
}
