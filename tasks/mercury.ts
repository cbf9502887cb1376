/**
 * `deno task mercury …`: lists the workspace's plugins and dispatches to their
 * commands; `deno task mercury new <name> [--dir DIR]` scaffolds a plugin.
 * Before dispatch it loads only core's light modules and the plugins'
 * manifests (commands load their implementation when they run).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { discoverPlugins, dispatch, main, MercuryError, projectRoot, resolveEndpoints } from "@mercury/core";
import { pluginFiles } from "./_templates/plugin.ts";

const NAME_RE = /^[a-z][a-z0-9-]*$/;
const RESERVED = new Set(["plugins", "new", "help", "core", "lib"]);
const USAGE = "deno task mercury new <name> [--dir DIR]";

/** Writes a new plugin package into the project at `dir` and adds it to the workspace; returns the paths written. */
export async function newPlugin(argv: string[], dir: string): Promise<string[]> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { dir: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new MercuryError("usage", (err as Error).message, { where: "mercury new", hint: USAGE });
  }
  const root = parsed.values.dir ?? dir;
  const [name, ...more] = parsed.positionals;
  if (!name || more.length) {
    throw new MercuryError("usage", "new takes one plugin name", { where: "mercury new", hint: USAGE });
  }
  if (!NAME_RE.test(name) || RESERVED.has(name)) {
    throw new MercuryError("usage", `bad plugin name "${name}"`, {
      where: "mercury new",
      hint: "lower-case letters, digits and dashes, starting with a letter; not plugins, new, help, core or lib",
    });
  }
  const configPath = `${root}/deno.json`;
  let config: { workspace?: string[] };
  try {
    config = JSON.parse(await Deno.readTextFile(configPath));
  } catch (err) {
    throw new MercuryError("not_found", `cannot read the workspace ${configPath}: ${(err as Error).message}`, {
      where: "mercury new",
      hint: "run it in the Mercury project or give --dir",
    });
  }
  const member = `./plugins/${name}`;
  const exists = await Deno.stat(`${root}/plugins/${name}`).then(() => true, () => false);
  if (exists || (config.workspace ?? []).includes(member)) {
    throw new MercuryError("usage", `plugin "${name}" exists already`, {
      where: `${root}/plugins/${name}`,
      hint: "choose another name",
    });
  }
  const numbers = [...(await Array.fromAsync(Deno.readDir(`${root}/notebooks`)).catch(() => []))]
    .map((e) => Number(/^(\d\d)-/.exec(e.name)?.[1] ?? -1));
  const nn = String(Math.max(0, ...numbers) + 1).padStart(2, "0");
  const files = pluginFiles(name, nn);
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.replace(/\/[^/]+$/, "")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text, { createNew: true });
  }
  config.workspace = [...(config.workspace ?? []), member];
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2) + "\n");
  const ts = Object.keys(files).filter((p) => p.endsWith(".ts") || p.endsWith(".md") || p.endsWith(".json"));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", ...ts, "deno.json"], cwd: root }).output();
  return Object.keys(files);
}

if (import.meta.main) {
  await main(async (argv) => {
    const root = projectRoot();
    if (argv[0] === "new") {
      for (const path of await newPlugin(argv.slice(1), root)) console.log(`created ${path}`);
      return 0;
    }
    const plugins = await discoverPlugins({ root });
    return await dispatch(argv, {
      plugins,
      context: {
        root,
        verbose: argv.includes("--verbose"),
        endpoints: () => resolveEndpoints(),
        print: (line) => console.log(line),
      },
    });
  });
}
