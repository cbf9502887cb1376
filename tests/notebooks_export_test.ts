import assert from "node:assert/strict";
import { exportNotebook } from "../tasks/notebooks/export.ts";
import { ROOT, runScript } from "./_helpers.ts";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
}
const str = (v: unknown): string => (Array.isArray(v) ? v.join("") : v === undefined ? "" : String(v));

Deno.test("exportNotebook(): markdown as comments, cells in order, parameters as typed flags", () => {
  const ts = exportNotebook({
    cells: [
      { cell_type: "markdown", source: ["# Title\n", "\n", "Some *text*."] },
      {
        cell_type: "code",
        metadata: { tags: ["parameters"] },
        source: 'const rows = 1_000; // rows made\nconst name = "x";\nconst on = true;\nconst r = 0.5;',
      },
      { cell_type: "code", metadata: { tags: ["injected-parameters"] }, source: "const rows = 5;" },
      { cell_type: "code", source: "console.log(rows, name, on, r);" },
    ],
  }, "demo");
  assert.match(ts, /^\/\/ %% \[markdown\] cell 1\n\/\/ # Title\n\/\/\n\/\/ Some \*text\*\.$/m);
  assert.match(ts, /^const rows = __flags\.rows as number; \/\/ rows made$/m);
  assert.match(ts, /^const name = __flags\.name as string;$/m);
  assert.match(ts, /^const on = __flags\.on as boolean;$/m);
  assert.match(ts, /rows: \{ type: "int", default: 1000, description: "rows made" \}/);
  assert.match(ts, /r: \{ type: "number", default: 0\.5/);
  assert.doesNotMatch(ts, /const rows = 5;/, "an injected cell is not exported");
  assert.ok(ts.indexOf("console.log(rows") > ts.indexOf("__flags.rows"));
});

Deno.test({
  name:
    "nb:export: the exported tour runs with deno run, takes its parameter as a flag, and prints the notebook's tables",
  async fn(t) {
    // Inside the project, so Deno finds the workspace's import map from the script's folder.
    const dir = `${ROOT}/.mercury/tmp/nb-export-${crypto.randomUUID().slice(0, 8)}`;
    const reports = Deno.makeTempDirSync({ prefix: "mercury-reports-" });
    try {
      const exported = await runScript("tasks/nb_export.ts", ["tour", "--out", `${dir}/tour.ts`]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, /notebooks\/00-tour\.ipynb → .*tour\.ts/);

      await t.step("a bad flag: exit 64 naming it", async () => {
        const r = await runScript(`${dir.slice(ROOT.length + 1)}/tour.ts`, ["--eventCount", "many"]);
        assert.equal(r.code, 64);
        assert.match(r.stderr, /--eventCount must be an integer, got 'many'/);
      });

      const [script, notebook] = await Promise.all([
        runScript(`${dir.slice(ROOT.length + 1)}/tour.ts`, ["--eventCount", "300"]),
        runScript("tasks/nb.ts", ["tour", "-p", "eventCount=300", "--reports-dir", reports]),
      ]);
      assert.equal(script.code, 0, script.stderr);
      assert.equal(notebook.code, 0, notebook.stderr);

      await t.step("its tables equal the notebook's", () => {
        const nb = JSON.parse(Deno.readTextFileSync(`${reports}/00-tour.ipynb`));
        const tables = (nb.cells as { outputs?: Output[] }[]).flatMap((c) => c.outputs ?? [])
          .filter((o) => str(o.data?.["text/html"]).includes("mercury-table"))
          .map((o) => str(o.data?.["text/plain"]));
        // Leave out what differs between any two runs: the run's id and measured latencies.
        const stable = tables.filter((text) => !/tour_[a-z0-9]+/.test(text) && !/latency/.test(text));
        assert.ok(stable.length >= 4, `only ${stable.length} comparable tables`);
        assert.ok(stable.some((s) => s.startsWith("Spend per user")), "the PostgreSQL table is compared");
        for (const table of stable) assert.ok(script.stdout.includes(table), `not in the script's output:\n${table}`);
        // The parameter reached both: 300 events.
        assert.match(script.stdout, /^300 events read back from mercury_tour_/m);
        assert.match(script.stdout, /Cleaned up run `tour_[a-z0-9]+`: 1 topic, 1 consumer group, 300 rows/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
