/**
 * The standalone `dq-validate` program: `deno task dq-validate <command> …`,
 * or installed with
 * `deno install -g -A -n dq-validate --config deno.json plugins/quality/cli.ts`.
 * It dispatches from the light manifest (the same command code as
 * `deno task mercury quality <command>`), so `--help` loads no engine.
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot, resolveEndpoints } from "@mercury/core";
import { manifest } from "./manifest.ts";

const commands = manifest.commands;

/** Help of the `dq-validate` program. */
export function dqHelp(): string {
  const w = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    "dq-validate <command> [options]",
    "",
    "Data quality: Great Expectations-compatible expectations compiled to one DuckDB scan, profiles, scores, reports.",
    "",
    "Commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`),
    "",
    "Exit codes: 0 passed, 1 expectations failed, 64 usage, 65 bad input, 66 not found, 69 service unavailable.",
    "Run `dq-validate <command> --help` for its options.",
  ].join("\n");
}

/** Runs one `dq-validate` invocation; returns the exit code. */
export async function runDqValidate(
  argv: string[],
  print: (line: string) => void = console.log,
  root: string = projectRoot(),
): Promise<number> {
  const args = argv.filter((a) => a !== "--verbose");
  const [cmd, ...rest] = args;
  if (!cmd || cmd === "-h" || cmd === "--help" || cmd === "help") {
    print(dqHelp());
    return 0;
  }
  const spec = commands[cmd];
  if (!spec) {
    throw new MercuryError("usage", `unknown command "${cmd}"`, {
      where: "dq-validate",
      hint: `commands: ${Object.keys(commands).join(", ")}`,
    });
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    print(commandHelp(spec, `dq-validate ${cmd}`));
    return 0;
  }
  const parsed = parseCommandArgs(spec, rest, `dq-validate ${cmd}`);
  const code = await spec.run(parsed, {
    root,
    verbose: argv.includes("--verbose"),
    endpoints: () => resolveEndpoints(),
    print,
  });
  return typeof code === "number" ? code : 0;
}

if (import.meta.main) {
  // `deno task dq-validate` runs in the project root; paths on its command line are the caller's (INIT_CWD).
  const root = projectRoot();
  const callerDir = Deno.env.get("INIT_CWD");
  if (callerDir) Deno.chdir(callerDir);
  await main((argv) => runDqValidate(argv, console.log, root));
}
