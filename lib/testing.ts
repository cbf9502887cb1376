/**
 * `@mercury/core/testing`: the conformance suite every plugin runs — hono's
 * pattern of one shared suite over many implementations. A plugin's test
 * calls {@linkcode pluginConformance} with its manifest module and package
 * directory and gets every contract check as a `t.step`:
 *
 * 1. the manifest is valid ({@linkcode definePlugin} accepts it);
 * 2. the manifest module is light: its static import graph reaches no npm
 *    package (commands load their implementation with `lazyRun`);
 * 3. every command's `--help` (and the plugin's) exits 0 without running it;
 * 4. an unknown option, and a bad value of every typed option, is refused
 *    with exit 64 and one line, before the command runs;
 * 5. the services declared are the ones the plugin's code connects to
 *    (`connectKafka`/`connectPostgres`/`connectRedis`, their core subpaths,
 *    or the Kafka/PostgreSQL/Redis client packages);
 * 6. the notebook exists and is a valid Deno-kernel notebook.
 *
 * @example
 * ```ts ignore
 * import { pluginConformance } from "@mercury/core/testing";
 *
 * Deno.test("my plugin follows the plugin contract", async (t) => {
 *   await pluginConformance(t, {
 *     module: new URL("../../plugins/hello/manifest.ts", import.meta.url).href,
 *     root: new URL("../../plugins/hello", import.meta.url).pathname,
 *   });
 * });
 * ```
 *
 * @module
 */
import { dispatch } from "./cli.ts";
import { projectRoot as findProjectRoot } from "./config.ts";
import { formatError } from "./errors.ts";
import {
  type CommandContext,
  type CommandSpec,
  definePlugin,
  type DiscoveredPlugin,
  type OptionSpec,
  type PluginManifest,
} from "./plugin.ts";

/** What {@linkcode pluginConformance} checks. */
export interface ConformanceTarget {
  /** Specifier or URL of the module exporting `manifest` (the plugin's `manifest.ts`). */
  module: string;
  /** The plugin's package directory; its sources are scanned for the services they connect to. */
  root: string;
  /** Where the manifest's `notebook` is looked for first (default: the Mercury project above `root`); then `root`. */
  projectRoot?: string;
}

/** A service and the source patterns that mean the code connects to it. */
export const SERVICE_PATTERNS: Readonly<Record<string, RegExp>> = {
  kafka: /@mercury\/core\/services\/kafka|\bconnectKafka\b|["']@platformatic\/kafka["']|["']kafkajs["']/,
  postgres: /@mercury\/core\/services\/postgres|\bconnectPostgres\b|from ["']postgres["']/,
  redis: /@mercury\/core\/services\/redis|\bconnectRedis\b|["']ioredis["']/,
  mlflow: /\bmlflow\.url\b/,
  prometheus: /\bprometheus\.url\b/,
  spark: /\bSparkSession\.connect\b/,
};

/**
 * Runs the plugin contract's checks as steps of `t`; a failing step names
 * what to change.
 */
export async function pluginConformance(t: Deno.TestContext, target: ConformanceTarget): Promise<void> {
  const root = target.root.replace(/\/$/, "");
  const url = /^[a-z]+:/.test(target.module) ? target.module : new URL(target.module, `file://${root}/`).href;
  let manifest: PluginManifest | undefined;

  await t.step("the manifest is valid", async () => {
    const mod = await import(url) as Record<string, unknown>;
    if (!mod.manifest) fail(`${url} exports no manifest`);
    manifest = definePlugin(mod.manifest as PluginManifest);
  });
  if (!manifest) return;
  const m = manifest;

  await t.step("the manifest module statically loads no npm package", async () => {
    const heavy = await staticNpmImports(url, root);
    if (heavy.length) {
      fail(
        `plugin "${m.name}": ${url} statically loads npm packages (${heavy.join(", ")}); ` +
          `import only @mercury/core/plugin and light modules, and load commands with lazyRun(() => import(…), "name")`,
      );
    }
  });

  const calls: string[] = [];
  const spied: PluginManifest = {
    ...m,
    commands: Object.fromEntries(
      Object.entries(m.commands).map(([name, spec]) => [name, { ...spec, run: () => void calls.push(name) }]),
    ),
  };
  const plugin: DiscoveredPlugin = { manifest: spied, packageName: m.name, module: url };
  const lines: string[] = [];
  const context: CommandContext = {
    root,
    verbose: false,
    endpoints: () => fail("a command's help or option check asked for service endpoints"),
    print: (line) => lines.push(line),
  };
  const run = (argv: string[]) => dispatch(argv, { plugins: [plugin], context, prog: "mercury" });

  await t.step("every command's --help exits 0 without running it", async () => {
    if ((await run([m.name, "--help"])) !== 0) fail(`mercury ${m.name} --help did not exit 0`);
    for (const cmd of Object.keys(m.commands)) {
      lines.length = 0;
      const code = await run([m.name, cmd, "--help"]);
      if (code !== 0) fail(`mercury ${m.name} ${cmd} --help exited ${code}`);
      if (!lines.join("\n").includes("--help")) fail(`mercury ${m.name} ${cmd} --help printed no option list`);
    }
    if (calls.length) fail(`--help ran ${calls.join(", ")}`);
  });

  await t.step("a bad option exits 64 with one line, before the command runs", async () => {
    for (const [cmd, spec] of Object.entries(m.commands)) {
      const cases = [["--no-such-option-for-conformance"], ...badValues(spec)];
      for (const argv of cases) {
        const text = `mercury ${m.name} ${cmd} ${argv.join(" ")}`;
        let err: unknown;
        try {
          await run([m.name, cmd, ...argv]);
        } catch (e) {
          err = e;
        }
        if (err === undefined) fail(`${text} was accepted`);
        const { text: message, exitCode } = formatError(err, false);
        if (exitCode !== 64) fail(`${text} exited ${exitCode}, not 64: ${message}`);
        if (message.includes("\n")) fail(`${text} printed more than one line:\n${message}`);
      }
    }
    if (calls.length) fail(`a refused option still ran ${calls.join(", ")}`);
  });

  await t.step("the services declared are the ones its code connects to", async () => {
    const used = new Map<string, string>();
    for await (const file of sources(root)) {
      const text = await Deno.readTextFile(file);
      for (const [service, re] of Object.entries(SERVICE_PATTERNS)) {
        if (!used.has(service) && re.test(text)) used.set(service, file.slice(root.length + 1));
      }
    }
    const declared = new Set<string>(m.services);
    const missing = [...used].filter(([s]) => !declared.has(s)).map(([s, f]) => `${s} (${f})`);
    const unused = [...declared].filter((s) => !used.has(s));
    if (missing.length) {
      fail(`plugin "${m.name}" connects to ${missing.join(", ")} but does not declare it in services`);
    }
    if (unused.length) fail(`plugin "${m.name}" declares ${unused.join(", ")} in services but no code connects to it`);
  });

  await t.step("the notebook exists and is a Deno-kernel notebook", async () => {
    if (!m.notebook) {
      fail(`plugin "${m.name}" names no notebook (manifest.notebook, e.g. notebooks/07-${m.name}.ipynb)`);
    }
    const bases = [target.projectRoot ?? findProjectRoot(root), root];
    let text: string | undefined;
    for (const base of bases) {
      try {
        text = await Deno.readTextFile(`${base}/${m.notebook}`);
        break;
      } catch { /* try the next base */ }
    }
    if (text === undefined) fail(`notebook ${m.notebook} not found under ${bases.join(" or ")}`);
    checkNotebook(m.notebook!, text!);
  });
}

/**
 * Throws unless `text` is an nbformat-4 notebook for the Deno kernel whose
 * cells all have a type and a source.
 *
 * @example
 * ```ts
 * import { checkNotebook } from "@mercury/core/testing";
 * import assert from "node:assert/strict";
 *
 * const nb = {
 *   nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: "deno", language: "typescript", display_name: "Deno" } },
 *   cells: [{ cell_type: "code", metadata: {}, source: ["1 + 1"], outputs: [], execution_count: null }],
 * };
 * checkNotebook("x.ipynb", JSON.stringify(nb));
 * assert.throws(() => checkNotebook("x.ipynb", "{"), /not JSON/);
 * ```
 */
export function checkNotebook(path: string, text: string): void {
  let nb: Record<string, unknown>;
  try {
    nb = JSON.parse(text);
  } catch (err) {
    fail(`${path} is not JSON: ${(err as Error).message}`);
  }
  if (nb.nbformat !== 4) fail(`${path}: nbformat is ${nb.nbformat}, not 4`);
  const kernel = (nb.metadata as { kernelspec?: { name?: string } } | undefined)?.kernelspec;
  if (kernel?.name !== "deno") fail(`${path}: kernelspec.name is ${kernel?.name}, not "deno"`);
  const cells = nb.cells;
  if (!Array.isArray(cells) || cells.length === 0) fail(`${path} has no cells`);
  (cells as Record<string, unknown>[]).forEach((cell, i) => {
    if (!["code", "markdown", "raw"].includes(String(cell.cell_type))) fail(`${path}: cell ${i + 1} has no cell_type`);
    if (!Array.isArray(cell.source) && typeof cell.source !== "string") fail(`${path}: cell ${i + 1} has no source`);
  });
}

/** Arguments that give each typed option of `spec` a value it must refuse. */
function badValues(spec: CommandSpec): string[][] {
  const out: string[][] = [];
  for (const [name, o] of Object.entries(spec.options ?? {}) as [string, OptionSpec][]) {
    const bad = o.type === "int" || o.type === "number"
      ? "not-a-number"
      : o.type === "duration"
      ? "soon"
      : o.type === "enum" || (o.type === "list" && o.choices)
      ? "no-such-choice"
      : undefined;
    if (bad !== undefined) out.push([`--${name}`, bad]);
  }
  return out;
}

/**
 * Every module `entry` loads before any dynamic `import()` runs, from `deno info --json`: static edges only, npm
 * packages kept as leaves (`npm:…` specifiers, not followed). The check behind "the manifest module is light", for
 * tests that assert more of a plugin's graph than the conformance suite does.
 *
 * @example
 * ```ts
 * import { staticImportGraph } from "@mercury/core/testing";
 * import assert from "node:assert/strict";
 *
 * const graph = await staticImportGraph(new URL("./plugin.ts", import.meta.resolve("@mercury/core")).href, ".");
 * assert.ok(graph.some((s) => s.endsWith("/errors.ts")));
 * assert.deepEqual(graph.filter((s) => s.startsWith("npm:")), []);
 * ```
 */
export async function staticImportGraph(entry: string, cwd: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", entry], cwd, stderr: "piped" })
    .output();
  if (!out.success) fail(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[] }[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(graph.modules.map((mod) => [mod.specifier, mod]));
  const seen = new Set<string>();
  const found: string[] = [];
  const stack = [...graph.roots];
  while (stack.length) {
    const s = stack.pop()!;
    const target = graph.redirects[s] ?? s;
    if (seen.has(target)) continue;
    seen.add(target);
    if (s.startsWith("npm:") || target.startsWith("npm:")) {
      found.push(s.startsWith("npm:") ? s : target);
      continue;
    }
    found.push(target);
    for (const dep of bySpecifier.get(target)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code) stack.push(dep.code.specifier);
    }
  }
  return found;
}

/** Specifiers of npm packages reached from `url` through static imports (dynamic `import()` is not followed). */
async function staticNpmImports(url: string, cwd: string): Promise<string[]> {
  const npm = (await staticImportGraph(url, cwd)).filter((s) => s.startsWith("npm:"));
  return [...new Set(npm.map((s) => s.replace(/^npm:\/?/, "")))].sort();
}

/** The plugin's TypeScript sources, without tests, test data and dependencies. */
async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.name.startsWith(".") || ["node_modules", "tests", "testdata"].includes(entry.name)) continue;
    if (entry.isDirectory) yield* sources(path);
    else if (/\.tsx?$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) yield path;
  }
}

function fail(message: string): never {
  throw new Error(message);
}
