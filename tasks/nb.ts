/**
 * `deno task nb [name…]`: executes `notebooks/*.ipynb` headless through real
 * Jupyter (nbclient) with Deno's kernel — each in a fresh kernel, top to
 * bottom, with a per-cell timeout — and writes the executed notebook and an
 * HTML report per notebook into `reports/`, plus `reports/index.html`.
 * A failing cell fails the task, naming notebook, cell and error; the other
 * notebooks still run and their reports are still written.
 *
 * Parameters, papermill-style: `-p name=value` (repeatable) and `--params
 * file.yaml` give values for the names a notebook's `parameters` cell declares;
 * they are typed from the defaults and injected as a cell after it
 * (`tasks/notebooks/parameters.ts`). Every run is recorded — parameters, git
 * commit and dirty state, Deno, the lock hash, service versions and modes,
 * seeds, start/end and per-cell durations — in `index.json`, the executed
 * notebook's metadata and the report's footer. `--compare A B` lists what
 * differs between two executed notebooks (`tasks/notebooks/compare.ts`).
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot, stateDir } from "@mercury/core";
import type { CommandSpec } from "@mercury/core";
import { escapeHtml } from "@mercury/core/display";
import { parse as parseYaml } from "yaml";
import { ensureJupyter } from "./notebooks/jupyter.ts";
import { effectiveParameters, injectParameters, type NotebookJson, parsePairs } from "./notebooks/parameters.ts";
import { type Provenance, provenance, seedsOf } from "./notebooks/provenance.ts";
import { compareNotebooks, formatDifferences } from "./notebooks/compare.ts";
import { writePluginPages } from "./notebooks/site.ts";
import { writeAtomic } from "./services/_process.ts";

/** The outcome of one notebook. */
export interface NotebookResult {
  notebook: string;
  status: "ok" | "error";
  cells: number;
  seconds: number;
  kernelStart?: number;
  firstCell?: number;
  /** 1-based cell number (counting every cell, markdown too) that failed. */
  cell?: number | null;
  error?: string;
  html: string;
  ipynb: string;
  /** `<name>.thumb.svg`: the notebook's first chart, shown small in the index (absent when it has none). */
  thumbnail?: string;
  /** What produced the run and when (absent in indexes written before runs were recorded). */
  run?: RunRecord;
}

/** The record of one run, in `index.json` and the executed notebook's metadata. */
export interface RunRecord extends Provenance {
  parameters: Record<string, unknown>;
  /** Names given with -p / --params (the rest are defaults). */
  injected: string[];
  seeds: string[];
  started?: string;
  ended?: string;
  /** [1-based cell number, seconds] for each code cell that ran. */
  cellSeconds: [number, number][];
}

const spec: CommandSpec = {
  summary: "execute notebooks through Jupyter with the Deno kernel and write HTML reports to reports/",
  usage: "[name…] | --compare A.ipynb B.ipynb",
  description: "A name matches a notebook file with or without its number and extension: 00-tour, tour. " +
    "-p and --params set the values of a notebook's parameters cell (papermill-style); " +
    "--compare lists the differences between two executed notebooks.",
  options: {
    param: { type: "string", short: "p", multiple: true, value: "NAME=VALUE", description: "a parameter value" },
    params: { type: "string", value: "FILE", description: "parameter values from a YAML or JSON file" },
    compare: { type: "boolean", description: "compare two executed notebooks (paths or report names) instead" },
    tolerance: {
      type: "number",
      value: "REL",
      description: "with --compare: relative difference under which numbers count as equal",
      default: 1e-9,
    },
    timeout: { type: "int", min: 1, value: "SEC", description: "per-cell timeout in seconds", default: 300 },
    "reports-dir": { type: "string", value: "DIR", description: "where reports go", default: "reports" },
    "notebooks-dir": { type: "string", value: "DIR", description: "where notebooks are", default: "notebooks" },
    kernel: { type: "string", value: "NAME", description: "Jupyter kernel to run them with", default: "deno" },
  },
  run() {},
};

/** Picks notebooks by name; an unknown name is a usage error listing the choices. */
export function selectNotebooks(all: string[], names: string[]): string[] {
  if (names.length === 0) return all;
  return names.map((n) => {
    const want = n.replace(/\.ipynb$/, "").replace(/^.*\//, "");
    const hit = all.find((f) => {
      const base = f.replace(/\.ipynb$/, "");
      return base === want || base.replace(/^\d+-/, "") === want;
    });
    if (!hit) {
      throw new MercuryError("usage", `no notebook named "${n}"`, {
        where: "notebooks/",
        hint: `notebooks: ${all.map((f) => f.replace(/\.ipynb$/, "")).join(", ") || "none"}`,
      });
    }
    return hit;
  });
}

/** A prepared notebook: the file to execute (a copy with injected parameters, or the notebook) and its record. */
interface Prepared {
  file: string;
  source: string;
  record: Pick<RunRecord, "parameters" | "injected" | "seeds">;
}

/** Reads `--params file.yaml|json` into a record of values; a bad file is a usage error naming it. */
export function readParamsFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new MercuryError("usage", `cannot read the parameters file ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "give a YAML or JSON file of name: value lines",
    });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new MercuryError("usage", `${path} is not valid YAML: ${(err as Error).message.split("\n")[0]}`, {
      where: path,
      hint: "write one `name: value` per line",
    });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new MercuryError("usage", `${path} must map parameter names to values`, {
      where: path,
      hint: "write one `name: value` per line",
    });
  }
  return data as Record<string, unknown>;
}

/** Reads a notebook, injects the given parameters and writes the copy to run; usage errors before anything runs. */
function prepare(path: string, values: Record<string, unknown>, scratch: string): Prepared {
  const name = path.replace(/^.*\//, "");
  const where = `notebooks/${name}`;
  let nb: NotebookJson;
  try {
    nb = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    // execute.py reports an unreadable notebook in its result, as before.
    return { file: path, source: path, record: { parameters: {}, injected: [], seeds: [] } };
  }
  const injected = injectParameters(nb, values, where);
  const parameters = effectiveParameters(nb, values);
  const code = nb.cells.filter((c) => c.cell_type === "code").map((c) =>
    Array.isArray(c.source) ? c.source.join("") : c.source
  ).join("\n");
  const record = { parameters, injected: Object.keys(values), seeds: seedsOf(code, parameters) };
  if (injected === nb) return { file: path, source: path, record };
  Deno.mkdirSync(scratch, { recursive: true });
  const file = `${scratch}/${name}`;
  Deno.writeTextFileSync(file, JSON.stringify(injected, null, 1) + "\n");
  return { file, source: path, record };
}

/** Runs one notebook through execute.py. */
async function runNotebook(
  python: string,
  script: string,
  prepared: Prepared,
  base: Provenance,
  reports: string,
  timeout: number,
  kernel: string,
): Promise<NotebookResult> {
  const record = { ...base, ...prepared.record };
  const path = prepared.source;
  const name = path.replace(/^.*\//, "").replace(/\.ipynb$/, "");
  const ipynb = `${reports}/${name}.ipynb`;
  const html = `${reports}/${name}.html`;
  const recordFile = await Deno.makeTempFile({ prefix: "mercury-run-", suffix: ".json" });
  await Deno.writeTextFile(recordFile, JSON.stringify(record));
  const cwd = path.replace(/\/[^/]*$/, "");
  const out = await new Deno.Command(python, {
    args: [
      script,
      prepared.file,
      ipynb,
      html,
      "--timeout",
      String(timeout),
      "--kernel",
      kernel,
      "--deno",
      Deno.execPath(),
      "--cwd",
      cwd,
      "--record",
      recordFile,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(recordFile).catch(() => {}));
  const stdout = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "no output";
    parsed = { status: "error", cell: null, error: `runner failed: ${err}`, cells: 0, seconds: 0 };
  }
  const error = parsed.error as string | undefined;
  const cell = parsed.cell as number | null | undefined;
  const thumbnail = await writeThumbnail(ipynb, `${reports}/${name}.thumb.svg`);
  return {
    notebook: name,
    status: parsed.status === "ok" ? "ok" : "error",
    cells: Number(parsed.cells ?? 0),
    seconds: Number(parsed.seconds ?? 0),
    kernelStart: parsed.kernel_start as number | undefined,
    firstCell: parsed.first_cell as number | undefined,
    cell,
    error,
    html: `${name}.html`,
    ipynb: `${name}.ipynb`,
    ...(thumbnail ? { thumbnail: `${name}.thumb.svg` } : {}),
    run: {
      ...record,
      started: parsed.started as string | undefined,
      ended: parsed.ended as string | undefined,
      cellSeconds: (parsed.cell_seconds as [number, number][] | undefined) ?? [],
    },
  };
}

/** Writes the executed notebook's first SVG chart next to its report; false when it has none. */
async function writeThumbnail(ipynb: string, target: string): Promise<boolean> {
  let svg: string | undefined;
  try {
    const nb = JSON.parse(await Deno.readTextFile(ipynb)) as NotebookJson;
    for (const c of nb.cells) {
      for (const o of (c.outputs ?? []) as { data?: Record<string, unknown> }[]) {
        const v = o.data?.["image/svg+xml"];
        const text = Array.isArray(v) ? v.join("") : typeof v === "string" ? v : undefined;
        if (text?.startsWith("<svg")) {
          svg = text;
          break;
        }
      }
      if (svg) break;
    }
  } catch { /* no executed notebook: no thumbnail */ }
  if (!svg) {
    await Deno.remove(target).catch(() => {});
    return false;
  }
  await writeAtomic(target, svg);
  return true;
}

/** `reports/index.html`: every notebook with status, duration and links. */
export function indexHtml(results: NotebookResult[], when: Date, plugins: string[] = []): string {
  const rows = results.map((r) => {
    const ok = r.status === "ok";
    const badge = `<span style="padding:2px 8px;border-radius:10px;color:white;background:${
      ok ? "#2e7d32" : "#c62828"
    }">${ok ? "passed" : "failed"}</span>`;
    const detail = ok ? `${r.cells} code cells` : `${r.cell ? `cell ${r.cell}: ` : ""}${escapeHtml(r.error ?? "")}`;
    const params = Object.entries(r.run?.parameters ?? {}).map(([k, v]) =>
      `${r.run?.injected.includes(k) ? "<b>" : ""}${escapeHtml(`${k}=${JSON.stringify(v)}`)}${
        r.run?.injected.includes(k) ? "</b>" : ""
      }`
    ).join(", ");
    const commit = r.run ? `${r.run.git.commit.slice(0, 10)}${r.run.git.dirty ? " (dirty)" : ""}` : "";
    const thumb = r.thumbnail
      ? `<a href="${escapeHtml(r.html)}"><img src="${escapeHtml(r.thumbnail)}" alt="first chart of ${
        escapeHtml(r.notebook)
      }" style="width:160px;max-height:90px;object-fit:contain"></a>`
      : "";
    return `<tr><td>${thumb}</td><td><a href="${escapeHtml(r.html)}">${
      escapeHtml(r.notebook)
    }</a></td><td>${badge}</td><td style="text-align:right">${
      r.seconds.toFixed(1)
    } s</td><td>${detail}</td><td style="font-size:12px">${params}</td><td style="font-size:12px"><code>${
      escapeHtml(commit)
    }</code></td><td><a href="${escapeHtml(r.ipynb)}">.ipynb</a></td></tr>`;
  }).join("\n");
  const failed = results.filter((r) => r.status !== "ok").length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mercury notebook reports</title>
<style>body{font-family:ui-sans-serif,system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
td,th{padding:6px 12px;border-bottom:1px solid #ddd;text-align:left}th{border-bottom:2px solid #444}a{color:#1565c0}</style>
</head><body>
<h1>Mercury notebook reports</h1>
${
    plugins.length
      ? `<p>Plugins: ${
        plugins.map((p) => `<a href="plugins/${escapeHtml(p)}.html">${escapeHtml(p)}</a>`).join(" · ")
      } (notebook, README figures, benchmark results)</p>`
      : ""
  }
<p>${results.length} notebook${results.length === 1 ? "" : "s"}, ${failed} failed — run ${
    escapeHtml(when.toISOString())
  }</p>
<table><thead><tr><th>first chart</th><th>notebook</th><th>status</th><th>duration</th><th>detail</th><th>parameters (given in bold)</th><th>commit</th><th>executed</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** Runs the selected notebooks; returns results (errors are in the results, not thrown). */
export async function runNotebooks(
  root: string,
  names: string[],
  options: {
    timeout: number;
    reportsDir: string;
    notebooksDir: string;
    kernel?: string;
    /** Parameter values for every chosen notebook (from -p and --params). */
    parameters?: Record<string, unknown>;
  },
): Promise<NotebookResult[]> {
  const nbDir = options.notebooksDir.startsWith("/") ? options.notebooksDir : `${root}/${options.notebooksDir}`;
  const reports = options.reportsDir.startsWith("/") ? options.reportsDir : `${root}/${options.reportsDir}`;
  let all: string[];
  try {
    all = [...Deno.readDirSync(nbDir)].filter((e) => e.isFile && e.name.endsWith(".ipynb")).map((e) => e.name).sort();
  } catch {
    throw new MercuryError("not_found", `no notebooks folder at ${nbDir}`, { where: nbDir });
  }
  const chosen = selectNotebooks(all, names);
  // Parameters are checked for every chosen notebook before any of them runs.
  const scratch = `${stateDir(root)}/nb-runs/${Deno.pid}`;
  const prepared = chosen.map((file) => prepare(`${nbDir}/${file}`, options.parameters ?? {}, scratch));
  // Provenance (a few local probes) overlaps the venv and kernelspec check.
  const [base, jupyter] = await Promise.all([provenance(root), ensureJupyter(root, stateDir(root))]);
  await Deno.mkdir(reports, { recursive: true });
  const results: NotebookResult[] = [];
  for (const [i, file] of chosen.entries()) {
    console.error(`▶ ${file}`);
    const r = await runNotebook(
      jupyter.python,
      jupyter.executeScript,
      prepared[i]!,
      base,
      reports,
      options.timeout,
      options.kernel ?? "deno",
    );
    console.error(
      r.status === "ok"
        ? `  ✓ ${r.cells} code cells in ${r.seconds.toFixed(1)}s`
        : `  ✗ ${file}${r.cell ? `, cell ${r.cell}` : ""}: ${r.error}`,
    );
    results.push(r);
  }
  await Deno.remove(scratch, { recursive: true }).catch(() => {});
  // The index lists every notebook that has a report, the latest run of each.
  const merged = new Map<string, NotebookResult>();
  try {
    const previous = JSON.parse(Deno.readTextFileSync(`${reports}/index.json`)) as NotebookResult[];
    for (const p of previous) if (all.includes(`${p.notebook}.ipynb`)) merged.set(p.notebook, p);
  } catch { /* first run */ }
  for (const r of results) merged.set(r.notebook, r);
  const index = [...merged.values()].sort((a, b) => a.notebook.localeCompare(b.notebook));
  await writeAtomic(`${reports}/index.json`, JSON.stringify(index, null, 2) + "\n");
  // Plugin pages are a convenience: a plugin that fails to load must not cost the notebooks' index.
  let plugins: string[] = [];
  try {
    plugins = await writePluginPages(root, reports, index, writeAtomic);
  } catch (err) {
    console.error(`plugin pages not written: ${(err as Error).message}`);
  }
  await writeAtomic(`${reports}/index.html`, indexHtml(index, new Date(), plugins));
  return results;
}

/** A path to an executed notebook: as given, or a report name under the reports folder (`01-stream`). */
export function resolveExecuted(root: string, reportsDir: string, given: string): string {
  const reports = reportsDir.startsWith("/") ? reportsDir : `${root}/${reportsDir}`;
  const candidates = [given, `${reports}/${given}`, `${reports}/${given}.ipynb`];
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch { /* next */ }
  }
  throw new MercuryError("usage", `no executed notebook at ${given}`, {
    where: given,
    hint: `give a path to an executed .ipynb, or a report name in ${reportsDir}/`,
  });
}

function readExecuted(path: string): NotebookJson {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (err) {
    throw new MercuryError("input", `${path} is not a notebook: ${(err as Error).message}`, {
      where: path,
      hint: "give an executed .ipynb written by `deno task nb`",
    });
  }
}

/** The summary printed at the end. */
export function summaryTable(results: NotebookResult[]): string {
  const rows = [["notebook", "status", "cells", "seconds", "kernel+first cell", "detail"]];
  for (const r of results) {
    rows.push([
      r.notebook,
      r.status,
      String(r.cells),
      r.seconds.toFixed(1),
      r.kernelStart !== undefined && r.firstCell !== undefined ? `${(r.kernelStart + r.firstCell).toFixed(1)}s` : "-",
      r.status === "ok" ? "" : `${r.cell ? `cell ${r.cell}: ` : ""}${r.error}`,
    ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd()).join("\n");
}

if (import.meta.main) {
  await main(async (argv) => {
    const args = argv.filter((a) => a !== "--verbose");
    if (args.includes("-h") || args.includes("--help")) {
      console.log(commandHelp(spec, "deno task nb"));
      return 0;
    }
    const parsed = parseCommandArgs(spec, args, "deno task nb");
    const timeout = parsed.values.timeout as number;
    const root = projectRoot();
    const reportsDir = String(parsed.values["reports-dir"]);
    if (parsed.values.compare) {
      if (parsed.positionals.length !== 2) {
        throw new MercuryError("usage", `--compare takes two executed notebooks, got ${parsed.positionals.length}`, {
          where: "--compare",
          hint: "deno task nb --compare reports/01-stream.ipynb other-reports/01-stream.ipynb",
        });
      }
      const [a, b] = parsed.positionals.map((p) => resolveExecuted(root, reportsDir, p)) as [string, string];
      const diffs = compareNotebooks(readExecuted(a), readExecuted(b), {
        tolerance: parsed.values.tolerance as number,
      });
      console.log(formatDifferences(diffs, a, b));
      return diffs.some((d) => !d.context) ? 1 : 0;
    }
    const parameters = {
      ...(parsed.values.params ? readParamsFile(String(parsed.values.params)) : {}),
      ...parsePairs((parsed.values.param as string[] | undefined) ?? []),
    };
    const results = await runNotebooks(root, parsed.positionals, {
      timeout,
      reportsDir,
      notebooksDir: String(parsed.values["notebooks-dir"]),
      kernel: String(parsed.values.kernel),
      parameters,
    });
    console.log(summaryTable(results));
    const failed = results.filter((r) => r.status !== "ok");
    if (failed.length) {
      const f = failed[0]!;
      throw new MercuryError(
        "input",
        `${failed.length} of ${results.length} notebooks failed; first: ${f.notebook}${
          f.cell ? `, cell ${f.cell}` : ""
        }: ${f.error}`,
        { where: `${reportsDir}/${f.html}`, hint: `open ${reportsDir}/${f.html} to see the failing cell` },
      );
    }
    console.log(`reports written to ${reportsDir}/index.html`);
    return 0;
  });
}
