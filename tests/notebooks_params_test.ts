import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import {
  coerceParameter,
  effectiveParameters,
  injectParameters,
  type NotebookJson,
  parsePairs,
  parseParameters,
} from "../tasks/notebooks/parameters.ts";
import { compareNotebooks, readChart, readTable, sameText } from "../tasks/notebooks/compare.ts";
import { seedsOf } from "../tasks/notebooks/provenance.ts";
import { readParamsFile } from "../tasks/nb.ts";
import { integration, ROOT, runScript } from "./_helpers.ts";

const notebook = (): NotebookJson => ({
  cells: [
    { cell_type: "markdown", source: "# t", metadata: {} },
    {
      cell_type: "code",
      metadata: { tags: ["parameters"] },
      source: [
        "// sizes\n",
        "const events = 60_000; // events sent\n",
        "const share = 0.5;\n",
        'const label = "demo";\n',
        "let verbose = false;\n",
        "const derived = events * 2;\n",
      ],
    },
    { cell_type: "code", metadata: {}, source: "console.log(events);" },
  ],
  metadata: { kernelspec: { name: "deno" } },
});

const usage = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof MercuryError, String(err));
  assert.equal(err.code, "usage");
  assert.match(`${err.message} ${err.hint ?? ""}`, re);
  return true;
};

Deno.test("parseParameters() reads literal declarations and types them from the defaults", () => {
  const ps = parseParameters((notebook().cells[1]!.source as string[]).join(""));
  assert.deepEqual(ps, [
    { name: "events", type: "integer", value: 60000 },
    { name: "share", type: "number", value: 0.5 },
    { name: "label", type: "string", value: "demo" },
    { name: "verbose", type: "boolean", value: false },
  ]);
  assert.deepEqual(parseParameters("const n: number = -3e2;\nconst s = 'it\\'s';"), [
    { name: "n", type: "integer", value: -300 },
    { name: "s", type: "string", value: "it's" },
  ]);
});

Deno.test("injectParameters() adds a typed cell after the parameters cell", async (t) => {
  await t.step("values typed from the defaults", () => {
    const nb = notebook();
    const out = injectParameters(nb, { events: "1_000_000", share: "0.25", label: "big run", verbose: "true" }, "t");
    assert.equal(out.cells.length, 4);
    const cell = out.cells[2]!;
    assert.deepEqual(cell.metadata, { tags: ["injected-parameters"] });
    assert.equal(
      cell.source,
      '// Parameters injected by `deno task nb`\nconst events = 1000000;\nconst share = 0.25;\nconst label = "big run";\nconst verbose = true;\n',
    );
    assert.equal(nb.cells.length, 3, "the input notebook is not changed");
  });
  await t.step("values from YAML keep their types; strings are quoted safely", () => {
    const out = injectParameters(notebook(), { events: 12, label: 'a"b`${x}' }, "t");
    assert.match(String(out.cells[2]!.source), /const events = 12;\nconst label = "a\\"b`\$\{x\}";/);
  });
  await t.step("a second injection replaces the first", () => {
    const once = injectParameters(notebook(), { events: 1 }, "t");
    const twice = injectParameters(once, { events: 2 }, "t");
    assert.equal(twice.cells.filter((c) => String(c.source).includes("injected")).length, 1);
    assert.match(String(twice.cells[2]!.source), /const events = 2;/);
  });
  await t.step("no values: the notebook unchanged", () => {
    const nb = notebook();
    assert.equal(injectParameters(nb, {}, "t"), nb);
  });
  await t.step("effective parameters: defaults overridden by the given ones", () => {
    assert.deepEqual(effectiveParameters(notebook(), { events: "5" }), {
      events: 5,
      share: 0.5,
      label: "demo",
      verbose: false,
    });
  });
});

Deno.test("injectParameters() rejects unknown names and values of the wrong type", async (t) => {
  await t.step("an unknown name lists the known ones", () => {
    assert.throws(
      () => injectParameters(notebook(), { evnets: "5" }, "notebooks/x.ipynb"),
      usage(/unknown parameter "evnets" for notebooks\/x\.ipynb.*known parameters: events=60000, share=0\.5/),
    );
  });
  await t.step("a derived value is not a parameter", () => {
    assert.throws(() => injectParameters(notebook(), { derived: "5" }, "t"), usage(/unknown parameter "derived"/));
  });
  for (
    const [name, value, expected] of [
      ["events", "1.5", /takes an integer, not "1.5"/],
      ["events", "lots", /takes an integer, not "lots"/],
      ["share", "half", /takes a number/],
      ["verbose", "yes", /takes true or false/],
      ["events", true, /takes an integer, not true/],
      ["label", { a: 1 }, /takes a string/],
    ] as const
  ) {
    await t.step(`${name}=${JSON.stringify(value)}`, () => {
      assert.throws(() => injectParameters(notebook(), { [name]: value }, "t"), usage(expected));
    });
  }
  await t.step("a notebook without a parameters cell", () => {
    const nb = notebook();
    nb.cells[1]!.metadata = {};
    assert.throws(() => injectParameters(nb, { events: "1" }, "t"), usage(/has no cell tagged "parameters"/));
  });
  await t.step("-p without =", () => {
    assert.throws(() => parsePairs(["events"]), usage(/-p takes name=value, not "events"/));
    assert.deepEqual(parsePairs(["a=1", "b=x=y"]), { a: "1", b: "x=y" });
  });
  await t.step("coerceParameter() names the default in its hint", () => {
    assert.throws(
      () => coerceParameter({ name: "n", type: "integer", value: 3 }, "x", "nb"),
      usage(/its default is 3/),
    );
  });
});

Deno.test("--params file: YAML read, bad files rejected with their name", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/p.yaml`, "events: 1000000\nlabel: big\n");
  assert.deepEqual(readParamsFile(`${dir}/p.yaml`), { events: 1000000, label: "big" });
  Deno.writeTextFileSync(`${dir}/list.yaml`, "- 1\n- 2\n");
  assert.throws(() => readParamsFile(`${dir}/list.yaml`), usage(/list\.yaml must map parameter names to values/));
  Deno.writeTextFileSync(`${dir}/bad.yaml`, "events: [1,\n");
  assert.throws(() => readParamsFile(`${dir}/bad.yaml`), usage(/bad\.yaml is not valid YAML/));
  assert.throws(() => readParamsFile(`${dir}/none.yaml`), usage(/cannot read the parameters file .*none\.yaml/));
});

Deno.test("seedsOf() finds seeds in code, resolving parameters", () => {
  assert.deepEqual(seedsOf("const r = seededRandom(42);\ngen({ seed: 7 });\ngen({ seed });", {}), [
    "seededRandom=42",
    "seed=7",
  ]);
  assert.deepEqual(seedsOf("seededRandom(seed)", { seed: 9 }), ["seededRandom=9"]);
});

Deno.test("every notebook with sizes has a parameters cell the runner can read", () => {
  for (const name of ["00-tour", "01-stream", "03-forecast", "05-olap", "06-features", "08-spark"]) {
    const nb = JSON.parse(Deno.readTextFileSync(`${ROOT}/notebooks/${name}.ipynb`)) as NotebookJson;
    const params = effectiveParameters(nb, {});
    assert.ok(Object.keys(params).length >= 2, `${name}: ${JSON.stringify(params)}`);
    assert.ok(
      Object.values(params).some((v) => Number.isInteger(v) && (v as number) > 1),
      `${name} has no size parameter`,
    );
  }
});

const out = (o: Record<string, unknown>) => ({ output_type: "display_data", metadata: {}, data: o });
const tableHtml = (v: number) =>
  `<div class="mercury-table"><table><caption>Totals</caption><thead><tr><th>user<br><span>string</span></th><th>total<br><span>number</span></th></tr></thead><tbody><tr><td>ada</td><td>${v}</td></tr><tr><td>ken</td><td>2</td></tr></tbody></table><div>2 rows × 2 columns</div></div>`;
const svg = (y: number) =>
  `<svg><g class="mark-line role-mark"><path aria-label="series: H1" aria-roledescription="line mark" d="M0,${y}L10,20"></path></g></svg>`;
const executed = (v: number, y: number, text: string, params: Record<string, unknown> = {}): NotebookJson => ({
  cells: [
    { cell_type: "code", source: "", metadata: {}, outputs: [out({ "text/html": tableHtml(v), "text/plain": "t" })] },
    { cell_type: "code", source: "", metadata: {}, outputs: [out({ "image/svg+xml": svg(y) })] },
    { cell_type: "code", source: "", metadata: {}, outputs: [{ output_type: "stream", name: "stdout", text }] },
  ],
  metadata: { mercury: { run: { parameters: params, git: { commit: "abc" } } } },
});

Deno.test("compareNotebooks() lists differing table cells, chart data and text, numbers within a tolerance", async (t) => {
  await t.step("the same run: no differences", () => {
    assert.deepEqual(
      compareNotebooks(executed(5, 30, "sent 3,000 in 1.5 s"), executed(5, 30, "sent 3,000 in 1.5 s")),
      [],
    );
  });
  await t.step("each kind of difference is named", () => {
    const d = compareNotebooks(executed(5, 30, "sent 3,000 in 1.5 s"), executed(6, 31, "sent 3,000 in 1.7 s"));
    assert.deepEqual(d.map((x) => x.where), [
      'cell 1 · table "Totals" row 1 column total',
      'cell 2 · chart "output 1" mark 1 (series: H1) geometry',
      "cell 3 · output 1 (stdout)",
    ]);
    assert.equal(d[0]!.a, "5");
    assert.equal(d[0]!.b, "6");
  });
  await t.step("a tolerance absorbs small numeric differences, never words", () => {
    assert.deepEqual(
      compareNotebooks(executed(100, 30, "sent 3,000 in 1.5 s"), executed(101, 30, "sent 3,000 in 1.52 s"), {
        tolerance: 0.02,
      }),
      [],
    );
    assert.equal(sameText("3 rows", "3 cols", 1), false);
    assert.equal(sameText("1,000", "1000"), true);
  });
  await t.step("parameters differ: counted; commit differs: context only", () => {
    const a = executed(5, 30, "x", { events: 3000 });
    const b = executed(5, 30, "x", { events: 6000 });
    (b.metadata!.mercury as { run: { git: { commit: string } } }).run.git.commit = "def";
    const d = compareNotebooks(a, b);
    assert.deepEqual(d.map((x) => [x.where, x.context ?? false]), [["parameter events", false], ["git commit", true]]);
  });
  await t.step("an injected-parameters cell does not shift the cells", () => {
    const b = executed(5, 30, "x");
    b.cells.unshift({ cell_type: "code", source: "", metadata: { tags: ["injected-parameters"] }, outputs: [] });
    assert.deepEqual(compareNotebooks(executed(5, 30, "x"), b), []);
  });
  await t.step("readTable() and readChart() read Mercury's outputs", () => {
    assert.deepEqual(readTable(tableHtml(5))?.rows, [["ada", "5"], ["ken", "2"]]);
    assert.deepEqual(readChart(svg(30)).marks, [{ label: "series: H1", geometry: [0, 30, 10, 20] }]);
  });
});

Deno.test({
  name: "deno task nb with -p: a real run of the tour with a parameter changes its output and is recorded",
  ...integration,
  async fn(t) {
    const reports = Deno.makeTempDirSync({ prefix: "mercury-reports-" });
    const other = Deno.makeTempDirSync({ prefix: "mercury-reports-" });
    await t.step("unknown parameter: exit 64 before anything runs, naming it and the known ones", async () => {
      const r = await runScript("tasks/nb.ts", ["tour", "-p", "evnts=5", "--reports-dir", reports]);
      assert.equal(r.code, 64);
      assert.match(r.stderr, /unknown parameter "evnts" for notebooks\/00-tour\.ipynb.*eventCount=3000, seed=42/);
      assert.deepEqual([...Deno.readDirSync(reports)], [], "nothing written");
    });
    await t.step("a bad value: exit 64", async () => {
      const r = await runScript("tasks/nb.ts", ["tour", "-p", "eventCount=many", "--reports-dir", reports]);
      assert.equal(r.code, 64);
      assert.match(r.stderr, /parameter "eventCount" of notebooks\/00-tour\.ipynb takes an integer, not "many"/);
    });

    const params = `${other}/p.yaml`;
    Deno.writeTextFileSync(params, "eventCount: 400\n");
    const [a, b] = await Promise.all([
      runScript("tasks/nb.ts", ["tour", "-p", "eventCount=250", "--reports-dir", reports]),
      runScript("tasks/nb.ts", ["tour", "--params", params, "--reports-dir", other]),
    ]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);

    await t.step("the output changed with the parameter", () => {
      const html = Deno.readTextFileSync(`${reports}/00-tour.html`);
      assert.match(html, /250 events read back/);
      assert.doesNotMatch(html, /3000 events read back/);
      assert.match(Deno.readTextFileSync(`${other}/00-tour.html`), /400 events read back/);
    });
    await t.step("the run is recorded in index.json, the executed notebook and the footer", () => {
      const [entry] = JSON.parse(Deno.readTextFileSync(`${reports}/index.json`));
      const run = entry.run;
      assert.deepEqual(run.parameters, { eventCount: 250, seed: 42 });
      assert.deepEqual(run.injected, ["eventCount"]);
      assert.match(run.git.commit, /^[0-9a-f]{40}$/);
      assert.equal(typeof run.git.dirty, "boolean");
      assert.equal(run.deno, Deno.version.deno);
      assert.match(run.lockSha256, /^[0-9a-f]{64}$/);
      assert.match(run.services.postgres.version, /^PostgreSQL \d+/);
      assert.match(run.services.redis.version, /^Redis \d/);
      assert.ok(run.services.kafka.mode);
      assert.deepEqual(run.seeds, ["seed=42", "seededRandom=42"]);
      assert.ok(Date.parse(run.ended) >= Date.parse(run.started));
      assert.ok(run.cellSeconds.length >= 9 && run.cellSeconds.every(([n, s]: [number, number]) => n > 0 && s >= 0));
      const nb = JSON.parse(Deno.readTextFileSync(`${reports}/00-tour.ipynb`));
      assert.deepEqual(nb.metadata.mercury.run.parameters, run.parameters);
      const footer = /<footer id="mercury-run"[\s\S]*?<\/footer>/.exec(
        Deno.readTextFileSync(`${reports}/00-tour.html`),
      );
      assert.ok(footer, "no footer");
      assert.match(footer[0], /eventCount=250 \(given\)/);
      assert.match(footer[0], new RegExp(run.git.commit.slice(0, 12)));
      assert.match(footer[0], /PostgreSQL \d+/);
    });
    await t.step("index.html shows the given parameters, the commit and the first chart", () => {
      const index = Deno.readTextFileSync(`${reports}/index.html`);
      assert.match(index, /<b>eventCount=250<\/b>, seed=42/);
      assert.match(index, /<img src="00-tour\.thumb\.svg"/);
      const thumb = Deno.readTextFileSync(`${reports}/00-tour.thumb.svg`);
      assert.match(thumb, /^<svg[\s\S]*series: H1/);
    });
    await t.step("--compare lists the differences of the two runs", async () => {
      const r = await runScript("tasks/nb.ts", ["--compare", `${reports}/00-tour.ipynb`, `${other}/00-tour.ipynb`]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /parameter eventCount: 250 {2}→ {2}400/);
      assert.match(r.stdout, /table "250 events read back from .*" /);
      const same = await runScript("tasks/nb.ts", [
        "--compare",
        `${reports}/00-tour.ipynb`,
        `${reports}/00-tour.ipynb`,
      ]);
      assert.equal(same.code, 0);
      assert.match(same.stdout, /no differences in outputs/);
      const missing = await runScript("tasks/nb.ts", ["--compare", `${reports}/nope.ipynb`, "x"]);
      assert.equal(missing.code, 64);
      assert.match(missing.stderr, /no executed notebook at .*nope\.ipynb/);
    });
  },
});
