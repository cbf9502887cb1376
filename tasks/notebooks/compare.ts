/**
 * `deno task nb --compare A B`: what differs between two executed notebooks,
 * in the spirit of nbdime but for the outputs a Mercury notebook shows —
 * tables (`display.table`, compared cell by cell), charts (the SVG's marks:
 * their labels and geometry, which is the chart's data after scaling), and
 * text (streams, Markdown, plain results). Numbers anywhere are compared
 * within a relative tolerance; everything else must be equal. The run records
 * are compared too: parameters count as differences, the rest (commit, Deno,
 * services) is listed as context.
 *
 * Code cells are matched by their order, not counting a cell of injected
 * parameters, so a run with other parameters lines up with the default run.
 *
 * @example
 * ```ts
 * import { compareNotebooks } from "./compare.ts";
 * import assert from "node:assert/strict";
 *
 * const nb = (n: number) => ({
 *   cells: [{ cell_type: "code", source: "", outputs: [{ output_type: "stream", name: "stdout", text: `sum ${n}\n` }] }],
 * });
 * assert.deepEqual(compareNotebooks(nb(1), nb(1 + 1e-12)), []);
 * assert.equal(compareNotebooks(nb(1), nb(2))[0]!.where, "cell 1 · output 1 (stdout)");
 * ```
 *
 * @module
 */
import type { NotebookCell, NotebookJson } from "./parameters.ts";
import { INJECTED_TAG } from "./parameters.ts";

/** One difference: where it is, and the two sides. */
export interface Difference {
  where: string;
  a: string;
  b: string;
  /** Context differences (commit, Deno, services) do not make the comparison fail. */
  context?: boolean;
}

/** Options of {@linkcode compareNotebooks}. */
export interface CompareOptions {
  /** Relative difference under which two numbers count as equal (default 1e-9). */
  tolerance?: number;
  /** At most this many differences per output (default 5), then a count of the rest. */
  perOutput?: number;
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

const str = (v: unknown): string => (Array.isArray(v) ? v.join("") : v === undefined || v === null ? "" : String(v));

const NUMBER = /-?(?:\d{1,3}(?:,\d{3})+|\d[\d_]*)(?:\.\d+)?(?:e[+-]?\d+)?|-?\.\d+(?:e[+-]?\d+)?/gi;

/** Splits text into words and numbers; numbers parsed (thousands separators allowed). */
function tokens(text: string): (string | number)[] {
  const out: (string | number)[] = [];
  let last = 0;
  for (const m of text.matchAll(NUMBER)) {
    const before = text.slice(last, m.index).trim();
    if (before) out.push(...before.split(/\s+/));
    out.push(Number(m[0].replace(/[,_]/g, "")));
    last = m.index! + m[0].length;
  }
  const rest = text.slice(last).trim();
  if (rest) out.push(...rest.split(/\s+/));
  return out;
}

const close = (x: number, y: number, tol: number) =>
  x === y || Math.abs(x - y) <= tol * Math.max(Math.abs(x), Math.abs(y)) || (Number.isNaN(x) && Number.isNaN(y));

/** Whether two texts are equal, numbers within the tolerance. */
export function sameText(a: string, b: string, tolerance = 1e-9): boolean {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.length !== tb.length) return false;
  return ta.every((x, i) => {
    const y = tb[i]!;
    return typeof x === "number" && typeof y === "number" ? close(x, y, tolerance) : x === y;
  });
}

const unescape = (s: string) =>
  s.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&").trim();

/** A `display.table` output read back from its HTML: title, column names and rows of cell texts. */
export interface TableData {
  title: string;
  columns: string[];
  rows: string[][];
  footer: string;
}

/** Reads a Mercury table (`<div class="mercury-table">`) from HTML; undefined for other HTML. */
export function readTable(html: string): TableData | undefined {
  if (!html.includes("mercury-table")) return undefined;
  const title = unescape(/<caption[^>]*>([\s\S]*?)<\/caption>/.exec(html)?.[1] ?? "");
  const columns = [...html.matchAll(/<th[^>]*>([\s\S]*?)<br>/g)].map((m) => unescape(m[1]!));
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  const rows = [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => unescape(c[1]!))
  );
  const footer = unescape(/<\/table><div[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "");
  return { title, columns, rows, footer };
}

/** A chart read back from its SVG: its title and, per mark, a label and its geometry's numbers. */
export interface ChartData {
  title: string;
  marks: { label: string; geometry: number[] }[];
}

/** Reads the marks of a vega SVG: `aria-label`s of mark items and the numbers of their shapes. */
export function readChart(svg: string): ChartData {
  const title = unescape(/class="role-title-text"[\s\S]*?<text[^>]*>([\s\S]*?)<\/text>/.exec(svg)?.[1] ?? "") ||
    unescape(/<text[^>]*class="[^"]*role-title[^"]*"[^>]*>([\s\S]*?)<\/text>/.exec(svg)?.[1] ?? "");
  const marks: ChartData["marks"] = [];
  // Mark items: elements carrying an aria-roledescription ending in "mark" (e.g. "line mark", "bar").
  for (const m of svg.matchAll(/<(path|rect|circle|line|text)\b([^>]*)>/g)) {
    const attrs = m[2]!;
    if (!/aria-roledescription="[^"]*mark[^"]*"/.test(attrs)) continue;
    const label = unescape(/aria-label="([^"]*)"/.exec(attrs)?.[1] ?? "");
    const shape = [...attrs.matchAll(/\b(d|x|y|x1|x2|y1|y2|width|height|transform|cx|cy|r)="([^"]*)"/g)]
      .map((a) => a[2]!).join(" ");
    marks.push({ label, geometry: [...shape.matchAll(NUMBER)].map((n) => Number(n[0].replace(/[,_]/g, ""))) });
  }
  return { title, marks };
}

interface Item {
  kind: string;
  describe: string;
  text?: string;
  table?: TableData;
  chart?: ChartData;
}

function itemOf(o: Output, n: number): Item {
  const at = `output ${n}`;
  if (o.output_type === "stream") return { kind: "stream", describe: `${at} (${o.name})`, text: str(o.text) };
  if (o.output_type === "error") return { kind: "error", describe: `${at} (error)`, text: `${o.ename}: ${o.evalue}` };
  const data = o.data ?? {};
  const html = str(data["text/html"]);
  const table = html ? readTable(html) : undefined;
  if (table) return { kind: "table", describe: `table "${table.title || at}"`, table };
  const svg = str(data["image/svg+xml"]);
  if (svg) {
    const chart = readChart(svg);
    return { kind: "chart", describe: `chart "${chart.title || at}"`, chart };
  }
  if (data["text/markdown"] !== undefined) {
    return { kind: "markdown", describe: `${at} (markdown)`, text: str(data["text/markdown"]) };
  }
  if (html) return { kind: "html", describe: `${at} (html)`, text: unescape(html) };
  return { kind: "text", describe: `${at} (text)`, text: str(data["text/plain"]) };
}

const short = (s: string, n = 80) => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};

function compareItems(a: Item, b: Item, where: string, tol: number, limit: number): Difference[] {
  const out: Difference[] = [];
  const push = (w: string, x: string, y: string) => out.push({ where: `${where} · ${w}`, a: x, b: y });
  if (a.kind !== b.kind) return [{ where, a: a.kind, b: b.kind }];
  if (a.table && b.table) {
    const [x, y] = [a.table, b.table];
    if (x.columns.join("|") !== y.columns.join("|")) push(a.describe, x.columns.join(", "), y.columns.join(", "));
    else {
      if (x.rows.length !== y.rows.length || !sameText(x.footer, y.footer, tol)) {
        push(`${a.describe} rows`, x.footer || String(x.rows.length), y.footer || String(y.rows.length));
      }
      for (let r = 0; r < Math.min(x.rows.length, y.rows.length); r++) {
        for (let c = 0; c < x.columns.length; c++) {
          const [u, v] = [x.rows[r]![c] ?? "", y.rows[r]![c] ?? ""];
          if (!sameText(u, v, tol)) push(`${a.describe} row ${r + 1} column ${x.columns[c]}`, u, v);
        }
      }
    }
  } else if (a.chart && b.chart) {
    const [x, y] = [a.chart, b.chart];
    if (x.marks.length !== y.marks.length) push(`${a.describe} marks`, String(x.marks.length), String(y.marks.length));
    for (let i = 0; i < Math.min(x.marks.length, y.marks.length); i++) {
      const [u, v] = [x.marks[i]!, y.marks[i]!];
      if (!sameText(u.label, v.label, tol)) push(`${a.describe} mark ${i + 1}`, u.label, v.label);
      const off = u.geometry.length !== v.geometry.length
        ? -1
        : u.geometry.filter((g, j) => !close(g, v.geometry[j]!, tol)).length;
      if (off !== 0) {
        push(
          `${a.describe} mark ${i + 1} (${u.label || "unlabelled"}) geometry`,
          off < 0 ? `${u.geometry.length} numbers` : `${off} of ${u.geometry.length} numbers differ`,
          off < 0 ? `${v.geometry.length} numbers` : "beyond the tolerance",
        );
      }
    }
  } else if (!sameText(a.text ?? "", b.text ?? "", tol)) {
    push(a.describe, short(a.text ?? ""), short(b.text ?? ""));
  }
  if (out.length > limit) {
    const rest = out.length - limit;
    out.length = limit;
    out.push({ where: `${where} · ${a.describe}`, a: `… ${rest} more`, b: "" });
  }
  return out;
}

const isInjected = (c: NotebookCell) => {
  const t = c.metadata?.tags;
  return Array.isArray(t) && t.includes(INJECTED_TAG);
};

/** Lists what differs between two executed notebooks (empty when they agree). */
export function compareNotebooks(a: NotebookJson, b: NotebookJson, options: CompareOptions = {}): Difference[] {
  const tol = options.tolerance ?? 1e-9;
  const limit = options.perOutput ?? 5;
  const out: Difference[] = [];

  const runOf = (nb: NotebookJson) =>
    ((nb.metadata?.mercury as { run?: Record<string, unknown> } | undefined)?.run ?? {}) as Record<string, unknown>;
  const [ra, rb] = [runOf(a), runOf(b)];
  const pa = (ra.parameters ?? {}) as Record<string, unknown>;
  const pb = (rb.parameters ?? {}) as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(pa), ...Object.keys(pb)])]) {
    if (JSON.stringify(pa[k]) !== JSON.stringify(pb[k])) {
      out.push({ where: `parameter ${k}`, a: JSON.stringify(pa[k] ?? null), b: JSON.stringify(pb[k] ?? null) });
    }
  }
  const ctx = (where: string, x: unknown, y: unknown) => {
    const [u, v] = [JSON.stringify(x ?? null), JSON.stringify(y ?? null)];
    if (u !== v) out.push({ where, a: u, b: v, context: true });
  };
  const ga = (ra.git ?? {}) as Record<string, unknown>;
  const gb = (rb.git ?? {}) as Record<string, unknown>;
  ctx("git commit", ga.commit, gb.commit);
  ctx("git dirty", ga.dirty, gb.dirty);
  ctx("Deno", ra.deno, rb.deno);
  ctx("deno.lock", ra.lockSha256, rb.lockSha256);
  const sa = (ra.services ?? {}) as Record<string, { version?: string; mode?: string }>;
  const sb = (rb.services ?? {}) as Record<string, { version?: string; mode?: string }>;
  for (const k of [...new Set([...Object.keys(sa), ...Object.keys(sb)])]) {
    ctx(`service ${k}`, `${sa[k]?.version} [${sa[k]?.mode}]`, `${sb[k]?.version} [${sb[k]?.mode}]`);
  }

  const code = (nb: NotebookJson) => nb.cells.filter((c) => c.cell_type === "code" && !isInjected(c));
  const [ca, cb] = [code(a), code(b)];
  if (ca.length !== cb.length) out.push({ where: "code cells", a: String(ca.length), b: String(cb.length) });
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const where = `cell ${i + 1}`;
    const oa = ((ca[i]!.outputs ?? []) as Output[]).map((o, n) => itemOf(o, n + 1));
    const ob = ((cb[i]!.outputs ?? []) as Output[]).map((o, n) => itemOf(o, n + 1));
    if (oa.length !== ob.length) {
      out.push({
        where: `${where} outputs`,
        a: oa.map((o) => o.kind).join(", ") || "none",
        b: ob.map((o) => o.kind).join(", ") || "none",
      });
    }
    for (let j = 0; j < Math.min(oa.length, ob.length); j++) {
      out.push(...compareItems(oa[j]!, ob[j]!, where, tol, limit));
    }
  }
  return out;
}

/** The report printed by `deno task nb --compare`. */
export function formatDifferences(diffs: Difference[], a: string, b: string): string {
  const real = diffs.filter((d) => !d.context);
  const context = diffs.filter((d) => d.context);
  const lines = [`A: ${a}`, `B: ${b}`];
  const show = (d: Difference) => `  ${d.where}: ${d.a}${d.b ? `  →  ${d.b}` : ""}`;
  if (context.length) lines.push("context (not counted):", ...context.map(show));
  lines.push(real.length ? `${real.length} difference${real.length === 1 ? "" : "s"}:` : "no differences in outputs");
  lines.push(...real.map(show));
  return lines.join("\n");
}
