/**
 * Builds the web UI's scripts into `ui/dist/` with `deno bundle` (esbuild inside Deno): `app.js` (the page, with
 * CodeMirror) and `chart.js` (vega and vega-lite, loaded the first time a chart is drawn). The output is
 * committed, so the UI needs no network and no build step when it is served; `tests/olap/ui_bundle_test.ts`
 * fails when the committed files are not what the sources build to.
 *
 * `deno task olap:ui-build [--fmt]` checks `src/browser/` (formatting it first with `--fmt`) and writes them;
 * `buildUi(dir)` writes them elsewhere (the test).
 *
 * @module
 */

const UI = new URL(".", import.meta.url).pathname;

/** The bundles: output name → entry. */
export const BUNDLES: Record<string, string> = { "app.js": "src/browser/main.ts", "chart.js": "src/browser/chart.ts" };

/** Builds every bundle into `outDir` (default `ui/dist`); throws with deno bundle's output when one fails. */
export async function buildUi(outDir = `${UI}dist`): Promise<string[]> {
  await Deno.mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [name, entry] of Object.entries(BUNDLES)) {
    const tmp = `${outDir}/.${name}.tmp-${Deno.pid}`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "--minify", "-o", tmp, `${UI}${entry}`],
      cwd: UI,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      await Deno.remove(tmp).catch(() => {});
      throw new Error(`olap UI: bundling ${entry} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    await Deno.rename(tmp, `${outDir}/${name}`);
    written.push(`${outDir}/${name}`);
  }
  return written;
}

/**
 * The page's own sources (`src/browser/`) use the DOM's types, which must not enter the workspace's one type-check
 * program (the DOM's `BufferSource` streams clash with Deno's: a `TextDecoderStream` pipe elsewhere stops
 * type-checking). So the root `deno.json` excludes that folder and this function checks it in a program of its own:
 * a config made from the root's (same imports and compiler options, plus the DOM libs) runs `deno check`,
 * `deno lint` and `deno fmt --check` over it. Throws with their output when one fails.
 */
export async function checkBrowserSources(options: { format?: boolean } = {}): Promise<void> {
  const root = new URL("../../../", import.meta.url);
  const rootConfig = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const dir = new URL(".mercury/olap-ui-check/", root).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const config = {
    compilerOptions: { ...rootConfig.compilerOptions, lib: ["deno.ns", "dom", "dom.iterable", "esnext"] },
    imports: { ...rootConfig.imports, "@mercury/core/sql": new URL("lib/sql.ts", root).href },
    nodeModulesDir: "none",
    fmt: { lineWidth: rootConfig.fmt?.lineWidth },
    lint: { rules: rootConfig.lint?.rules },
  };
  await Deno.writeTextFile(`${dir}deno.json`, JSON.stringify(config, null, 2));
  const src = `${UI}src/browser/`;
  const fmt = options.format ? ["fmt", src] : ["fmt", "--check", src];
  for (const args of [fmt, ["check", "--no-lock", src], ["lint", src]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [args[0]!, "--config", `${dir}deno.json`, ...args.slice(1)],
      cwd: UI,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      throw new Error(`olap UI: deno ${args[0]} of src/browser failed:\n${text.trim()}`);
    }
  }
}

if (import.meta.main) {
  // `--fmt` formats src/browser/ first (the workspace's `deno fmt` leaves that folder out).
  await checkBrowserSources({ format: Deno.args.includes("--fmt") });
  const out = Deno.args.find((a) => !a.startsWith("--"));
  for (const f of await buildUi(out)) console.log(`wrote ${f} (${(await Deno.stat(f)).size} bytes)`);
}
