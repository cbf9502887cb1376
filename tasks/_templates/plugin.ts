/**
 * Templates of `deno task mercury new <name>`: the files of a new plugin
 * package that follows the plugin contract (light manifest, lazily loaded
 * command, notebook, conformance test, bench stub, README).
 *
 * @module
 */

/** Files of a new plugin, keyed by path relative to the project root. */
export function pluginFiles(name: string, nn: string): Record<string, string> {
  const dir = `plugins/${name}`;
  const notebook = `notebooks/${nn}-${name}.ipynb`;
  return {
    [`${dir}/deno.json`]: JSON.stringify(
      { name: `@mercury/${name}`, version: "0.1.0", exports: { ".": "./mod.ts", "./manifest": "./manifest.ts" } },
      null,
      2,
    ) + "\n",
    [`${dir}/manifest.ts`]: `/**
 * The ${name} plugin's manifest: commands, options and help only. Each
 * command loads its implementation from \`./commands/\` on first run.
 *
 * @example
 * \`\`\`ts
 * import { manifest } from "@mercury/${name}/manifest";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "${name}");
 * \`\`\`
 *
 * @module
 */
import { definePlugin, lazyRun } from "@mercury/core/plugin";

/** What \`deno task mercury\` knows about the ${name} plugin. */
export const manifest = definePlugin({
  name: "${name}",
  title: "${name}",
  version: "0.1.0",
  description: "TODO: what ${name} does",
  services: [],
  notebook: "${notebook}",
  commands: {
    hello: {
      summary: "print a greeting",
      usage: "[who]",
      options: { times: { type: "int", min: 1, max: 100, default: 1, description: "how many times" } },
      run: lazyRun(() => import("./commands/hello.ts"), "hello"),
    },
  },
});
`,
    [`${dir}/commands/hello.ts`]: `/**
 * The \`hello\` command, loaded only when it runs.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";

/**
 * Prints a greeting \`--times\` times.
 *
 * @example
 * \`\`\`ts
 * import { hello } from "./hello.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: (l: string) => lines.push(l) };
 * hello({ values: { times: 2 }, positionals: ["you"] }, ctx);
 * assert.deepEqual(lines, ["hello, you", "hello, you"]);
 * \`\`\`
 */
export function hello(args: CommandArgs, ctx: CommandContext): void {
  const who = args.positionals[0] ?? "world";
  for (let i = 0; i < Number(args.values.times ?? 1); i++) ctx.print(\`hello, \${who}\`);
}
`,
    [`${dir}/mod.ts`]: `/**
 * \`@mercury/${name}\`: the plugin's public API and its manifest.
 *
 * @example
 * \`\`\`ts
 * import { hello, manifest } from "@mercury/${name}";
 * import assert from "node:assert/strict";
 *
 * assert.equal(manifest.name, "${name}");
 * assert.equal(typeof hello, "function");
 * \`\`\`
 *
 * @module
 */
export { manifest } from "./manifest.ts";
export { hello } from "./commands/hello.ts";
`,
    [`${dir}/README.md`]: `# @mercury/${name}

TODO: what it does and for whom.

## CLI

\`\`\`
deno task mercury ${name} hello [who] [--times N]
\`\`\`

## Design

\`manifest.ts\` holds the commands' help and typed options and imports only \`@mercury/core/plugin\`; each command's
implementation under \`commands/\` loads on first run (\`lazyRun\`), so discovery and \`--help\` stay fast.

## Tests and benchmark

\`tests/${name}/\` runs core's conformance suite (\`pluginConformance\`); \`bench/${name}_bench.ts\` is the benchmark.
`,
    [notebook]: JSON.stringify(
      {
        cells: [
          { cell_type: "markdown", metadata: {}, source: [`# ${name}\n`, "\n", "TODO: a walk through the plugin."] },
          {
            cell_type: "code",
            execution_count: null,
            metadata: {},
            outputs: [],
            source: [`import { manifest } from "@mercury/${name}";\n`, "manifest.commands"],
          },
        ],
        metadata: {
          kernelspec: { display_name: "Deno", language: "typescript", name: "deno" },
          language_info: { file_extension: ".ts", mimetype: "text/x.typescript", name: "typescript" },
        },
        nbformat: 4,
        nbformat_minor: 5,
      },
      null,
      1,
    ) + "\n",
    [`tests/${name}/conformance_test.ts`]: `import assert from "node:assert/strict";
import { dispatch, resolveEndpoints } from "@mercury/core";
import { pluginConformance } from "@mercury/core/testing";
import { manifest } from "@mercury/${name}/manifest";

const root = new URL("../../${dir}", import.meta.url).pathname;

Deno.test("${name} follows the plugin contract", async (t) => {
  await pluginConformance(t, { module: new URL("../../${dir}/manifest.ts", import.meta.url).href, root });
});

Deno.test("${name} hello greets --times times", async () => {
  const lines: string[] = [];
  const context = { root, verbose: false, endpoints: () => resolveEndpoints(), print: (l: string) => lines.push(l) };
  const plugins = [{ manifest, packageName: "@mercury/${name}", module: "manifest.ts" }];
  assert.equal(await dispatch(["${name}", "hello", "you", "--times", "2"], { plugins, context }), 0);
  assert.deepEqual(lines, ["hello, you", "hello, you"]);
});
`,
    [`bench/${name}_bench.ts`]: `/**
 * Benchmark stub of the ${name} plugin: replace with a run against the named peer.
 *
 * @module
 */
import { hello } from "@mercury/${name}";

const ctx = { root: ".", verbose: false, endpoints: () => ({}) as never, print: () => {} };

Deno.bench("${name} hello", () => {
  hello({ values: { times: 1 }, positionals: [] }, ctx);
});
`,
  };
}
