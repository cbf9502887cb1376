import assert from "node:assert/strict";
import {
  type CommandContext,
  definePlugin,
  discoverPlugins,
  dispatch,
  lazyRun,
  MercuryError,
  type PluginManifest,
  resolveEndpoints,
} from "@mercury/core";
import { ROOT } from "../_helpers.ts";

const CORE = new URL("../../lib/mod.ts", import.meta.url).href;

/** Writes a throwaway workspace with the given plugin sources. */
function workspace(plugins: Record<string, string>): string {
  const dir = Deno.makeTempDirSync({ prefix: "mercury-ws-" });
  const members = Object.keys(plugins).map((n) => `./plugins/${n}`);
  Deno.writeTextFileSync(`${dir}/deno.json`, JSON.stringify({ workspace: ["./lib", ...members] }));
  for (const [name, source] of Object.entries(plugins)) {
    Deno.mkdirSync(`${dir}/plugins/${name}`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/plugins/${name}/deno.json`,
      JSON.stringify({ name: `@test/${name}`, version: "1.0.0", exports: { ".": "./mod.ts" } }),
    );
    Deno.writeTextFileSync(`${dir}/plugins/${name}/mod.ts`, source.replaceAll("CORE", CORE));
  }
  return dir;
}

const pluginSource = (name: string) => `
import { definePlugin } from "CORE";
export const manifest = definePlugin({
  name: "${name}", title: "T ${name}", version: "0.2.0", description: "d", services: ["redis"],
  commands: {
    echo: {
      summary: "echoes",
      options: { times: { type: "string", description: "n", default: "1" }, loud: { type: "boolean", description: "l" } },
      run(args, ctx) {
        const word = String(args.positionals[0] ?? "");
        for (let i = 0; i < Number(args.values.times); i++) ctx.print(args.values.loud ? word.toUpperCase() : word);
        return 7;
      },
    },
  },
});`;

function context(lines: string[]): CommandContext {
  return {
    root: ROOT,
    verbose: false,
    endpoints: () => resolveEndpoints({ env: () => undefined, servicesFile: "/none" }),
    print: (l) => lines.push(l),
  };
}

Deno.test("discoverPlugins() finds the workspace's plugin packages", async (t) => {
  await t.step("the real workspace has @mercury/stream", async () => {
    const plugins = await discoverPlugins({ root: ROOT, extra: [] });
    const stream = plugins.find((p) => p.manifest.name === "stream");
    assert.ok(stream);
    assert.equal(stream.packageName, "@mercury/stream");
    assert.ok(stream.manifest.commands.topics);
  });
  await t.step("a temp workspace: sorted by name, non-plugin members skipped", async () => {
    const dir = workspace({ zeta: pluginSource("zeta"), alpha: pluginSource("alpha") });
    const plugins = await discoverPlugins({ root: dir, extra: [] });
    assert.deepEqual(plugins.map((p) => p.manifest.name), ["alpha", "zeta"]);
    assert.equal(plugins[0]!.packageName, "@test/alpha");
  });
  await t.step("a third-party plugin from MERCURY_PLUGINS-style extras", async () => {
    const other = workspace({ extra: pluginSource("extra") });
    const plugins = await discoverPlugins({ root: ROOT, extra: [`file://${other}/plugins/extra/mod.ts`] });
    assert.ok(plugins.some((p) => p.manifest.name === "extra"));
  });
  await t.step("a member without a manifest is a clear error", async () => {
    const dir = workspace({ empty: "export const x = 1;" });
    await assert.rejects(discoverPlugins({ root: dir, extra: [] }), /exports no manifest/);
  });
  await t.step("two plugins with one name conflict", async () => {
    const dir = workspace({ a: pluginSource("same"), b: pluginSource("same") });
    await assert.rejects(discoverPlugins({ root: dir, extra: [] }), /two plugins are named "same"/);
  });
  await t.step("a module that fails to load names the module", async () => {
    const dir = workspace({ broken: "import './missing.ts';" });
    await assert.rejects(discoverPlugins({ root: dir, extra: [] }), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.match(err.where ?? "", /plugins\/broken\/mod\.ts/);
      return true;
    });
  });
});

Deno.test("definePlugin() validates the manifest", () => {
  const ok: PluginManifest = {
    name: "p",
    title: "P",
    version: "1.0.0",
    description: "d",
    services: [],
    commands: {},
  };
  assert.equal(definePlugin(ok).name, "p");
  assert.throws(() => definePlugin({ ...ok, version: "one" }), /not semver/);
  assert.throws(() => definePlugin({ ...ok, services: ["mongo" as "redis"] }), /unknown service "mongo"/);
  assert.throws(() => definePlugin({ ...ok, title: "" }), /has no title/);
  assert.throws(
    () => definePlugin({ ...ok, commands: { Bad: { summary: "x", run: () => {} } } }),
    /command "Bad" is malformed/,
  );
});

Deno.test("dispatch() routes to commands, with --help on every level", async (t) => {
  const dir = workspace({ demo: pluginSource("demo") });
  const plugins = await discoverPlugins({ root: dir, extra: [] });

  await t.step("runs the command with parsed options and returns its exit code", async () => {
    const lines: string[] = [];
    const code = await dispatch(["demo", "echo", "hi", "--times", "2", "--loud"], { plugins, context: context(lines) });
    assert.equal(code, 7);
    assert.deepEqual(lines, ["HI", "HI"]);
  });
  await t.step("root help lists plugins", async () => {
    const lines: string[] = [];
    assert.equal(await dispatch(["--help"], { plugins, context: context(lines) }), 0);
    assert.match(lines.join("\n"), /demo\s+T demo/);
  });
  await t.step("plugin help lists commands and services", async () => {
    const lines: string[] = [];
    await dispatch(["demo", "--help"], { plugins, context: context(lines) });
    assert.match(lines.join("\n"), /echo\s+echoes/);
    assert.match(lines.join("\n"), /Services: redis/);
  });
  await t.step("command help lists options with defaults", async () => {
    const lines: string[] = [];
    await dispatch(["demo", "echo", "--help"], { plugins, context: context(lines) });
    assert.match(lines.join("\n"), /--times VALUE\s+n \(default: 1\)/);
  });
  await t.step("plugins lists a table", async () => {
    const lines: string[] = [];
    await dispatch(["plugins"], { plugins, context: context(lines) });
    assert.match(lines.join("\n"), /^demo\s+0\.2\.0\s+@test\/demo\s+redis\s+echo/m);
  });
  await t.step("unknown plugin: usage error with a suggestion", async () => {
    await assert.rejects(dispatch(["dem"], { plugins, context: context([]) }), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.equal(err.exitCode, 64);
      assert.match(err.message, /unknown plugin "dem"/);
      assert.match(err.hint ?? "", /did you mean "demo"/);
      return true;
    });
  });
  await t.step("unknown command: usage error listing commands", async () => {
    await assert.rejects(dispatch(["demo", "ecko"], { plugins, context: context([]) }), /no command "ecko"/);
  });
  await t.step("unknown option: usage error pointing at --help", async () => {
    await assert.rejects(dispatch(["demo", "echo", "--nope"], { plugins, context: context([]) }), (err) => {
      assert.ok(err instanceof MercuryError);
      assert.match(err.message, /--nope/);
      assert.match(err.hint ?? "", /demo echo --help/);
      return true;
    });
  });
});

Deno.test("discoverPlugins() imports a member's ./manifest export, not its heavy mod.ts", async () => {
  const dir = workspace({ light: pluginSource("light") });
  // mod.ts now throws when imported (a stand-in for a heavy module); manifest.ts carries the manifest.
  Deno.writeTextFileSync(`${dir}/plugins/light/manifest.ts`, pluginSource("light").replaceAll("CORE", CORE));
  Deno.writeTextFileSync(`${dir}/plugins/light/mod.ts`, `throw new Error("mod.ts must not load");`);
  Deno.writeTextFileSync(
    `${dir}/plugins/light/deno.json`,
    JSON.stringify({
      name: "@test/light",
      version: "1.0.0",
      exports: { ".": "./mod.ts", "./manifest": "./manifest.ts" },
    }),
  );
  const plugins = await discoverPlugins({ root: dir, extra: [] });
  assert.equal(plugins[0]!.manifest.name, "light");
  assert.match(plugins[0]!.module, /manifest\.ts$/);
});

Deno.test("lazyRun() loads the command module on first run only, and passes its exit code", async () => {
  let loads = 0;
  const run = lazyRun(() => {
    loads++;
    return Promise.resolve({ go: (_a: unknown, ctx: CommandContext) => (ctx.print("went"), 3) });
  }, "go");
  const lines: string[] = [];
  const manifest = definePlugin({
    name: "lazy",
    title: "L",
    version: "0.1.0",
    description: "d",
    services: [],
    commands: { go: { summary: "goes", run } },
  });
  const plugins = [{ manifest, packageName: "@test/lazy", module: "x" }];
  assert.equal(await dispatch(["lazy", "go", "--help"], { plugins, context: context(lines) }), 0);
  assert.equal(loads, 0, "--help loaded the implementation");
  assert.equal(await dispatch(["lazy", "go"], { plugins, context: context(lines) }), 3);
  assert.equal(loads, 1);
  assert.ok(lines.includes("went"));
  const missing = lazyRun(() => Promise.resolve({} as { nope: () => void }), "nope");
  await assert.rejects(
    async () => await missing({ values: {}, positionals: [] }, context([])),
    /exports no function "nope"/,
  );
});
