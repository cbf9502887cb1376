/**
 * The expectation types the engine knows: GX Core's built-ins plus any a
 * TypeScript module registers with {@linkcode registerExpectation}.
 *
 * @example Registering a custom expectation type
 * ```ts
 * import { registerExpectation, getDefinition } from "@mercury/quality";
 * import assert from "node:assert/strict";
 *
 * registerExpectation({
 *   kind: "map",
 *   type: "expect_column_values_to_be_even",
 *   args: { column: { type: "string", required: true }, mostly: { type: "number" } },
 *   predicate: (kw, ctx) => `${ctx.col(kw.column)} % 2 <> 0`,
 * });
 * assert.equal(getDefinition("expect_column_values_to_be_even").kind, "map");
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { BUILTIN } from "./catalog.ts";
import type { ExpectationDefinition } from "./definition.ts";

const custom = new Map<string, ExpectationDefinition>();

/** Adds an expectation type (a custom one, or a replacement of a built-in). */
export function registerExpectation(def: ExpectationDefinition): void {
  if (!/^[a-z][a-z0-9_]*$/.test(def.type)) {
    throw new MercuryError("usage", `an expectation type name must be snake_case, got "${def.type}"`);
  }
  custom.set(def.type, def);
}

/** Every known type name, sorted. */
export function expectationTypes(): string[] {
  return [...new Set([...BUILTIN.keys(), ...custom.keys()])].sort();
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `word` by edit distance, when it is near enough to suggest. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined, d = Infinity;
  for (const c of candidates) {
    const x = distance(word.toLowerCase(), c.toLowerCase());
    if (x < d) [best, d] = [c, x];
  }
  return d <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** The closest known type name to `name`, for "did you mean …". */
export function closestType(name: string): string | undefined {
  let best: string | undefined, d = Infinity;
  for (const t of expectationTypes()) {
    const x = distance(name, t);
    if (x < d) [best, d] = [t, x];
  }
  return d <= Math.max(3, Math.floor(name.length / 4)) ? best : undefined;
}

/** The definition of a type; an unknown type is a `usage` error with a suggestion. */
export function getDefinition(type: string, where?: string): ExpectationDefinition {
  const def = custom.get(type) ?? BUILTIN.get(type);
  if (def) return def;
  const near = closestType(type);
  throw new MercuryError("usage", `unknown expectation type "${type}"`, {
    where,
    hint: near ? `did you mean "${near}"?` : "see the list in plugins/quality/README.md",
  });
}
