/**
 * Option values of the `forecast` commands checked and converted: integers,
 * horizons under `--max-horizon`, interval levels, `--params` JSON and
 * algorithm names — what the typed option specs of the manifest cannot say.
 * A bad value is a usage error (exit 64) in core's one format,
 * `--windows must be an integer ≥ 1, got 'x'`.
 *
 * @module
 */
import type { CommandArgs } from "@mercury/core";
import { MercuryError } from "@mercury/core";
import { ALGORITHMS } from "../algorithms.ts";
import { createForecaster } from "../ensemble.ts";
import { MAX_HORIZON } from "../_limits.ts";

/** The option's value when it is a string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * `v` as an integer ≥ `min`, else a usage error naming `--name`.
 *
 * @example
 * ```ts
 * import { int } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(int("3", "windows"), 3);
 * assert.throws(() => int("x", "windows"), { message: "--windows must be an integer ≥ 1, got 'x'" });
 * ```
 */
export function int(v: unknown, name: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new MercuryError("usage", `--${name} must be an integer ≥ ${min}, got '${v}'`, {
      where: `--${name}`,
      hint: name === "future-periods" || name === "horizon"
        ? "a horizon of at least 1 step"
        : `pass a whole number ≥ ${min}`,
    });
  }
  return n;
}

/**
 * A horizon option (`--horizon`, `--future-periods`), at most `--max-horizon` steps.
 *
 * @example
 * ```ts
 * import { horizonOf } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(horizonOf({ horizon: "48" }, "horizon"), 48);
 * assert.throws(() => horizonOf({ horizon: "48", "max-horizon": "24" }, "horizon"), /more than the limit of 24/);
 * ```
 */
export function horizonOf(v: CommandArgs["values"], name: string, min = 1): number {
  const h = int(v[name], name, min);
  const max = int(v["max-horizon"] ?? MAX_HORIZON, "max-horizon");
  if (h > max) {
    throw new MercuryError("usage", `--${name} ${h} is more than the limit of ${max} steps`, {
      where: `--${name}`,
      hint: `forecast fewer steps, or pass --max-horizon ${h} to allow it`,
    });
  }
  return h;
}

/**
 * `--levels`: comma-separated percentages strictly between 0 and 100 (default 80,95).
 *
 * @example
 * ```ts
 * import { levelsOf } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(levelsOf("50, 99"), [50, 99]);
 * assert.deepEqual(levelsOf(undefined), [80, 95]);
 * assert.throws(() => levelsOf("100"), /--levels must be percentages between 0 and 100/);
 * ```
 */
export function levelsOf(v: unknown): number[] {
  const out = String(v ?? "80,95").split(",").map((s) => Number(s.trim()));
  for (const l of out) {
    if (!(l > 0 && l < 100)) {
      throw new MercuryError("usage", `--levels must be percentages between 0 and 100, got '${v}'`, {
        where: "--levels",
        hint: "e.g. 80,95",
      });
    }
  }
  return out;
}

/**
 * `--params`: a JSON object (absent → {}).
 *
 * @example
 * ```ts
 * import { paramsOf } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(paramsOf('{"model":"AAdA"}'), { model: "AAdA" });
 * assert.throws(() => paramsOf("[1]"), /--params must be a JSON object/);
 * ```
 */
export function paramsOf(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  try {
    const p = JSON.parse(String(v));
    if (p && typeof p === "object" && !Array.isArray(p)) return p;
  } catch { /* fall through */ }
  throw new MercuryError("usage", `--params must be a JSON object, got '${v}'`, {
    where: "--params",
    hint: `e.g. --params '{"model":"AAdA"}'`,
  });
}

/** A registered algorithm's name (aliases resolved) or `ensemble`; an unknown name throws listing the known ones. */
export function checkAlgorithm(name: string): string {
  if (name === "ensemble") return name;
  return ALGORITHMS.get(name) ? name : createForecaster(name).algorithm; // throws with the list on unknown names
}
