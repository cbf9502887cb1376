/**
 * Command-line plumbing shared by `deno task mercury`, the plugins' commands and
 * the tasks: argument parsing with generated `--help`, dispatch to a plugin's
 * command, and one-line errors mapped to exit codes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatError, MercuryError } from "./errors.ts";
import type { CommandArgs, CommandContext, CommandSpec, DiscoveredPlugin, OptionSpec } from "./plugin.ts";
import { describeOptionType, formatDuration, optionPlaceholder, parseOptionValue } from "./options.ts";

/**
 * Parses `argv` against a command's options; unknown options and missing
 * values are usage errors that point at `--help`. Typed options (`int`,
 * `number`, `duration`, `list`, `enum`) come back parsed and checked, their
 * defaults included; a bad value is `--x must be …, got '…'` (exit 64).
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const spec = {
 *   summary: "demo",
 *   options: { partitions: { type: "string" as const, description: "partitions", default: "3" } },
 *   run: () => {},
 * };
 * const args = parseCommandArgs(spec, ["--partitions", "12", "events"], "mercury stream demo");
 * assert.equal(args.values.partitions, "12");
 * assert.deepEqual(args.positionals, ["events"]);
 * assert.throws(() => parseCommandArgs(spec, ["--nope"], "mercury stream demo"), /--nope/);
 *
 * const typed = {
 *   summary: "demo",
 *   options: { every: { type: "duration" as const, description: "period", default: "5s", min: 100 } },
 *   run: () => {},
 * };
 * assert.equal(parseCommandArgs(typed, [], "demo").values.every, 5000);
 * assert.throws(() => parseCommandArgs(typed, ["--every", "1ms"], "demo"), /--every must be a duration ≥ 100ms/);
 * ```
 */
export function parseCommandArgs(spec: CommandSpec, argv: string[], commandPath: string): CommandArgs {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean }
  > = {};
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    options[name] = { type: o.type === "boolean" ? "boolean" : "string" };
    if (o.short) options[name].short = o.short;
    if (o.multiple) options[name].multiple = true;
    // Typed defaults are filled in after parsing, so they are checked and need not be strings.
    if (o.default !== undefined && (o.type === "string" || o.type === "boolean")) {
      options[name].default = o.default as string | boolean;
    }
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(spec, argv), options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new MercuryError("usage", message, {
      where: commandPath,
      hint: `see \`${commandPath} --help\``,
      cause: err,
    });
  }
  const values = parsed.values as CommandArgs["values"];
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    if (o.type === "string" || o.type === "boolean") continue;
    const given = parsed.values[name] as string | string[] | undefined;
    if (given === undefined) {
      if (o.default !== undefined) {
        values[name] = parseOptionValue(name, o, o.default as string | number | string[], commandPath);
      }
    } else if (o.type === "list") {
      values[name] = (Array.isArray(given) ? given : [given])
        .flatMap((g) => parseOptionValue(name, o, g, commandPath) as string[]);
    } else if (Array.isArray(given)) {
      values[name] = given.map((g) => parseOptionValue(name, o, g, commandPath)) as number[] | string[];
    } else {
      values[name] = parseOptionValue(name, o, given, commandPath);
    }
  }
  return { values, positionals: parsed.positionals };
}

/** `--offset -7` → `--offset=-7` for numeric options: parseArgs takes a leading dash for another option. */
function joinNegativeNumbers(spec: CommandSpec, argv: string[]): string[] {
  const numeric = new Set<string>();
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    if (o.type !== "int" && o.type !== "number") continue;
    numeric.add(`--${name}`);
    if (o.short) numeric.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (numeric.has(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(a.startsWith("--") ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Help text of one command: typed options show their placeholder, type, range or choices, and default. */
export function commandHelp(spec: CommandSpec, commandPath: string): string {
  const lines = [`${commandPath}${spec.usage ? " " + spec.usage : ""}${spec.options ? " [options]" : ""}`, ""];
  lines.push(spec.summary);
  if (spec.description) lines.push("", spec.description);
  const opts = Object.entries(spec.options ?? {});
  lines.push("", "Options:");
  const rows: [string, string][] = opts.map(([name, o]) => {
    const typed = o.type !== "string" && o.type !== "boolean";
    const notes = [
      ...(typed ? [describeOptionType(o, false)] : []),
      ...(o.multiple ? ["repeatable"] : []),
      ...(o.default !== undefined && o.default !== false ? [`default: ${showDefault(o)}`] : []),
    ];
    return [
      `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "boolean" ? "" : ` ${optionPlaceholder(o)}`}`,
      `${o.description}${notes.length ? ` (${notes.join("; ")})` : ""}`,
    ];
  });
  rows.push(["-h, --help", "show this help"], ["    --verbose", "print stack traces on errors"]);
  lines.push(...columns(rows));
  return lines.join("\n");
}

function showDefault(o: OptionSpec): string {
  if (Array.isArray(o.default)) return o.default.join(",");
  if (o.type === "duration" && typeof o.default === "number") return formatDuration(o.default);
  return String(o.default);
}

/** Help text of one plugin: its commands. */
export function pluginHelp(plugin: DiscoveredPlugin, prog: string): string {
  const m = plugin.manifest;
  const lines = [
    `${prog} ${m.name} <command> [options]`,
    "",
    `${m.title} (${plugin.packageName} ${m.version}): ${m.description}`,
    "",
    `Services: ${m.services.length ? m.services.join(", ") : "none"}`,
  ];
  if (m.notebook) lines.push(`Notebook: ${m.notebook}`);
  lines.push("", "Commands:");
  const cmds = Object.entries(m.commands);
  lines.push(...(cmds.length ? columns(cmds.map(([n, c]) => [n, c.summary])) : ["  (none yet)"]));
  lines.push("", `Run \`${prog} ${m.name} <command> --help\` for a command's options.`);
  return lines.join("\n");
}

/** Help text of the `mercury` entry point. */
export function rootHelp(plugins: DiscoveredPlugin[], prog: string): string {
  return [
    `${prog} <plugin> <command> [options]`,
    "",
    "Mercury: a notebook-first data-engineering workbench on Deno.",
    "",
    "Commands:",
    ...columns([["plugins", "list the installed plugins"], ["<plugin> --help", "a plugin's commands"]]),
    "",
    "Plugins:",
    ...(plugins.length ? columns(plugins.map((p) => [p.manifest.name, p.manifest.title])) : ["  (none found)"]),
    "",
    "Global options: -h, --help  show help; --verbose  print stack traces on errors",
  ].join("\n");
}

/** Table of plugins for `mercury plugins`. */
export function pluginsTable(plugins: DiscoveredPlugin[]): string {
  const rows = [["plugin", "version", "package", "services", "commands", "notebook"]];
  for (const p of plugins) {
    const m = p.manifest;
    rows.push([
      m.name,
      m.version,
      p.packageName,
      m.services.join(",") || "-",
      Object.keys(m.commands).join(",") || "-",
      m.notebook ?? "-",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

function columns(rows: [string, string][]): string[] {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`);
}

/** Inputs of {@linkcode dispatch}. */
export interface DispatchOptions {
  plugins: DiscoveredPlugin[];
  context: CommandContext;
  /** Program name in help and hints (default `deno task mercury`). */
  prog?: string;
}

/**
 * Runs `mercury <plugin> <command> [args]` (or `plugins`, or help) and returns
 * the exit code. Unknown names are usage errors with a suggestion.
 */
export async function dispatch(argv: string[], options: DispatchOptions): Promise<number> {
  const prog = options.prog ?? "deno task mercury";
  const { plugins, context } = options;
  const args = argv.filter((a) => a !== "--verbose");
  const [first, second, ...rest] = args;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    context.print(rootHelp(plugins, prog));
    return 0;
  }
  if (first === "plugins") {
    context.print(pluginsTable(plugins));
    return 0;
  }
  const plugin = plugins.find((p) => p.manifest.name === first);
  if (!plugin) {
    const names = plugins.map((p) => p.manifest.name);
    const near = closest(first, [...names, "plugins"]);
    throw new MercuryError("usage", `unknown plugin "${first}"`, {
      where: prog,
      hint: `${near ? `did you mean "${near}"? ` : ""}installed: ${
        names.join(", ") || "none"
      }; see \`${prog} plugins\``,
    });
  }
  if (second === undefined || second === "-h" || second === "--help") {
    context.print(pluginHelp(plugin, prog));
    return 0;
  }
  const spec = plugin.manifest.commands[second];
  const path = `${prog} ${plugin.manifest.name} ${second}`;
  if (!spec) {
    const cmds = Object.keys(plugin.manifest.commands);
    const near = closest(second, cmds);
    throw new MercuryError("usage", `plugin "${plugin.manifest.name}" has no command "${second}"`, {
      where: `${prog} ${plugin.manifest.name}`,
      hint: `${near ? `did you mean "${near}"? ` : ""}commands: ${cmds.join(", ") || "none"}`,
    });
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    context.print(commandHelp(spec, path));
    return 0;
  }
  const parsed = parseCommandArgs(spec, rest, path);
  const code = await spec.run(parsed, context);
  return typeof code === "number" ? code : 0;
}

/**
 * Runs `fn` as a program: a thrown error becomes one line on stderr (with the
 * stack only under `--verbose`) and the process exits with the error's code.
 *
 * @example
 * ```ts ignore
 * import { main } from "@mercury/core";
 * await main(async () => {
 *   // … throw new MercuryError("usage", "…") on bad input
 *   return 0;
 * });
 * ```
 */
export async function main(fn: (argv: string[]) => Promise<number | void> | number | void): Promise<never> {
  const verbose = Deno.args.includes("--verbose") || Deno.env.get("MERCURY_VERBOSE") === "1";
  let code = 0;
  try {
    code = (await fn(Deno.args)) ?? 0;
  } catch (err) {
    const { text, exitCode } = formatError(err, verbose);
    console.error(text);
    code = exitCode;
  }
  Deno.exit(code);
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
