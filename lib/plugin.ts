/**
 * The plugin contract: a plugin is a package whose module exports a
 * `manifest` (see {@linkcode definePlugin}); Mercury discovers the workspace's
 * plugins (every member under `plugins/`) plus any listed in `MERCURY_PLUGINS`.
 *
 * This module is light on purpose (it imports only `errors.ts` and types) and
 * is the `@mercury/core/plugin` subpath a plugin's `manifest.ts` imports:
 * discovery and `--help` load manifests only, and each command's
 * implementation loads on first use through {@linkcode lazyRun}.
 *
 * @module
 */
import { MercuryError } from "./errors.ts";
import type { Endpoints, ServiceName } from "./config.ts";

export { type ErrorCode, MercuryError } from "./errors.ts";
export type { Endpoints, ServiceName } from "./config.ts";

/**
 * One option of a command, in `node:util` `parseArgs` terms plus a description.
 *
 * Typed options are read and checked before the command runs, so
 * `args.values.x` holds the parsed value: `int` and `number` a number,
 * `duration` milliseconds (`500ms`, `10s`, `1h30m`), `list` a string array
 * (comma-separated; repeated with `multiple`), `enum` one of `choices`.
 * `string` and `boolean` are passed through as before.
 */
export interface OptionSpec {
  type: "string" | "boolean" | "int" | "number" | "duration" | "list" | "enum";
  description: string;
  short?: string;
  multiple?: boolean;
  /** The value when the option is not given; strings of typed options are parsed like input. */
  default?: string | boolean | number | readonly string[];
  /** Placeholder in help, e.g. `N` for `--partitions N` (typed options have one by type). */
  value?: string;
  /** Least value of an `int`, `number` or `duration` (ms) option. */
  min?: number;
  /** Greatest value of an `int`, `number` or `duration` (ms) option. */
  max?: number;
  /** The allowed values of an `enum` option, or of a `list` option's items. */
  choices?: readonly string[];
}

/** Parsed arguments handed to a command. */
export interface CommandArgs {
  values: Record<string, string | boolean | number | string[] | boolean[] | number[] | undefined>;
  positionals: string[];
}

/** What a command can use besides its arguments. */
export interface CommandContext {
  /** The project root. */
  root: string;
  /** `--verbose` was given. */
  verbose: boolean;
  /** Resolved service endpoints (env > services file > defaults). */
  endpoints(): Endpoints;
  /** Writes one line to standard output. */
  print(line: string): void;
}

/** A CLI command of a plugin. */
export interface CommandSpec {
  /** One line shown in listings. */
  summary: string;
  /** Positional arguments in help, e.g. `<topic>`. */
  usage?: string;
  /** Longer help text. */
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Runs the command; a returned number is the exit code (default 0). */
  run(args: CommandArgs, ctx: CommandContext): Promise<number | void> | number | void;
}

/** What a plugin tells Mercury about itself. */
export interface PluginManifest {
  /** Short name used on the command line: `deno task mercury <name> …`. */
  name: string;
  title: string;
  version: string;
  description: string;
  /** Real services the plugin needs running. */
  services: readonly ServiceName[];
  commands: Readonly<Record<string, CommandSpec>>;
  /** Its notebook, relative to the project root, e.g. `notebooks/01-stream.ipynb`. */
  notebook?: string;
}

const PLUGIN_NAME_RE = /^[a-z][a-z0-9-]*$/;
const KNOWN_SERVICES = new Set(["kafka", "postgres", "redis", "mlflow", "prometheus", "spark"]);

/**
 * Checks and freezes a manifest; plugins export the result as `manifest`.
 *
 * @example
 * ```ts
 * import { definePlugin } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const manifest = definePlugin({
 *   name: "hello",
 *   title: "Hello",
 *   version: "0.1.0",
 *   description: "Says hello",
 *   services: [],
 *   commands: { greet: { summary: "Greets", run: (_a, ctx) => ctx.print("hi") } },
 * });
 * assert.equal(manifest.name, "hello");
 * assert.throws(() => definePlugin({ ...manifest, name: "Bad Name" }), /invalid plugin name/);
 * ```
 */
export function definePlugin(manifest: PluginManifest): PluginManifest {
  const where = `plugin manifest "${manifest?.name}"`;
  if (typeof manifest?.name !== "string" || !PLUGIN_NAME_RE.test(manifest.name)) {
    throw new MercuryError("config", `invalid plugin name "${manifest?.name}"`, {
      where,
      hint: "use lower-case letters, digits and dashes, starting with a letter",
    });
  }
  for (const field of ["title", "version", "description"] as const) {
    if (typeof manifest[field] !== "string" || manifest[field] === "") {
      throw new MercuryError("config", `plugin "${manifest.name}" has no ${field}`, { where });
    }
  }
  if (!/^\d+\.\d+\.\d+/.test(manifest.version)) {
    throw new MercuryError("config", `plugin "${manifest.name}" version "${manifest.version}" is not semver`, {
      where,
    });
  }
  for (const s of manifest.services ?? []) {
    if (!KNOWN_SERVICES.has(s)) {
      throw new MercuryError("config", `plugin "${manifest.name}" needs unknown service "${s}"`, {
        where,
        hint: `known services: ${[...KNOWN_SERVICES].join(", ")}`,
      });
    }
  }
  for (const [cmd, spec] of Object.entries(manifest.commands ?? {})) {
    if (!PLUGIN_NAME_RE.test(cmd) || typeof spec?.run !== "function" || typeof spec.summary !== "string") {
      throw new MercuryError("config", `plugin "${manifest.name}" command "${cmd}" is malformed`, {
        where,
        hint: "a command has a lower-case name, a summary and a run function",
      });
    }
  }
  return Object.freeze({ ...manifest, services: [...(manifest.services ?? [])] });
}

/** The signature of {@linkcode CommandSpec.run}. */
export type RunFn = CommandSpec["run"];

/**
 * A command's `run` that imports its implementation on first use and calls
 * the export `name` of it, so a manifest stays light: discovery and `--help`
 * never load the module.
 *
 * @example
 * ```ts
 * import { lazyRun } from "@mercury/core/plugin";
 * import assert from "node:assert/strict";
 *
 * let loads = 0;
 * const run = lazyRun(async () => {
 *   loads++;
 *   return { greet: (_a: unknown, ctx: { print(l: string): void }) => ctx.print("hi") };
 * }, "greet");
 * assert.equal(loads, 0); // nothing loaded until the command runs
 * const lines: string[] = [];
 * const ctx = { root: ".", verbose: false, endpoints: () => { throw new Error("unused"); }, print: (l: string) => lines.push(l) };
 * await run({ values: {}, positionals: [] }, ctx);
 * assert.equal(loads, 1);
 * assert.deepEqual(lines, ["hi"]);
 * ```
 */
export function lazyRun<K extends string>(
  load: () => Promise<{ [P in K]: (args: CommandArgs, ctx: CommandContext) => unknown }>,
  name: K,
): RunFn {
  return async (args, ctx) => {
    const mod = await load();
    const fn = mod[name];
    if (typeof fn !== "function") {
      throw new MercuryError("internal", `the command module exports no function "${name}"`, {
        hint: "lazyRun(load, name): name must be an export of the loaded module",
      });
    }
    const code = await fn(args, ctx);
    return typeof code === "number" ? code : undefined;
  };
}

/** A plugin found by {@linkcode discoverPlugins}. */
export interface DiscoveredPlugin {
  manifest: PluginManifest;
  /** Package name (`@mercury/stream`) or the specifier it was loaded from. */
  packageName: string;
  /** Module URL the manifest came from. */
  module: string;
}

/** Loads a module; swapped out by tests. */
export type ModuleLoader = (specifier: string) => Promise<Record<string, unknown>>;

/** Inputs of {@linkcode discoverPlugins}. */
export interface DiscoverOptions {
  /** Project root holding the workspace `deno.json`. */
  root: string;
  /** Extra plugin module specifiers (default: `MERCURY_PLUGINS`, comma separated). */
  extra?: string[];
  /** How modules are imported (default: dynamic `import()`). */
  load?: ModuleLoader;
}

/**
 * Finds the plugins of the workspace: each member under `plugins/`, whose
 * `deno.json` export `./manifest` is imported when present (else `.`) and
 * checked for a `manifest` export; then every extra specifier (any module
 * exporting `manifest`). Sorted by name; two plugins with one name are an error.
 */
export async function discoverPlugins(options: DiscoverOptions): Promise<DiscoveredPlugin[]> {
  const load = options.load ?? ((s: string) => import(s));
  const rootConfigPath = `${options.root}/deno.json`;
  const rootConfig = readJson(rootConfigPath);
  const members = Array.isArray(rootConfig.workspace) ? rootConfig.workspace as string[] : [];
  const found: DiscoveredPlugin[] = [];

  for (const member of members) {
    const dir = member.replace(/^\.\//, "").replace(/\/$/, "");
    if (!dir.startsWith("plugins/")) continue;
    const cfgPath = `${options.root}/${dir}/deno.json`;
    const cfg = readJson(cfgPath);
    const exports = cfg.exports;
    const map = typeof exports === "string" ? { ".": exports } : (exports as Record<string, string> | undefined);
    const entry = map?.["./manifest"] ?? map?.["."];
    if (!entry) {
      throw new MercuryError("config", `workspace member ${dir} exports neither "./manifest" nor "."`, {
        where: cfgPath,
        hint: `add "exports": { ".": "./mod.ts", "./manifest": "./manifest.ts" }`,
      });
    }
    const url = new URL(`${dir}/${entry.replace(/^\.\//, "")}`, `file://${options.root}/`).href;
    found.push(await loadPlugin(load, url, String(cfg.name ?? dir)));
  }
  const extra = options.extra ??
    (Deno.env.get("MERCURY_PLUGINS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const spec of extra) {
    // A path (./x.ts, /abs/x.ts, or dir/x.ts: no scheme, ends in .ts/.js) is a file under the project; else a specifier.
    const isPath = /^(\.|\/)/.test(spec) || (!/^[a-z][a-z0-9+.-]*:/i.test(spec) && /\.[cm]?[jt]sx?$/.test(spec));
    const url = isPath ? new URL(spec, `file://${options.root}/`).href : spec;
    found.push(await loadPlugin(load, url, spec));
  }

  found.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
  for (let i = 1; i < found.length; i++) {
    if (found[i]!.manifest.name === found[i - 1]!.manifest.name) {
      throw new MercuryError("conflict", `two plugins are named "${found[i]!.manifest.name}"`, {
        where: `${found[i - 1]!.module} and ${found[i]!.module}`,
        hint: "rename one of them",
      });
    }
  }
  return found;
}

async function loadPlugin(load: ModuleLoader, url: string, packageName: string): Promise<DiscoveredPlugin> {
  let mod: Record<string, unknown>;
  try {
    mod = await load(url);
  } catch (err) {
    throw new MercuryError("not_found", `cannot load plugin ${packageName}: ${(err as Error).message}`, {
      where: url,
      hint: "check the module path and that it type-checks (`deno check`)",
      cause: err,
    });
  }
  const manifest = mod.manifest as PluginManifest | undefined;
  if (!manifest || typeof manifest !== "object") {
    throw new MercuryError("config", `plugin ${packageName} exports no manifest`, {
      where: url,
      hint: "export const manifest = definePlugin({ … }) from its manifest.ts (re-exported by mod.ts)",
    });
  }
  return { manifest: definePlugin(manifest), packageName, module: url };
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new MercuryError("not_found", `cannot read ${path}`, {
      where: path,
      hint: "run from the Mercury project, or set MERCURY_HOME",
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MercuryError("config", `cannot parse ${path}: ${(err as Error).message}`, { where: path, cause: err });
  }
}
