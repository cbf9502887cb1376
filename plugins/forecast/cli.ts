/**
 * The standalone `forecast` program:
 * `deno task forecast <command> [options]`, or install it with
 * `deno install -g -A -n forecast --config deno.json plugins/forecast/cli.ts`.
 * It dispatches from the light manifest: `forecast --help` and
 * `forecast <command> --help` load no model, and a command loads its
 * implementation only when it runs.
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot, resolveEndpoints } from "@mercury/core";
import { manifest } from "./manifest.ts";

const commands = manifest.commands;

/** Help of the `forecast` program. */
export function forecastHelp(): string {
  const w = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    "forecast <command> [options]",
    "",
    "Forecasting: naive/seasonal/drift, AutoETS, AutoARIMA, Theta, MSTL, Prophet, LSTM, Transformer, ensembles.",
    "",
    "Commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`),
    "",
    "Run `forecast <command> --help` for its options.",
  ].join("\n");
}

/** Runs one `forecast` invocation; returns the exit code. */
export async function runForecast(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  const args = argv.filter((a) => a !== "--verbose");
  const [cmd, ...rest] = args;
  if (!cmd || cmd === "-h" || cmd === "--help" || cmd === "help") {
    print(forecastHelp());
    return 0;
  }
  const spec = commands[cmd];
  if (!spec) {
    throw new MercuryError("usage", `unknown command "${cmd}"`, {
      where: "forecast",
      hint: `commands: ${Object.keys(commands).join(", ")}`,
    });
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    print(commandHelp(spec, `forecast ${cmd}`));
    return 0;
  }
  const parsed = parseCommandArgs(spec, rest, `forecast ${cmd}`);
  const code = await spec.run(parsed, {
    root: projectRoot(),
    verbose: argv.includes("--verbose"),
    endpoints: () => resolveEndpoints(),
    print,
  });
  return typeof code === "number" ? code : 0;
}

if (import.meta.main) await main((argv) => runForecast(argv));
