/**
 * Notebook and terminal output that looks the same in both: in a Deno Jupyter
 * kernel, `table()`, `chart()`, `html()` and `markdown()` send rich display
 * data (HTML, SVG, Markdown); under `deno run` they print aligned text.
 * Charts are vega-lite specs rendered to SVG in-process, so reports need no
 * network.
 *
 * @example Pure renderers, usable anywhere
 * ```ts
 * import { tableHtml, tableText } from "@mercury/core/display";
 * import assert from "node:assert/strict";
 *
 * const rows = [{ city: "Oslo", temp: 4.5 }, { city: "Lagos", temp: 31 }];
 * assert.match(tableHtml(rows), /<th[^>]*>city/);
 * assert.equal(tableText(rows).split("\n")[0], "city   temp");
 * ```
 *
 * @module
 */
import type * as vl from "vega-lite";
import { escapeHtml } from "./html.ts";

export { escapeHtml };

/** A column of a normalised table. */
export interface Column {
  name: string;
  type: string;
}

/** What `table()` accepts: records, an Arrow table, or a DuckDB result reader. */
export type Tabular =
  | readonly Record<string, unknown>[]
  | { schema: { fields: { name: string; type: unknown }[] }; numRows: number; get(i: number): unknown }
  | { columnNames(): string[]; columnTypes(): unknown[]; getRowsJS(): unknown[][] };

/** Options of the table renderers. */
export interface TableOptions {
  /** Rows shown before the rest are cut (default 20). */
  maxRows?: number;
  /** A caption above the table. */
  title?: string;
}

interface Normalised {
  columns: Column[];
  rows: unknown[][];
  total: number;
}

function normalise(data: Tabular, maxRows: number): Normalised {
  if (Array.isArray(data)) {
    const names: string[] = [];
    const seen = new Set<string>();
    for (const row of data as Record<string, unknown>[]) {
      for (const k of Object.keys(row)) if (!seen.has(k)) seen.add(k), names.push(k);
    }
    const shown = (data as Record<string, unknown>[]).slice(0, maxRows);
    const columns = names.map((name) => ({
      name,
      type: inferType(data.map((r) => (r as Record<string, unknown>)[name])),
    }));
    return { columns, rows: shown.map((r) => names.map((n) => r[n])), total: data.length };
  }
  if ("schema" in data && "numRows" in data) {
    const columns = data.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
    const rows: unknown[][] = [];
    for (let i = 0; i < Math.min(maxRows, data.numRows); i++) {
      const row = data.get(i) as Record<string, unknown> | null;
      rows.push(columns.map((c) => row?.[c.name]));
    }
    return { columns, rows, total: data.numRows };
  }
  if ("columnNames" in data) {
    const names = data.columnNames();
    const types = data.columnTypes();
    const all = data.getRowsJS();
    return {
      columns: names.map((name, i) => ({ name, type: String(types[i]) })),
      rows: all.slice(0, maxRows),
      total: all.length,
    };
  }
  throw new TypeError("table() takes an array of records, an Arrow table or a DuckDB result reader");
}

function inferType(values: unknown[]): string {
  const types = new Set<string>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    types.add(v instanceof Date ? "date" : Array.isArray(v) ? "list" : typeof v);
  }
  if (types.size === 0) return "null";
  return types.size === 1 ? [...types][0]! : [...types].join("|");
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof Date) return isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === "object") {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  }
  return String(v);
}

/** Number-like column types of JS values, DuckDB (BIGINT, DECIMAL(9,2)…) and Arrow (Int32, Float64…). */
const numeric = (type: string) =>
  /^(number|u?(tiny|small|big|huge)?int(eger)?\d*|float\d*|double|real|decimal.*|numeric.*)$/i.test(type);

/** The footer line: "3 rows × 2 columns" plus a note when rows were cut. */
function footer(t: Normalised): string {
  const base = `${t.total} row${t.total === 1 ? "" : "s"} × ${t.columns.length} column${
    t.columns.length === 1 ? "" : "s"
  }`;
  return t.rows.length < t.total ? `${base} (showing the first ${t.rows.length})` : base;
}

/** Renders a table as HTML with column types, row count and truncation note; every value is escaped. */
export function tableHtml(data: Tabular, options: TableOptions = {}): string {
  const t = normalise(data, options.maxRows ?? 20);
  // Alignment is explicit on every cell: notebook front ends right-align table cells by default.
  const th = "padding:4px 10px;border-bottom:2px solid #444;vertical-align:bottom";
  const head = t.columns.map((c) =>
    `<th style="${th};text-align:${numeric(c.type) ? "right" : "left"}">${
      escapeHtml(c.name)
    }<br><span style="font-weight:normal;color:#888;font-size:0.85em">${escapeHtml(c.type)}</span></th>`
  ).join("");
  const body = t.rows.map((r, i) =>
    `<tr style="background:${i % 2 ? "#f7f7f9" : "transparent"}">${
      r.map((v, j) => {
        const right = numeric(t.columns[j]!.type) ? "text-align:right;" : "text-align:left;";
        const nul = v === null || v === undefined ? "color:#aaa;font-style:italic;" : "";
        return `<td style="padding:3px 10px;${right}${nul}font-variant-numeric:tabular-nums">${
          escapeHtml(cell(v))
        }</td>`;
      }).join("")
    }</tr>`
  ).join("");
  const caption = options.title
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${
      escapeHtml(options.title)
    }</caption>`
    : "";
  return `<div class="mercury-table"><table style="border-collapse:collapse;font-family:ui-sans-serif,system-ui,sans-serif;font-size:13px">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table><div style="color:#666;font-size:12px;padding-top:4px">${
    escapeHtml(footer(t))
  }</div></div>`;
}

/** Renders a table as aligned text; numbers right-aligned. */
export function tableText(data: Tabular, options: TableOptions = {}): string {
  const t = normalise(data, options.maxRows ?? 20);
  const grid = [t.columns.map((c) => c.name), ...t.rows.map((r) => r.map(cell))];
  const widths = t.columns.map((_, j) => Math.max(...grid.map((row) => [...(row[j] ?? "")].length)));
  const lines = grid.map((row, i) =>
    row.map((v, j) => {
      const pad = widths[j]! - [...v].length;
      return i > 0 && numeric(t.columns[j]!.type) ? " ".repeat(pad) + v : v + " ".repeat(pad);
    }).join("  ").trimEnd()
  );
  if (options.title) lines.unshift(options.title);
  lines.push(footer(t));
  return lines.join("\n");
}

/** Options of the chart renderers. */
export interface ChartOptions {
  /** Also write the SVG to this file. */
  file?: string;
}

/**
 * Renders a vega-lite spec to an SVG string in-process (no browser, no network).
 *
 * @example
 * ```ts
 * import { chartSvg } from "@mercury/core/display";
 * import assert from "node:assert/strict";
 *
 * const svg = await chartSvg({
 *   data: { values: [{ x: "a", y: 1 }, { x: "b", y: 3 }] },
 *   mark: "bar",
 *   encoding: { x: { field: "x", type: "nominal" }, y: { field: "y", type: "quantitative" } },
 * });
 * assert.match(svg, /^<svg/);
 * assert.match(svg, /role-mark/);
 * ```
 */
export async function chartSvg(spec: vl.TopLevelSpec): Promise<string> {
  // vega and vega-lite cost ~250 ms to load: only charts pay for them, not tables or text.
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  let compiled: ReturnType<typeof vegaLite.compile>["spec"];
  try {
    compiled = vegaLite.compile(spec).spec;
  } catch (err) {
    throw new TypeError(`Cannot compile the vega-lite spec: ${(err as Error).message}`, { cause: err });
  }
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------
// Display: Jupyter when in a Deno kernel, text otherwise.

type Bundle = Record<string, string>;

interface JupyterApi {
  display(obj: unknown, options?: { raw?: boolean; update?: boolean; display_id?: string }): Promise<void>;
}

/** The Deno Jupyter API when running in a kernel, else undefined. */
export function jupyter(): JupyterApi | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined; // "Deno.jupyter is only available in `deno jupyter`"
  }
}

/** Whether output goes to a Jupyter kernel. */
export function inJupyter(): boolean {
  return jupyter() !== undefined;
}

async function emit(bundle: Bundle, text: string, options?: { update?: boolean; display_id?: string }): Promise<void> {
  const j = jupyter();
  if (j) await j.display({ "text/plain": text, ...bundle }, { raw: true, ...options });
  else console.log(text);
}

/** Shows a table: HTML in Jupyter, aligned text in a terminal. */
export async function table(data: Tabular, options: TableOptions = {}): Promise<void> {
  await emit({ "text/html": tableHtml(data, options) }, tableText(data, options));
}

/**
 * Shows a vega-lite chart as SVG (in a terminal: a one-line note, and the file
 * when `file` is set). Use {@linkcode chartSvg} for the SVG text itself.
 */
export async function chart(spec: vl.TopLevelSpec, options: ChartOptions = {}): Promise<void> {
  const svg = await chartSvg(spec);
  if (options.file) {
    const tmp = `${options.file}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, svg);
    await Deno.rename(tmp, options.file);
  }
  const m = /width="(\d+)" height="(\d+)"/.exec(svg);
  const title = typeof spec.title === "string" ? spec.title : "chart";
  await emit(
    { "image/svg+xml": svg },
    `[${title}: ${m?.[1]}×${m?.[2]} SVG${options.file ? `, written to ${options.file}` : ""}]`,
  );
}

/** Shows HTML (in a terminal: the text with tags removed). */
export async function html(markup: string): Promise<void> {
  await emit(
    { "text/html": markup },
    markup.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
  );
}

/** Shows Markdown (in a terminal: as written). */
export async function markdown(text: string): Promise<void> {
  await emit({ "text/markdown": text }, text);
}

/** A progress display that updates in place. */
export interface Progress {
  /** Advances by `n` (default 1). */
  tick(n?: number): Promise<void>;
  /** Marks it finished. */
  done(): Promise<void>;
}

/**
 * A progress bar for long cells: one line that updates in place in Jupyter
 * (by display id) and on a terminal (carriage return); at most ~10 updates a second.
 */
export function progress(total: number, label = ""): Progress {
  const id = `mercury-progress-${crypto.randomUUID()}`;
  let value = 0;
  let last = 0;
  const t0 = performance.now();
  const render = () => {
    const frac = total > 0 ? Math.min(1, value / total) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const text = `${label ? label + " " : ""}[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${value}/${total} ${
      (frac * 100).toFixed(0)
    }% ${secs}s`;
    const bar = `<div style="font-family:ui-monospace,monospace;font-size:12px">${
      escapeHtml(label)
    } <progress value="${value}" max="${total}" style="width:240px"></progress> ${value}/${total} (${
      (frac * 100).toFixed(0)
    }%) ${secs}s</div>`;
    return { text, bar };
  };
  let started = false;
  const show = async (final: boolean) => {
    const { text, bar } = render();
    const j = jupyter();
    if (j) {
      await j.display({ "text/plain": text, "text/html": bar }, { raw: true, display_id: id, update: started });
      started = true;
    } else if (Deno.stdout.isTerminal()) {
      await Deno.stdout.write(new TextEncoder().encode(`\r${text}${final ? "\n" : ""}`));
    } else if (final) {
      console.log(text);
    }
  };
  return {
    async tick(n = 1) {
      value += n;
      const now = performance.now();
      if (now - last > 100 || value >= total) {
        last = now;
        await show(false);
      }
    },
    done: () => show(true),
  };
}
