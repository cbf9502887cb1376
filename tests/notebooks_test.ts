import assert from "node:assert/strict";
import { integration, ROOT, runScript } from "./_helpers.ts";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
  ename?: string;
}
interface Notebook {
  cells: { cell_type: string; outputs?: Output[]; execution_count?: number | null }[];
}

const read = (path: string): Notebook => JSON.parse(Deno.readTextFileSync(path));
/** nbformat stores multi-line strings as arrays of lines. */
const str = (v: unknown): string => (Array.isArray(v) ? v.join("") : v === undefined ? "" : String(v));
const notebooks = [...Deno.readDirSync(`${ROOT}/notebooks`)].filter((e) => e.name.endsWith(".ipynb")).map((e) =>
  e.name.replace(/\.ipynb$/, "")
).sort();

Deno.test({
  name: "every notebook runs top to bottom in Jupyter with the Deno kernel, without errors",
  ...integration,
  async fn(t) {
    const reports = Deno.makeTempDirSync({ prefix: "mercury-reports-" });
    const r = await runScript("tasks/nb.ts", ["--reports-dir", reports]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const index = JSON.parse(Deno.readTextFileSync(`${reports}/index.json`)) as { notebook: string; status: string }[];
    assert.deepEqual(index.map((x) => x.notebook), notebooks);
    assert.ok(index.every((x) => x.status === "ok"));
    assert.match(Deno.readTextFileSync(`${reports}/index.html`), /00-tour<\/a>.*passed/s);

    for (const name of notebooks) {
      await t.step(`${name}: executed, no error outputs, report written`, () => {
        const nb = read(`${reports}/${name}.ipynb`);
        const code = nb.cells.filter((c) => c.cell_type === "code");
        assert.ok(code.every((c) => typeof c.execution_count === "number"), "a cell did not run");
        const errors = code.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error");
        assert.deepEqual(errors, []);
        const html = Deno.readTextFileSync(`${reports}/${name}.html`);
        assert.ok(html.length > 10_000);
        assert.doesNotMatch(html, /<script[^>]*src="https?:/i, "the report loads a script from the network");
      });
    }

    await t.step("the tour shows tables and an SVG chart from every service", () => {
      const outputs = read(`${reports}/00-tour.ipynb`).cells.flatMap((c) => c.outputs ?? []);
      const tables = outputs.filter((o) => str(o.data?.["text/html"]).includes("mercury-table"));
      assert.ok(tables.length >= 5, `only ${tables.length} tables`);
      const text = outputs.map((o) => str(o.data?.["text/plain"])).join("\n");
      for (const service of ["kafka", "postgres", "redis", "duckdb"]) {
        assert.match(text, new RegExp(`^${service}\\s`, "m"));
      }
      assert.match(text, /3000 events read back/);
      assert.match(text, /^\s*414\s+\d+/m, "DuckDB did not count the 414 M4 series");
      const svg = outputs.map((o) => str(o.data?.["image/svg+xml"])).find((s) => s.startsWith("<svg"));
      assert.ok(svg, "no SVG chart");
      assert.match(svg, /mark-line role-mark/);
      // One line per series (H1, H2), each a path with many points.
      assert.equal(svg.match(/aria-roledescription="line mark"/g)?.length, 2);
      assert.match(svg, /series: H1/);
      assert.match(svg, /series: H2/);
    });
  },
});

Deno.test({
  name: "bad notebooks: each failure names notebook and cell, the others still get reports",
  ...integration,
  async fn() {
    const reports = Deno.makeTempDirSync({ prefix: "mercury-reports-" });
    const r = await runScript("tasks/nb.ts", [
      "--notebooks-dir",
      `${ROOT}/tests/testdata/bad_notebooks`,
      "--reports-dir",
      reports,
      "--timeout",
      "5",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout,
      /^1-syntax\s+error.*cell 3: SyntaxError: Expression expected \(line 1, column 11 of the cell\)/m,
    );
    assert.match(r.stdout, /^2-missing-import\s+error.*cell 3: TypeError: .*@mercury\/does-not-exist/m);
    assert.match(r.stdout, /^3-hang\s+error.*cell 3: cell timed out after 5s/m);
    assert.match(r.stdout, /^4-good\s+ok/m);
    assert.match(r.stderr, /^error\[input\]: 3 of 4 notebooks failed; first: 1-syntax, cell 3/m);
    for (const name of ["1-syntax", "2-missing-import", "3-hang", "4-good"]) {
      assert.ok(Deno.statSync(`${reports}/${name}.html`).size > 0, `${name}.html missing`);
    }
    const good = read(`${reports}/4-good.ipynb`).cells[2]!.outputs!;
    assert.match(good.map((o) => str(o.data?.["text/plain"]) + str(o.text)).join(""), /answer: 42/);
    // The report of a failed cell says why, even when the kernel sent no error output.
    const syntax = read(`${reports}/1-syntax.ipynb`).cells[2]!.outputs!;
    assert.equal(syntax.at(-1)?.ename, "SyntaxError");
    const index = Deno.readTextFileSync(`${reports}/index.html`);
    assert.equal((index.match(/>failed</g) ?? []).length, 3);
  },
});

Deno.test({
  name: "runners started at once each get a kernel (the Deno kernel's ports do not collide)",
  ...integration,
  async fn() {
    // jupyter_client hands concurrent runners the same just-freed ports; without the start lock and
    // retry in execute.py about half of these kernels died with AddrInUse before kernel_info.
    const runs = await Promise.all([1, 2, 3, 4, 5].map(() => {
      const reports = Deno.makeTempDirSync({ prefix: "mercury-reports-" });
      return runScript("tasks/nb.ts", [
        "4-good",
        "--notebooks-dir",
        `${ROOT}/tests/testdata/bad_notebooks`,
        "--reports-dir",
        reports,
      ]).finally(() => Deno.removeSync(reports, { recursive: true }));
    }));
    for (const r of runs) {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^4-good\s+ok/m);
    }
  },
});

Deno.test({
  name: "a missing kernel or an unknown notebook is a clear error",
  ...integration,
  async fn(t) {
    await t.step("unknown kernel: says what to install", async () => {
      const reports = Deno.makeTempDirSync();
      const r = await runScript("tasks/nb.ts", ["tour", "--kernel", "no-such-kernel", "--reports-dir", reports]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /first: 00-tour: kernel did not start: NoSuchKernel.*deno jupyter --install/);
    });
    await t.step("unknown notebook name: lists the notebooks", async () => {
      const r = await runScript("tasks/nb.ts", ["nope"]);
      assert.equal(r.code, 64);
      assert.match(r.stderr, /no notebook named "nope".*00-tour/);
    });
  },
});

Deno.test("notebooks are committed without outputs (deno task nb:strip --check)", async () => {
  const r = await runScript("tasks/nb_strip.ts", ["--check"]);
  assert.equal(r.code, 0, r.stderr);
  for (const name of notebooks) {
    const nb = read(`${ROOT}/notebooks/${name}.ipynb`);
    assert.ok(nb.cells.every((c) => (c.outputs ?? []).length === 0 && (c.execution_count ?? null) === null), name);
  }
});

Deno.test("nb:strip removes outputs and refuses a broken notebook", async () => {
  const { strip } = await import("../tasks/nb_strip.ts");
  const dirty = JSON.stringify({
    cells: [{ cell_type: "code", execution_count: 3, outputs: [{ output_type: "stream", text: "x" }], metadata: {} }],
    metadata: { mercury: { run: {} }, kernelspec: { name: "deno" } },
  });
  const clean = JSON.parse(strip(dirty, "x.ipynb"));
  assert.deepEqual(clean.cells[0].outputs, []);
  assert.equal(clean.cells[0].execution_count, null);
  assert.equal(clean.metadata.mercury, undefined);
  assert.equal(clean.metadata.kernelspec.name, "deno");
  assert.throws(() => strip("{", "broken.ipynb"), /broken\.ipynb is not valid JSON/);
});
