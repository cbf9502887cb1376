/**
 * A notebook as a plain TypeScript module (`deno task nb:export`), so a
 * notebook becomes a job a scheduler can run with `deno run -A`. The layout is
 * jupytext's "percent" format: each cell opens with a `// %%` line, Markdown
 * cells become `//` comments, code cells stay as they are. The `parameters`
 * cell becomes command-line flags (typed from the defaults, with `--help`,
 * parsed by `@mercury/core`'s option parser: a bad value exits 64 naming the
 * flag); `display.table` and `display.chart` print text when no kernel is
 * there. A cell's bare last expression, which a kernel would display, prints
 * nothing in a script.
 *
 * @example
 * ```ts
 * import { exportNotebook } from "./export.ts";
 * import assert from "node:assert/strict";
 *
 * const ts = exportNotebook({
 *   cells: [
 *     { cell_type: "markdown", source: "# Demo" },
 *     { cell_type: "code", metadata: { tags: ["parameters"] }, source: "const n = 3; // rows" },
 *     { cell_type: "code", source: "console.log(n);" },
 *   ],
 * }, "demo");
 * assert.match(ts, /^\/\/ # Demo$/m);
 * assert.match(ts, /^const n = __flags.n as number; \/\/ rows$/m);
 * assert.match(ts, /n: \{ type: "int", default: 3, description: "rows" \}/);
 * ```
 *
 * @module
 */
import { INJECTED_TAG, type NotebookJson, PARAMETERS_TAG, parseParameters } from "./parameters.ts";

const src = (s: string | string[]) => (Array.isArray(s) ? s.join("") : s);
const tagsOf = (m: Record<string, unknown> | undefined) => (Array.isArray(m?.tags) ? (m.tags as string[]) : []);

const OPTION_TYPE = { integer: "int", number: "number", boolean: "boolean", string: "string" } as const;
const TS_TYPE = { integer: "number", number: "number", boolean: "boolean", string: "string" } as const;

/** Turns a notebook into the text of a TypeScript module runnable with `deno run -A`. */
export function exportNotebook(nb: NotebookJson, name: string): string {
  const out: string[] = [
    `// ${name}.ts — exported from notebooks/${name}.ipynb by \`deno task nb:export ${name}\`; do not edit, re-export.`,
    `// Run it from the project folder: deno run -A <this file> [--name value…] (--help lists the parameters).`,
    "// deno-lint-ignore-file",
    "// deno-fmt-ignore-file",
    'import { commandHelp as __help, type CommandSpec as __Spec, formatError as __formatError, parseCommandArgs as __parse } from "@mercury/core";',
    "",
  ];
  const paramsCell = nb.cells.find((c) => c.cell_type === "code" && tagsOf(c.metadata).includes(PARAMETERS_TAG));
  const params = paramsCell ? parseParameters(src(paramsCell.source)) : [];
  const descriptions = new Map<string, string>();
  if (paramsCell) {
    for (const line of src(paramsCell.source).split("\n")) {
      const m = /^\s*(?:const|let|var)\s+([A-Za-z_$][\w$]*)[^/]*\/\/\s*(.+)$/.exec(line);
      if (m) descriptions.set(m[1]!, m[2]!.trim());
    }
  }
  const title = nb.cells.find((c) => c.cell_type === "markdown")?.source;
  const summary = title ? src(title).split("\n")[0]!.replace(/^#+\s*/, "") : name;
  const options = params.map((p) =>
    `    ${p.name}: { type: ${JSON.stringify(OPTION_TYPE[p.type])}, default: ${JSON.stringify(p.value)}, description: ${
      JSON.stringify(descriptions.get(p.name) ?? p.name)
    } },`
  );
  out.push(
    "// Parameters as command-line flags, typed from the notebook's defaults.",
    "const __spec: __Spec = {",
    `  summary: ${JSON.stringify(`${summary} (notebook ${name} as a script)`)},`,
    "  options: {",
    ...options,
    "  },",
    "  run() {},",
    "};",
    "const __flags = (() => {",
    '  if (Deno.args.includes("-h") || Deno.args.includes("--help")) {',
    `    console.log(__help(__spec, ${JSON.stringify(`deno run -A ${name}.ts`)}));`,
    "    Deno.exit(0);",
    "  }",
    "  try {",
    `    return __parse(__spec, Deno.args, ${JSON.stringify(name)}).values;`,
    "  } catch (err) {",
    "    const { text, exitCode } = __formatError(err);",
    "    console.error(text);",
    "    Deno.exit(exitCode);",
    "  }",
    "})();",
    "",
  );
  let codeNo = 0;
  for (const [i, cell] of nb.cells.entries()) {
    const tags = tagsOf(cell.metadata);
    if (tags.includes(INJECTED_TAG)) continue;
    const text = src(cell.source).replace(/\s+$/, "");
    if (cell.cell_type === "markdown") {
      out.push(`// %% [markdown] cell ${i + 1}`, ...text.split("\n").map((l) => (l ? `// ${l}` : "//")), "");
    } else if (cell.cell_type === "code") {
      codeNo++;
      if (cell === paramsCell) {
        out.push(`// %% cell ${i + 1} — parameters (from the command line)`);
        const known = new Map(params.map((p) => [p.name, p]));
        for (const line of text.split("\n")) {
          const m = /^(\s*)(?:const|let|var)\s+([A-Za-z_$][\w$]*)\b[^=]*=\s*[^;]+;?(.*)$/.exec(line);
          const p = m ? known.get(m[2]!) : undefined;
          out.push(p ? `${m![1]}const ${p.name} = __flags.${p.name} as ${TS_TYPE[p.type]};${m![3]}` : line);
        }
        out.push("");
      } else {
        out.push(`// %% cell ${i + 1} (code cell ${codeNo})`, text, "");
      }
    }
  }
  out.push(
    "// The kernel outlived the notebook's cells; the script ends here even if a client left a socket open.",
    "Deno.exit(0);",
    "",
  );
  return out.join("\n");
}
