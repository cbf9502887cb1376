/**
 * Notebook parameters, papermill-style. A code cell tagged `parameters` holds
 * the defaults as literal declarations (`const events = 60_000;`); a run with
 * other values gets a cell tagged `injected-parameters` right after it that
 * declares the same names again with the new values (the Deno kernel lets a
 * later cell redeclare a `const`). Values are typed from the defaults: an
 * integer default takes integers only, a number any finite number, a boolean
 * `true`/`false`, a string anything. Unknown names and values of the wrong
 * type are usage errors (exit 64) naming the parameter and the notebook.
 *
 * @example
 * ```ts
 * import { injectParameters, parseParameters } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * const nb = {
 *   cells: [{ cell_type: "code", metadata: { tags: ["parameters"] }, source: "const events = 3_000;\n" }],
 * };
 * assert.deepEqual(parseParameters("const events = 3_000;"), [{ name: "events", type: "integer", value: 3000 }]);
 * const injected = injectParameters(nb, { events: "12000" }, "t.ipynb");
 * assert.equal(injected.cells[1]!.source, "// Parameters injected by `deno task nb`\nconst events = 12000;\n");
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";

/** The type of a parameter, read from its default. */
export type ParameterType = "integer" | "number" | "boolean" | "string";

/** A value a parameter can hold. */
export type ParameterValue = number | boolean | string;

/** One parameter of a notebook: its name, its type and its default. */
export interface Parameter {
  name: string;
  type: ParameterType;
  value: ParameterValue;
}

/** The part of a notebook cell this module reads and writes. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
  id?: string;
  outputs?: unknown[];
  execution_count?: number | null;
  [key: string]: unknown;
}

/** The part of a notebook this module reads and writes. */
export interface NotebookJson {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Tag of the cell holding the defaults. */
export const PARAMETERS_TAG = "parameters";
/** Tag of the cell a run adds after it. */
export const INJECTED_TAG = "injected-parameters";

const source = (c: NotebookCell): string => (Array.isArray(c.source) ? c.source.join("") : c.source);
const tags = (c: NotebookCell): string[] => {
  const t = c.metadata?.tags;
  return Array.isArray(t) ? t.map(String) : [];
};

const DECLARATION =
  /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w\s|"'.]+?)?\s*=\s*(.+?)\s*;?\s*(?:\/\/.*)?$/;

/** Reads one literal: a number (with `_` separators), a quoted string, or a boolean. */
function literal(text: string): Parameter["value"] | undefined {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  if (/^-?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(e[+-]?\d+)?$/i.test(t)) return Number(t.replaceAll("_", ""));
  const q = /^(["'])((?:\\.|(?!\1).)*)\1$/.exec(t);
  if (q) {
    try {
      return JSON.parse(`"${q[2]!.replace(/\\'/g, "'").replace(/(?<!\\)"/g, '\\"')}"`) as string;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const typeOf = (v: ParameterValue): ParameterType =>
  typeof v === "boolean" ? "boolean" : typeof v === "string" ? "string" : Number.isInteger(v) ? "integer" : "number";

/** The parameters declared in a `parameters` cell: each line `const NAME = LITERAL;` (other lines are ignored). */
export function parseParameters(text: string): Parameter[] {
  const out: Parameter[] = [];
  for (const line of text.split("\n")) {
    const m = DECLARATION.exec(line);
    if (!m) continue;
    const value = literal(m[2]!);
    if (value === undefined) continue;
    const i = out.findIndex((p) => p.name === m[1]);
    const p = { name: m[1]!, type: typeOf(value), value };
    if (i >= 0) out[i] = p;
    else out.push(p);
  }
  return out;
}

/** The notebook's parameters cell (index and parameters), or undefined when it has none. */
export function findParameters(nb: NotebookJson): { index: number; parameters: Parameter[] } | undefined {
  const index = nb.cells.findIndex((c) => c.cell_type === "code" && tags(c).includes(PARAMETERS_TAG));
  if (index < 0) return undefined;
  return { index, parameters: parseParameters(source(nb.cells[index]!)) };
}

/**
 * Types a value given on the command line (a string) or in a YAML/JSON file
 * (any scalar) by the parameter's default; throws a usage error naming the
 * parameter, the notebook and the expected type.
 */
export function coerceParameter(p: Parameter, raw: unknown, where: string): ParameterValue {
  const bad = (expected: string) =>
    new MercuryError("usage", `parameter "${p.name}" of ${where} takes ${expected}, not ${JSON.stringify(raw)}`, {
      where,
      hint: `its default is ${JSON.stringify(p.value)}`,
    });
  if (p.type === "string") {
    if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") return String(raw);
    throw bad("a string");
  }
  if (p.type === "boolean") {
    if (typeof raw === "boolean") return raw;
    if (raw === "true" || raw === "false") return raw === "true";
    throw bad("true or false");
  }
  let n: number;
  if (typeof raw === "number") n = raw;
  else if (typeof raw === "string" && /^\s*-?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(e[+-]?\d+)?\s*$/i.test(raw)) {
    n = Number(raw.trim().replaceAll("_", ""));
  } else throw bad(p.type === "integer" ? "an integer" : "a number");
  if (!Number.isFinite(n)) throw bad(p.type === "integer" ? "an integer" : "a number");
  if (p.type === "integer" && !Number.isInteger(n)) throw bad("an integer");
  return n;
}

/** A value as TypeScript source. */
const toSource = (v: ParameterValue): string => (typeof v === "string" ? JSON.stringify(v) : String(v));

/**
 * Parses `-p name=value` pairs into a record; a pair without `=` is a usage error.
 */
export function parsePairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new MercuryError("usage", `-p takes name=value, not "${pair}"`, {
        where: "-p",
        hint: "e.g. -p events=1000000",
      });
    }
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Returns a copy of `nb` with a cell tagged `injected-parameters` after its
 * `parameters` cell declaring `values` (typed from the defaults), replacing an
 * injected cell a previous run left. With no values, returns the notebook
 * unchanged. Unknown names, wrong types and a notebook without a parameters
 * cell are usage errors naming `where`.
 */
export function injectParameters(nb: NotebookJson, values: Record<string, unknown>, where: string): NotebookJson {
  const names = Object.keys(values);
  if (names.length === 0) return nb;
  const found = findParameters(nb);
  if (!found) {
    throw new MercuryError("usage", `${where} has no cell tagged "parameters", so it takes no parameters`, {
      where,
      hint: `tag the cell that holds its defaults "parameters" (got: ${names.join(", ")})`,
    });
  }
  const known = new Map(found.parameters.map((p) => [p.name, p]));
  const lines = ["// Parameters injected by `deno task nb`"];
  for (const name of names) {
    const p = known.get(name);
    if (!p) {
      throw new MercuryError("usage", `unknown parameter "${name}" for ${where}`, {
        where,
        hint: `known parameters: ${found.parameters.map((q) => `${q.name}=${toSource(q.value)}`).join(", ") || "none"}`,
      });
    }
    lines.push(`const ${name} = ${toSource(coerceParameter(p, values[name], where))};`);
  }
  const cells = nb.cells.filter((c) => !tags(c).includes(INJECTED_TAG));
  const at = cells.findIndex((c) => c.cell_type === "code" && tags(c).includes(PARAMETERS_TAG));
  const injected: NotebookCell = {
    cell_type: "code",
    execution_count: null,
    id: "injected-parameters",
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    source: lines.join("\n") + "\n",
  };
  return { ...nb, cells: [...cells.slice(0, at + 1), injected, ...cells.slice(at + 1)] };
}

/** The values a run uses: the defaults overridden by the given ones (already typed). */
export function effectiveParameters(nb: NotebookJson, given: Record<string, unknown>): Record<string, ParameterValue> {
  const found = findParameters(nb);
  const out: Record<string, ParameterValue> = {};
  for (const p of found?.parameters ?? []) {
    out[p.name] = p.name in given ? coerceParameter(p, given[p.name], "notebook") : p.value;
  }
  return out;
}
