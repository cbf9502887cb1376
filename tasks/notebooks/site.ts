/**
 * The report site under `reports/`: besides `index.html` (every notebook with
 * status, duration, parameters and a thumbnail of its first chart, written by
 * `tasks/nb.ts`), one page per plugin in `reports/plugins/<name>.html` that
 * links its notebook's report, shows the figures of its README's numbers
 * section and the ratios recorded in its `bench/results/*.json`, and links the
 * raw results. Pages are plain HTML with inline CSS: they open offline, from
 * the file system.
 *
 * The README subset rendered is what the plugin READMEs' numbers sections
 * use — headings, paragraphs, lists, pipe tables, code spans, bold, links —
 * by a 60-line converter rather than a Markdown package, to keep the site free
 * of a new dependency; anything else shows as text.
 *
 * @module
 */
import { escapeHtml } from "@mercury/core/display";

/** What a plugin page shows. */
export interface PluginPage {
  name: string;
  title: string;
  description: string;
  /** Report page of its notebook, relative to `reports/` (undefined when not run yet). */
  report?: string;
  notebook?: string;
  status?: string;
  /** The README's numbers section, as Markdown. */
  numbers?: string;
  /** Bench result files: name, when, and the ratios found in them. */
  bench: { file: string; when?: string; ratios: [string, number][] }[];
}

/** Inline Markdown: code spans, bold, links; everything escaped. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>")
    .replace(
      /\[([^\]]+)\]\(([^)\s]+)\)/g,
      (_m, label: string, href: string) => /^(https?:|#)/.test(href) ? `<a href="${href}">${label}</a>` : label,
    );
}

/** Renders the Markdown subset READMEs' numbers sections use. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.replace(/\r/g, "").split("\n");
  let i = 0;
  const cells = (l: string) => l.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^```/.test(line)) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]!); i++) body.push(lines[i]!);
      i++;
      out.push(`<pre>${escapeHtml(body.join("\n"))}</pre>`);
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)![0].length + 1);
      out.push(`<h${level}>${inline(line.replace(/^#+\s*/, ""))}</h${level}>`);
      i++;
    } else if (/^\s*\|/.test(line) && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1] ?? "")) {
      const head = cells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && /^\s*\|/.test(lines[i]!); i++) rows.push(cells(lines[i]!));
      out.push(
        `<table><thead><tr>${head.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead><tbody>${
          rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")
        }</tbody></table>`,
      );
    } else if (/^\s*[-*]\s/.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*[-*]\s/.test(lines[i]!)) {
        let item = lines[i]!.replace(/^\s*[-*]\s/, "");
        for (i++; i < lines.length && /^\s{2,}\S/.test(lines[i]!) && !/^\s*[-*]\s/.test(lines[i]!); i++) {
          item += " " + lines[i]!.trim();
        }
        items.push(`<li>${inline(item)}</li>`);
      }
      out.push(`<ul>${items.join("")}</ul>`);
    } else if (line.trim() === "") {
      i++;
    } else {
      const para: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== "" && !/^(#|```|\s*\||\s*[-*]\s)/.test(lines[i]!)) {
        para.push(lines[i++]!);
      }
      out.push(`<p>${inline(para.join(" "))}</p>`);
    }
  }
  return out.join("\n");
}

/** The README section whose heading names numbers, benchmarks or performance (its level-2 section), if any. */
export function numbersSection(readme: string): string | undefined {
  const parts = readme.split(/^(?=## )/m);
  const hit = parts.find((p) => /^## .*(numbers|benchmark|performance|measured)/i.test(p));
  return hit?.replace(/^## [^\n]*\n/, "").trim() || undefined;
}

/** Numeric fields of a bench result whose key says ratio or speedup, with their JSON paths (at most `limit`). */
export function ratiosOf(json: unknown, limit = 12): [string, number][] {
  const out: [string, number][] = [];
  const walk = (v: unknown, path: string) => {
    if (out.length >= limit) return;
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (typeof x === "number" && /ratio|speedup|times(faster|slower)/i.test(k)) {
          if (out.length < limit) out.push([p, x]);
        } else walk(x, p);
      }
    }
  };
  walk(json, "");
  return out;
}

const STYLE =
  `body{font-family:ui-sans-serif,system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:8px 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;
vertical-align:top;font-size:13px}th{border-bottom:2px solid #444}a{color:#1565c0}code{background:#f3f3f6;padding:0 3px}
pre{background:#f6f6f8;padding:8px;overflow:auto;font-size:12px}nav a{margin-right:12px}`;

/** One plugin's page. */
export function pluginPageHtml(p: PluginPage, others: string[]): string {
  const nav = `<nav><a href="../index.html">all notebooks</a>${
    others.map((o) => `<a href="${escapeHtml(o)}.html">${escapeHtml(o)}</a>`).join("")
  }</nav>`;
  const notebook = p.report
    ? `<p>Notebook: <a href="../${escapeHtml(p.report)}">${escapeHtml(p.notebook ?? p.report)}</a> — ${
      escapeHtml(p.status ?? "")
    }</p>`
    : `<p>Notebook: ${escapeHtml(p.notebook ?? "none")} (no report yet: <code>deno task nb ${
      escapeHtml((p.notebook ?? "").replace(/^.*\//, "").replace(/\.ipynb$/, ""))
    }</code>)</p>`;
  const bench = p.bench.length
    ? p.bench.map((b) =>
      `<h3>${escapeHtml(b.file)}${b.when ? ` <small>(${escapeHtml(b.when)})</small>` : ""}</h3>${
        b.ratios.length
          ? `<table><thead><tr><th>field</th><th>ratio</th></tr></thead><tbody>${
            b.ratios.map(([k, v]) => `<tr><td><code>${escapeHtml(k)}</code></td><td>${v.toFixed(3)}</td></tr>`).join(
              "",
            )
          }</tbody></table>`
          : "<p>No ratio fields; see the raw file.</p>"
      }<p><a href="../../bench/results/${escapeHtml(b.file)}">raw results</a></p>`
    ).join("\n")
    : "<p>No recorded benchmark results.</p>";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${
    escapeHtml(p.title)
  } — Mercury</title><style>${STYLE}</style></head>
<body>${nav}
<h1>${escapeHtml(p.title)} <small style="color:#888">@mercury/${escapeHtml(p.name)}</small></h1>
<p>${escapeHtml(p.description)}</p>
${notebook}
<h2>Numbers from the README</h2>
${p.numbers ? markdownToHtml(p.numbers) : "<p>The README has no numbers section.</p>"}
<h2>Benchmark results (bench/results)</h2>
${bench}
</body></html>
`;
}

/** The part of an index entry a plugin page reads. */
export interface IndexEntry {
  notebook: string;
  status: string;
  seconds: number;
  html: string;
}

/**
 * Writes `reports/plugins/<name>.html` for every plugin the workspace has;
 * returns the plugin names (for the index's links). `write` is an atomic writer.
 */
export async function writePluginPages(
  root: string,
  reports: string,
  index: IndexEntry[],
  write: (path: string, text: string) => Promise<void>,
): Promise<string[]> {
  const { discoverPlugins } = await import("@mercury/core");
  const plugins = await discoverPlugins({ root, extra: [] });
  let benchFiles: string[] = [];
  try {
    benchFiles = [...Deno.readDirSync(`${root}/bench/results`)].filter((e) => e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch { /* no results yet */ }
  const names = plugins.map((p) => p.manifest.name).sort();
  await Deno.mkdir(`${reports}/plugins`, { recursive: true });
  for (const p of plugins) {
    const m = p.manifest;
    const dir = new URL(".", p.module).pathname;
    let readme = "";
    try {
      readme = Deno.readTextFileSync(`${dir}README.md`);
    } catch { /* no README */ }
    const nbName = m.notebook?.replace(/^.*\//, "").replace(/\.ipynb$/, "");
    const entry = index.find((e) => e.notebook === nbName);
    const bench = benchFiles.filter((f) => f === `${m.name}.json` || f.startsWith(`${m.name}_`)).map((file) => {
      let json: unknown;
      try {
        json = JSON.parse(Deno.readTextFileSync(`${root}/bench/results/${file}`));
      } catch {
        return { file, ratios: [] };
      }
      const o = json as Record<string, unknown>;
      const when = typeof o.when === "string" ? o.when : typeof o.date === "string" ? o.date : undefined;
      return { file, when, ratios: ratiosOf(json) };
    });
    const page: PluginPage = {
      name: m.name,
      title: m.title,
      description: m.description ?? "",
      notebook: m.notebook,
      report: entry?.html,
      status: entry ? `${entry.status === "ok" ? "passed" : "failed"} in ${entry.seconds.toFixed(1)} s` : undefined,
      numbers: numbersSection(readme),
      bench,
    };
    await write(`${reports}/plugins/${m.name}.html`, pluginPageHtml(page, names.filter((n) => n !== m.name)));
  }
  return names;
}
