/**
 * The web UI's committed bundles (`plugins/olap/ui/dist/`) are what the sources build to, and the server serves
 * them (and the page) with the right types: a change to `ui/src/` without `deno task olap:ui-build` fails here. The
 * page's DOM code (`ui/src/browser/`, outside the workspace's type-check program) is checked, linted and
 * format-checked here.
 */
import assert from "node:assert/strict";
import { serve } from "@mercury/olap";
import { buildUi, BUNDLES, checkBrowserSources } from "../../plugins/olap/ui/build.ts";
import { ROOT } from "../_helpers.ts";
import { salesEngine, tempDir } from "./_fixtures.ts";

const DIST = `${ROOT}/plugins/olap/ui/dist`;

Deno.test("olap UI sources: the page's DOM code type-checks, lints and is formatted (in a program of its own)", async () => {
  await checkBrowserSources();
});

Deno.test("olap UI bundles: the committed dist/ is what ui/src builds to", async () => {
  const [dir, rm] = await tempDir();
  try {
    const built = await buildUi(dir);
    assert.deepEqual(built.map((f) => f.slice(dir.length + 1)).sort(), Object.keys(BUNDLES).sort());
    for (const name of Object.keys(BUNDLES)) {
      const fresh = await Deno.readFile(`${dir}/${name}`);
      const committed = await Deno.readFile(`${DIST}/${name}`);
      assert.ok(fresh.byteLength > 100_000, `${name} is ${fresh.byteLength} bytes`);
      assert.ok(
        fresh.byteLength === committed.byteLength && fresh.every((b, i) => b === committed[i]),
        `ui/dist/${name} is stale: run deno task olap:ui-build and commit it`,
      );
    }
  } finally {
    await rm();
  }
});

Deno.test("olap UI bundles: the page and both scripts are served with their types, no script from elsewhere", async () => {
  await using env = await salesEngine();
  const server = serve(env.olap, { port: 0 });
  try {
    const page = await fetch(server.url);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await page.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, ["/ui/app.js"]);
    assert.doesNotMatch(html, /https?:\/\/(?!vega\.github\.io)/);
    for (const name of Object.keys(BUNDLES)) {
      const res = await fetch(`${server.url}ui/${name}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
      const body = new Uint8Array(await res.arrayBuffer());
      assert.equal(body.byteLength, (await Deno.stat(`${DIST}/${name}`)).size);
    }
    const missing = await fetch(`${server.url}ui/nope.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await server.shutdown();
  }
});
