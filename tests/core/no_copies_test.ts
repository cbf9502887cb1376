/**
 * Guards issue 15 item 2: what core offers (`@mercury/core/sql`, `…/random`,
 * `…/html`, `…/retry`, `…/signal`, typed options) has no copy in plugins/,
 * tasks/, bench/ or the notebooks. Each rule names the core helper to use instead.
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";

interface Rule {
  what: string;
  use: string;
  pattern: RegExp;
  /** Lines that match but are something else (e.g. CSV quoting). */
  unless?: RegExp;
  /** Only files whose path (from the root) matches. */
  paths?: RegExp;
}

const RULES: Rule[] = [
  {
    what: "SQL literal quoting",
    use: "quoteLiteral from @mercury/core/sql",
    pattern: /replace(All)?\((\/'\/g|"'"), "''"\)/,
  },
  {
    what: "SQL identifier quoting",
    use: "quoteIdent from @mercury/core/sql",
    pattern: /`"\$\{[^}]*replace(All)?\((\/"\/g|'"'), '""'\)\}"`/,
    unless: /\.test\(/, // CSV fields quoted only when they need it
  },
  { what: "a mulberry32 generator", use: "seededRandom from @mercury/core/random", pattern: /0x6d2b79f5/i },
  { what: "an HTML escaper", use: "escapeHtml from @mercury/core/html", pattern: /"&amp;"|&amp;"\)/ },
  { what: "a hand-rolled retry loop", use: "retry from @mercury/core/retry", pattern: /for \(let attempt\b/ },
  {
    what: "a signal listener",
    use: "untilSignal/onSignal from @mercury/core/signal",
    pattern: /Deno\.addSignalListener/,
  },
  {
    what: "a local option parser",
    use: "typed options (type: int/number/duration/list/enum) in the OptionSpec",
    pattern: /(const|function) (str|int|num)\b\s*(=\s*)?\(v: unknown/,
    paths: /\/commands(\.ts$|\/)/,
  },
];

/** The .ts files (and notebooks) under `dir`, recursively. */
async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "node_modules") yield* tsFiles(path);
    else if (e.isFile && (e.name.endsWith(".ts") || e.name.endsWith(".ipynb"))) yield path;
  }
}

Deno.test("no plugin, task, bench or notebook holds a copy of a helper that core offers", async () => {
  const found: string[] = [];
  for (const dir of ["plugins", "tasks", "bench", "notebooks"]) {
    for await (const path of tsFiles(`${ROOT}/${dir}`)) {
      const rel = path.slice(ROOT.length + 1);
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((line, i) => {
        for (const rule of RULES.filter((r) => !r.paths || r.paths.test(rel))) {
          if (rule.pattern.test(line) && !rule.unless?.test(line)) {
            found.push(`${rel}:${i + 1}: ${rule.what}; use ${rule.use}`);
          }
        }
      });
    }
  }
  assert.deepEqual(found, []);
});
