/**
 * Typed command options: how a command-line value of an {@linkcode OptionSpec}
 * of type `int`, `number`, `duration`, `list` or `enum` is read and checked,
 * with one error format for every plugin:
 * `--partitions must be an integer ≥ 1, got 'x'` (a usage error, exit 64).
 *
 * @module
 */
import { MercuryError } from "./errors.ts";
import type { OptionSpec } from "./plugin.ts";

/** A parsed option value: strings, booleans, numbers (int, number, duration in ms) and lists. */
export type OptionValue = string | boolean | number | string[] | boolean[] | number[];

type ScalarOf<S extends OptionSpec> = S["type"] extends "int" | "number" | "duration" ? number
  : S["type"] extends "list" ? string[]
  : S["type"] extends "boolean" ? boolean
  : S["type"] extends "enum" ? (S extends { choices: readonly (infer C)[] } ? C : string)
  : string;

/**
 * The values of a command's options, typed from their specs: a spec with a
 * default is always present, one without may be `undefined`.
 *
 * @example
 * ```ts
 * import { type OptionValues, parseCommandArgs } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * const options = {
 *   partitions: { type: "int", min: 1, default: 3, description: "partitions" },
 *   format: { type: "enum", choices: ["csv", "json"], description: "output format" },
 * } as const;
 * const v = parseCommandArgs({ summary: "", options, run: () => {} }, ["--format", "json"], "demo")
 *   .values as OptionValues<typeof options>;
 * const partitions: number = v.partitions;
 * const format: "csv" | "json" | undefined = v.format;
 * assert.deepEqual([partitions, format], [3, "json"]);
 * ```
 */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  -readonly [K in keyof O]:
    | (O[K] extends { multiple: true } ? (O[K]["type"] extends "list" ? string[] : ScalarOf<O[K]>[]) : ScalarOf<O[K]>)
    | (O[K] extends { default: unknown } ? never : undefined);
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads a duration as milliseconds: a number with a unit (`ms`, `s`, `m`,
 * `h`, `d`), several in a row (`1h30m`), or a bare number of milliseconds.
 * Returns `undefined` for text that is no duration.
 *
 * @example
 * ```ts
 * import { parseDuration } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDuration("250ms"), 250);
 * assert.equal(parseDuration("1.5s"), 1500);
 * assert.equal(parseDuration("1h30m"), 5_400_000);
 * assert.equal(parseDuration("400"), 400);
 * assert.equal(parseDuration("soon"), undefined);
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t));
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(n) * UNITS[unit!]!;
  return Math.round(ms);
}

/**
 * Writes milliseconds the short way `parseDuration` reads: 90000 → `1m30s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(90_000), "1m30s");
 * assert.equal(formatDuration(250), "250ms");
 * assert.equal(formatDuration(0), "0ms");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0 || !Number.isFinite(ms)) return `${ms}ms`;
  let rest = Math.round(Math.abs(ms));
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"]) {
    const n = Math.floor(rest / UNITS[unit]!);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNITS[unit]!;
  }
  return (ms < 0 ? "-" : "") + out;
}

/**
 * The type of an option as errors say it (`article: false`: as help says it).
 *
 * @example
 * ```ts
 * import { describeOptionType } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describeOptionType({ type: "int", min: 1, description: "" }), "an integer ≥ 1");
 * assert.equal(describeOptionType({ type: "duration", max: 60_000, description: "" }, false),
 *   "duration ≤ 1m (e.g. 500ms, 10s, 5m, 1h)");
 * assert.equal(describeOptionType({ type: "enum", choices: ["csv", "json"], description: "" }), "one of csv, json");
 * ```
 */
export function describeOptionType(spec: OptionSpec, article = true): string {
  const a = (s: string) => (article ? s : s.replace(/^an? /, ""));
  const show = (n: number) => (spec.type === "duration" ? formatDuration(n) : String(n));
  const range = spec.min !== undefined && spec.max !== undefined
    ? ` from ${show(spec.min)} to ${show(spec.max)}`
    : spec.min !== undefined
    ? ` ≥ ${show(spec.min)}`
    : spec.max !== undefined
    ? ` ≤ ${show(spec.max)}`
    : "";
  switch (spec.type) {
    case "int":
      return a(`an integer${range}`);
    case "number":
      return a(`a number${range}`);
    case "duration":
      return a(`a duration${range} (e.g. 500ms, 10s, 5m, 1h)`);
    case "enum":
      return `one of ${(spec.choices ?? []).join(", ")}`;
    case "list":
      return a(`a comma-separated list${spec.choices ? ` of ${spec.choices.join(", ")}` : ""}`);
    case "boolean":
      return a("a flag");
    default:
      return a("a string");
  }
}

/**
 * The placeholder of an option's value in help: `N`, `X`, `DUR`, `A,B`, `csv|json`, or its `value`.
 *
 * @example
 * ```ts
 * import { optionPlaceholder } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(optionPlaceholder({ type: "int", description: "" }), "N");
 * assert.equal(optionPlaceholder({ type: "enum", choices: ["a", "b"], description: "" }), "a|b");
 * assert.equal(optionPlaceholder({ type: "int", value: "PORT", description: "" }), "PORT");
 * ```
 */
export function optionPlaceholder(spec: OptionSpec): string {
  if (spec.value) return spec.value;
  switch (spec.type) {
    case "int":
      return "N";
    case "number":
      return "X";
    case "duration":
      return "DUR";
    case "list":
      return "A,B";
    case "enum":
      return (spec.choices ?? []).join("|");
    default:
      return "VALUE";
  }
}

/**
 * Reads one command-line value of option `--name` by its spec (numbers and
 * lists given as defaults are checked too). A value that
 * does not fit is a usage error in the one format:
 * `--name must be <type and range>, got '<value>'`.
 *
 * @example
 * ```ts
 * import { parseOptionValue } from "@mercury/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseOptionValue("partitions", { type: "int", min: 1, description: "" }, "12"), 12);
 * assert.equal(parseOptionValue("every", { type: "duration", description: "" }, "5m"), 300_000);
 * assert.deepEqual(parseOptionValue("cols", { type: "list", description: "" }, "a, b,,c"), ["a", "b", "c"]);
 * assert.throws(
 *   () => parseOptionValue("partitions", { type: "int", min: 1, description: "" }, "x"),
 *   { message: "--partitions must be an integer ≥ 1, got 'x'" },
 * );
 * ```
 */
export function parseOptionValue(
  name: string,
  spec: OptionSpec,
  raw: string | number | boolean | string[],
  commandPath?: string,
): OptionValue {
  const fail = (): never => {
    throw new MercuryError("usage", `--${name} must be ${describeOptionType(spec)}, got '${raw}'`, {
      where: commandPath ?? `--${name}`,
      hint: commandPath ? `see \`${commandPath} --help\`` : "the command's --help lists its options",
    });
  };
  const inRange = (n: number) => {
    if (!Number.isFinite(n)) fail();
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) fail();
    return n;
  };
  switch (spec.type) {
    case "int": {
      if (typeof raw === "number") return Number.isInteger(raw) ? inRange(raw) : fail();
      const t = String(raw).trim();
      if (!/^[+-]?\d+$/.test(t)) fail();
      return inRange(Number(t));
    }
    case "number": {
      if (typeof raw === "number") return inRange(raw);
      const t = String(raw).trim();
      if (t === "" || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) fail();
      return inRange(Number(t));
    }
    case "duration": {
      if (typeof raw === "number") return inRange(raw);
      const ms = parseDuration(String(raw));
      return ms === undefined ? fail() : inRange(ms);
    }
    case "enum": {
      const t = String(raw);
      return spec.choices?.includes(t) ? t : fail();
    }
    case "list": {
      const items = (Array.isArray(raw) ? raw : String(raw).split(",")).map((s) => s.trim()).filter((s) => s !== "");
      if (spec.choices && items.some((s) => !spec.choices!.includes(s))) fail();
      return items;
    }
    default:
      return raw as OptionValue;
  }
}
