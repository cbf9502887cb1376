/**
 * Builds the web UI's scripts into `ui/dist/` with `deno bundle` (esbuild inside Deno): `app.js` (the page, with
 * CodeMirror) and `chart.js` (vega and vega-lite, loaded the first time a chart is drawn). The output is
 * committed, so the UI needs no network and no build step when it is served; `tests/olap/ui_bundle_test.ts`
 * fails when the committed files are not what the sources build to.
 *
 * `deno task olap:ui-build` writes them; `buildUi(dir)` writes them elsewhere (the test).
 *
 * @module
 */

const UI = new URL(".", import.meta.url).pathname;

/** The bundles: output name → entry. */
export const BUNDLES: Record<string, string> = { "app.js": "src/main.ts", "chart.js": "src/chart.ts" };

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

if (import.meta.main) {
  for (const f of await buildUi(Deno.args[0])) console.log(`wrote ${f} (${(await Deno.stat(f)).size} bytes)`);
}
