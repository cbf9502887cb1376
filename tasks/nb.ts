/**
 * `deno task nb [name…]`: executes `notebooks/*.ipynb` headless through real
 * Jupyter (nbclient) with Deno's kernel — each in a fresh kernel, top to
 * bottom, with a per-cell timeout — and writes the executed notebook and an
 * HTML report per notebook into `reports/`, plus `reports/index.html`.
 * A failing cell fails the task, naming notebook, cell and error; the other
 * notebooks still run and their reports are still written.
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot, stateDir } from "@mercury/core";
import type { CommandSpec } from "@mercury/core";
import { escapeHtml } from "@mercury/core/display";
import { ensureJupyter } from "./notebooks/jupyter.ts";
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
}

const spec: CommandSpec = {
  summary: "execute notebooks through Jupyter with the Deno kernel and write HTML reports to reports/",
  usage: "[name…]",
  description: "A name matches a notebook file with or without its number and extension: 00-tour, tour.",
  options: {
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

/** Runs one notebook through execute.py. */
async function runNotebook(
  python: string,
  script: string,
  path: string,
  reports: string,
  timeout: number,
  kernel: string,
): Promise<NotebookResult> {
  const name = path.replace(/^.*\//, "").replace(/\.ipynb$/, "");
  const ipynb = `${reports}/${name}.ipynb`;
  const html = `${reports}/${name}.html`;
  const out = await new Deno.Command(python, {
    args: [script, path, ipynb, html, "--timeout", String(timeout), "--kernel", kernel, "--deno", Deno.execPath()],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
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
  };
}

/** `reports/index.html`: every notebook with status, duration and links. */
export function indexHtml(results: NotebookResult[], when: Date): string {
  const rows = results.map((r) => {
    const ok = r.status === "ok";
    const badge = `<span style="padding:2px 8px;border-radius:10px;color:white;background:${
      ok ? "#2e7d32" : "#c62828"
    }">${ok ? "passed" : "failed"}</span>`;
    const detail = ok ? `${r.cells} code cells` : `${r.cell ? `cell ${r.cell}: ` : ""}${escapeHtml(r.error ?? "")}`;
    return `<tr><td><a href="${escapeHtml(r.html)}">${
      escapeHtml(r.notebook)
    }</a></td><td>${badge}</td><td style="text-align:right">${
      r.seconds.toFixed(1)
    } s</td><td>${detail}</td><td><a href="${escapeHtml(r.ipynb)}">.ipynb</a></td></tr>`;
  }).join("\n");
  const failed = results.filter((r) => r.status !== "ok").length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mercury notebook reports</title>
<style>body{font-family:ui-sans-serif,system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
td,th{padding:6px 12px;border-bottom:1px solid #ddd;text-align:left}th{border-bottom:2px solid #444}a{color:#1565c0}</style>
</head><body>
<h1>Mercury notebook reports</h1>
<p>${results.length} notebook${results.length === 1 ? "" : "s"}, ${failed} failed — run ${
    escapeHtml(when.toISOString())
  }</p>
<table><thead><tr><th>notebook</th><th>status</th><th>duration</th><th>detail</th><th>executed</th></tr></thead>
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
  options: { timeout: number; reportsDir: string; notebooksDir: string; kernel?: string },
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
  const jupyter = await ensureJupyter(root, stateDir(root));
  await Deno.mkdir(reports, { recursive: true });
  const results: NotebookResult[] = [];
  for (const file of chosen) {
    console.error(`▶ ${file}`);
    const r = await runNotebook(
      jupyter.python,
      jupyter.executeScript,
      `${nbDir}/${file}`,
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
  // The index lists every notebook that has a report, the latest run of each.
  const merged = new Map<string, NotebookResult>();
  try {
    const previous = JSON.parse(Deno.readTextFileSync(`${reports}/index.json`)) as NotebookResult[];
    for (const p of previous) if (all.includes(`${p.notebook}.ipynb`)) merged.set(p.notebook, p);
  } catch { /* first run */ }
  for (const r of results) merged.set(r.notebook, r);
  const index = [...merged.values()].sort((a, b) => a.notebook.localeCompare(b.notebook));
  await writeAtomic(`${reports}/index.json`, JSON.stringify(index, null, 2) + "\n");
  await writeAtomic(`${reports}/index.html`, indexHtml(index, new Date()));
  return results;
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
    const results = await runNotebooks(root, parsed.positionals, {
      timeout,
      reportsDir,
      notebooksDir: String(parsed.values["notebooks-dir"]),
      kernel: String(parsed.values.kernel),
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
