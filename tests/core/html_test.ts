import assert from "node:assert/strict";
import { escapeHtml } from "@mercury/core/html";
import { escapeHtml as fromDisplay } from "@mercury/core/display";
import { ROOT } from "../_helpers.ts";

Deno.test("escapeHtml escapes the five characters, & first so nothing is escaped twice", () => {
  assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
  assert.equal(escapeHtml("&amp;"), "&amp;amp;");
  assert.equal(escapeHtml("plain text — ünïcode"), "plain text — ünïcode");
  assert.equal(
    escapeHtml(`<img src=x onerror="alert('x')">`),
    "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;",
  );
});

Deno.test("display re-exports the same escapeHtml", () => {
  assert.equal(fromDisplay, escapeHtml);
});

Deno.test("the light helper modules load no heavy dependency (vega, DuckDB, kafka, TensorFlow, gRPC)", async () => {
  for (const mod of ["html", "sql", "random", "retry", "signal", "options"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `${ROOT}/lib/${mod}.ts`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: { specifier: string }[] };
    const specs = info.modules.map((m) => m.specifier);
    assert.ok(specs.every((s) => s.startsWith("file://")), `${mod}: ${specs.filter((s) => !s.startsWith("file://"))}`);
    assert.ok(specs.length <= 4, `${mod} loads ${specs.length} modules: ${specs.join(", ")}`);
  }
});
